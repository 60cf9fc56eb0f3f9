/**
 * The dashboard: static files from resources/painel, read once at start-up
 * and served from memory (`/` is its page). Nothing is fetched from
 * elsewhere at run time: the page's script and chart are our own.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Route } from '../router.js';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../../resources/painel/', import.meta.url));

const FILES: ReadonlyArray<{ readonly path: string; readonly file: string; readonly contentType: string }> = [
  { path: '/', file: 'index.html', contentType: 'text/html; charset=utf-8' },
  { path: '/painel.js', file: 'painel.js', contentType: 'text/javascript; charset=utf-8' },
  { path: '/painel.css', file: 'painel.css', contentType: 'text/css; charset=utf-8' },
];

const HEADERS = [
  // Revalidated on every load: a new server version shows at once.
  ['Cache-Control', 'no-cache'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'"],
] as const;

export async function dashboardRoutes(directory = DASHBOARD_DIR): Promise<Route[]> {
  return Promise.all(
    FILES.map(async ({ path, file, contentType }) => {
      const text = await readFile(`${directory}${file}`, 'utf8');
      return { path, handlers: { GET: async () => ({ status: 200, text, contentType, headers: HEADERS }) } };
    }),
  );
}
