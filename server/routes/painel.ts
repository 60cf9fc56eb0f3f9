/**
 * The dashboard: static files from resources/painel, read once at start-up
 * and served from memory (`/` is its page). Nothing is fetched from
 * elsewhere at run time: the page's script and chart are our own.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Route, RouteInput } from '../http/router.js';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../../resources/painel/', import.meta.url));

const FILES: ReadonlyArray<{ readonly path: string; readonly file: string; readonly contentType: string }> = [
  { path: '/', file: 'index.html', contentType: 'text/html; charset=utf-8' },
  { path: '/painel.js', file: 'painel.js', contentType: 'text/javascript; charset=utf-8' },
  { path: '/grafico.js', file: 'grafico.js', contentType: 'text/javascript; charset=utf-8' },
  { path: '/painel.css', file: 'painel.css', contentType: 'text/css; charset=utf-8' },
];

/** The dashboard's script and style files: served as they are, not part of the API (nor of its OpenAPI document). */
export const DASHBOARD_ASSET_PATHS: ReadonlySet<string> = new Set(FILES.map((file) => file.path).filter((path) => path !== '/'));

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

export async function dashboardRoutes(directory = DASHBOARD_DIR): Promise<Route[]> {
  return Promise.all(
    FILES.map(async ({ path, file, contentType }) => {
      const text = await readFile(`${directory}${file}`, 'utf8');
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
