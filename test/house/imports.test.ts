/**
 * The house's shape, checked from the sources themselves (CONTRIBUTING.md):
 * imports run one way, protocol <- domain <- database <- app <- server <- cli
 * (and meter -> protocol; the dashboard's modules import only each other); the pure layers touch no sockets, files,
 * processes, logging or SQL; no file imports itself around a circle.
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { importCycles, importsAgainstTheArrows, impureImports, readSources, type SourceFile } from './import-graph.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const sources = readSources(ROOT);

t.test('every layer has its sources', async (t) => {
  for (const layer of ['protocol', 'domain', 'database', 'app', 'server', 'cli', 'meter', 'dashboard']) t.ok(sources.some((file) => file.layer === layer), `${layer}/ has sources`);
});

t.test('imports run one way, down the layers', async (t) => {
  t.same(importsAgainstTheArrows(sources), [], 'no import runs against the arrows');
});

t.test('protocol/ and domain/ are pure', async (t) => {
  t.same(impureImports(sources), [], 'no sockets, files, processes, logging or SQL below database/');
});

t.test('no import cycles', async (t) => {
  t.same(importCycles(sources), [], 'no file reaches itself through its imports');
});

// The checks themselves: each catches what it is for, on a small made-up graph.
t.test('the checks catch what they are for', async (t) => {
  const file = (path: string, imports: string[] = [], modules: string[] = []): SourceFile => ({ path, layer: path.split('/')[0] as SourceFile['layer'], imports, modules });
  const graph = [
    file('protocol/a.ts'),
    file('domain/b.ts', ['protocol/a.ts', 'database/c.ts']),
    file('database/c.ts', ['domain/b.ts']),
    file('app/d.ts', ['server/e.ts']),
    file('server/e.ts', ['app/d.ts', 'meter/f.ts']),
    file('meter/f.ts', ['domain/b.ts']),
    file('cli/g.ts', ['meter/f.ts', 'server/e.ts']),
    file('domain/h.ts', [], ['node:fs', 'node:crypto']),
    file('app/i.ts', ['app/i.ts']),
    file('dashboard/j.ts', ['dashboard/k.ts', 'protocol/a.ts']),
    file('dashboard/k.ts'),
    file('server/l.ts', ['dashboard/k.ts']),
  ];
  t.same(importsAgainstTheArrows(graph), [
    'domain/b.ts (domain) imports database/c.ts (database)',
    'app/d.ts (app) imports server/e.ts (server)',
    'server/e.ts (server) imports meter/f.ts (meter)',
    'meter/f.ts (meter) imports domain/b.ts (domain)',
    'dashboard/j.ts (dashboard) imports protocol/a.ts (protocol)',
    'server/l.ts (server) imports dashboard/k.ts (dashboard)',
  ]);
  t.same(impureImports(graph), ['domain/h.ts imports node:fs']);
  t.same(importCycles(graph).sort(), [['app/d.ts', 'server/e.ts'], ['app/i.ts'], ['database/c.ts', 'domain/b.ts']]);
});
