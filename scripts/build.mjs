#!/usr/bin/env node
/**
 * Compiles the TypeScript only when a source changed: every npm script runs
 * this first. Plain JavaScript, because it runs before anything is compiled.
 *
 * - Up to date (same files, sizes and modification times as the last good
 *   build): exits at once, in a few milliseconds.
 * - Otherwise: `tsc` incrementally (build/.tsbuildinfo), writing files in
 *   place (never deleting build/ under a running server), then removes the
 *   outputs whose source is gone, so a deleted test never runs again.
 *
 * Usage: node scripts/build.mjs [project directory]   (default: this repository)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(fileURLToPath(import.meta.url), '..', '..'));
const tsconfigPath = join(root, 'tsconfig.json');
const tsconfig = JSON.parse(readFileSync(tsconfigPath, 'utf8'));
const outDir = join(root, tsconfig.compilerOptions.outDir);
const stampPath = join(outDir, '.fontes');
/** What tsc emits for one source file. */
const OUTPUT_SUFFIXES = ['.js', '.js.map', '.d.ts', '.d.ts.map'];

/** Sources, by path, under the directories tsconfig includes. */
function* sources() {
  for (const dir of tsconfig.include) {
    const full = join(root, dir);
    if (existsSync(full)) for (const path of files(full)) if (path.endsWith('.ts')) yield path;
  }
}

/** Where tsc writes a source's JavaScript. */
const outputOf = (source) => join(outDir, relative(root, source)).replace(/\.ts$/, '.js');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Every source (and the settings that shape the output), with size and modification time. */
function fingerprint() {
  const parts = [tsconfigPath, join(root, 'package.json')].filter(existsSync).map((path) => describe(path));
  for (const path of sources()) parts.push(describe(path));
  return createHash('sha256').update(parts.sort().join('\n')).digest('hex');
}

function describe(path) {
  const stat = statSync(path);
  return `${relative(root, path)}:${stat.size}:${stat.mtimeMs}`;
}

const before = fingerprint();
const buildInfo = join(outDir, '.tsbuildinfo');
const outputsComplete = [...sources()].every((source) => source.endsWith('.d.ts') || existsSync(outputOf(source)));
if (outputsComplete && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === before) process.exit(0);
// tsc's incremental state knows sources, not outputs: an output deleted by hand would never come back.
if (!outputsComplete) rmSync(buildInfo, { force: true });

const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', tsconfigPath, '--incremental', '--tsBuildInfoFile', buildInfo], { stdio: 'inherit', cwd: root });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

// Outputs whose source is gone (a renamed or deleted module or test).
for (const dir of tsconfig.include) {
  const built = join(outDir, dir);
  if (!existsSync(built)) continue;
  for (const path of files(built)) {
    const suffix = OUTPUT_SUFFIXES.find((end) => path.endsWith(end));
    if (suffix === undefined) continue;
    const source = join(root, relative(outDir, path.slice(0, -suffix.length))) + '.ts';
    if (!existsSync(source)) rmSync(path);
  }
}
// Stamped with what was compiled: a source saved during the compile is seen next time.
writeFileSync(stampPath, before);
