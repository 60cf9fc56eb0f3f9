/**
 * The dashboard: its page and style from resources/painel, and its modules
 * as tsc compiled them from dashboard/ (build/dashboard), read once at
 * start-up and served from memory (`/` is its page, `/painel/<module>.js`
 * its modules). Nothing is fetched from elsewhere at run time.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Route, RouteInput } from '../http/router.js';

/** The page and its style. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../resources/painel/', import.meta.url));
/** The compiled modules (scripts/build.mjs compiles dashboard/ there). */
export const DASHBOARD_MODULES_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

const HTML_TYPE = 'text/html; charset=utf-8';
const CSS_TYPE = 'text/css; charset=utf-8';
const JS_TYPE = 'text/javascript; charset=utf-8';
/** Where the modules are served: index.html loads `/painel/main.js`, which imports the others beside it. */
const MODULES_PATH = '/painel/';
const STYLE_PATH = '/painel.css';

/** Whether a route is one of the dashboard's script and style files: served as they are, not part of the API (nor of its OpenAPI document). */
export function isDashboardAsset(path: string): boolean {
  return path === STYLE_PATH || (path.startsWith(MODULES_PATH) && path.endsWith('.js'));
}

const HEADERS = [
  // Revalidated on every load: a new server version shows at once.
  ['Cache-Control', 'no-cache'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'"],
] as const;

/** Whether an If-None-Match field value names this entity tag (RFC 9110 §13.1.2: weak comparison, `*` matches). */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

interface DashboardFile {
  readonly path: string;
  readonly file: string;
  readonly contentType: string;
}

async function dashboardFiles(pageDir: string, modulesDir: string): Promise<DashboardFile[]> {
  const modules = (await readdir(modulesDir)).filter((name) => name.endsWith('.js')).sort();
  if (!modules.includes('main.js')) throw new Error(`the dashboard's modules are not built in ${modulesDir} (npm run build compiles them)`);
  return [
    { path: '/', file: `${pageDir}index.html`, contentType: HTML_TYPE },
    { path: STYLE_PATH, file: `${pageDir}painel.css`, contentType: CSS_TYPE },
    ...modules.map((name) => ({ path: `${MODULES_PATH}${name}`, file: `${modulesDir}${name}`, contentType: JS_TYPE })),
  ];
}

export async function dashboardRoutes(pageDir = DASHBOARD_DIR, modulesDir = DASHBOARD_MODULES_DIR): Promise<Route[]> {
  return Promise.all(
    (await dashboardFiles(pageDir, modulesDir)).map(async ({ path, file, contentType }) => {
      const text = await readFile(file, 'utf8');
      const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 22)}"`;
      const headers = [...HEADERS, ['ETag', etag] as const];
      return {
        path,
        handlers: {
          // A revalidation with the tag the browser holds costs no body (RFC 9110 §15.4.5).
          GET: async (input: RouteInput) =>
            matchesEtag(input.request.head.headers.get('if-none-match'), etag) ? { status: 304, text: '', contentType, headers } : { status: 200, text, contentType, headers },
        },
      };
    }),
  );
}
