/**
 * The house's import graph, read from the sources (not a hand-kept list):
 * which layer each file is in, what it imports, and the cycles among files.
 * Used by test/house/imports.test.ts; see CONTRIBUTING.md for the layers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** The layers, lowest first: a file may import its own layer and those below it. */
export const LAYERS = ['protocol', 'domain', 'database', 'app', 'server', 'cli'] as const;
/** The clients beside the layers, and what each may import: the simulated meter the wire formats only, the dashboard (browser modules over the HTTP API) nothing but itself. */
export const CLIENTS = { meter: ['meter', 'protocol'], dashboard: ['dashboard'] } as const satisfies Record<string, readonly string[]>;
export type Client = keyof typeof CLIENTS;
export type Layer = (typeof LAYERS)[number] | Client;
const isClient = (layer: Layer): layer is Client => layer in CLIENTS;
/** Packages and built-ins the pure layers may not use: sockets, files, processes, logging, SQL. */
export const IMPURE_MODULES = ['node:net', 'node:dgram', 'node:http', 'node:https', 'node:fs', 'node:fs/promises', 'node:child_process', 'node:worker_threads', 'pino', 'pg'];

export interface SourceFile {
  /** Path from the repository root, e.g. `domain/billing/cycle.ts`. */
  readonly path: string;
  readonly layer: Layer;
  /** Other sources this one imports (repository paths). */
  readonly imports: readonly string[];
  /** Packages and built-ins it imports (`node:fs`, `zod`). */
  readonly modules: readonly string[];
}

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s*'([^']+)'|(?:^|\n)\s*import\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** Every source file under the layers' and the clients' folders, with its imports. */
export function readSources(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  for (const top of [...LAYERS, ...(Object.keys(CLIENTS) as Client[])]) {
    for (const full of walk(join(root, top))) {
      const path = relative(root, full).split('\\').join('/');
      const text = readFileSync(full, 'utf8');
      const imports: string[] = [];
      const modules: string[] = [];
      for (const match of text.matchAll(SPECIFIER)) {
        const specifier = (match[1] ?? match[2] ?? match[3]) as string;
        if (specifier.startsWith('.')) imports.push(normalize(join(dirname(path), specifier)).split('\\').join('/').replace(/\.js$/, '.ts'));
        else modules.push(specifier);
      }
      files.push({ path, layer: top, imports, modules });
    }
  }
  return files;
}

/** The imports that run against the arrows: up a layer, from a client to what it may not use, or into a client (only cli/ runs the meter). */
export function importsAgainstTheArrows(files: readonly SourceFile[]): string[] {
  const layerOf = new Map(files.map((file) => [file.path, file.layer]));
  const rank = (layer: Layer): number => (isClient(layer) ? -1 : LAYERS.indexOf(layer));
  const wrong: string[] = [];
  for (const file of files) {
    for (const target of file.imports) {
      const layer = layerOf.get(target);
      if (layer === undefined) {
        wrong.push(`${file.path} imports ${target}, which is not a source of a layer`);
        continue;
      }
      const allowed = isClient(file.layer) ? (CLIENTS[file.layer] as readonly Layer[]).includes(layer) : isClient(layer) ? layer === 'meter' && file.layer === 'cli' : rank(layer) <= rank(file.layer);
      if (!allowed) wrong.push(`${file.path} (${file.layer}) imports ${target} (${layer})`);
    }
  }
  return wrong;
}

/** Pure layers (protocol/, domain/) importing sockets, files, processes, logging or SQL. */
export function impureImports(files: readonly SourceFile[]): string[] {
  return files.filter((file) => file.layer === 'protocol' || file.layer === 'domain').flatMap((file) => file.modules.filter((module) => IMPURE_MODULES.includes(module)).map((module) => `${file.path} imports ${module}`));
}

/** The import cycles among files (strongly connected components of more than one file, or a file importing itself), each sorted. */
export function importCycles(files: readonly SourceFile[]): string[][] {
  const edges = new Map(files.map((file) => [file.path, file.imports]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  // Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; edge: number }> = [{ node: start, edge: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; edge: number };
      const targets = edges.get(frame.node) ?? [];
      if (frame.edge < targets.length) {
        const target = targets[frame.edge++] as string;
        if (!edges.has(target)) continue;
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, edge: 0 });
        } else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(target) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1 || targets.includes(frame.node)) cycles.push(component.sort());
      }
    }
  }
  return cycles;
}
