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
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(fileURLToPath(import.meta.url), '..', '..'));
/** The server's project, and the dashboard's (browser modules, DOM types) when the repository has one. */
const projects = ['tsconfig.json', join('dashboard', 'tsconfig.json')]
  .map((name) => join(root, name))
  .filter(existsSync)
  .map((tsconfigPath) => {
    const dir = dirname(tsconfigPath);
    const { compilerOptions, include } = JSON.parse(readFileSync(tsconfigPath, 'utf8'));
    const outDir = join(dir, compilerOptions.outDir);
    return { tsconfigPath, dir, include, outDir, buildInfo: join(outDir, '.tsbuildinfo') };
  });
const stampPath = join(projects[0].outDir, '.fontes');
/** What tsc emits for one source file. */
const OUTPUT_SUFFIXES = ['.js', '.js.map', '.d.ts', '.d.ts.map'];

/** A project's sources, by path, under the directories its tsconfig includes. */
function* sources(project) {
  for (const included of project.include) {
    const full = join(project.dir, included);
    if (existsSync(full)) for (const path of files(full)) if (path.endsWith('.ts')) yield path;
  }
}

/** Where tsc writes a source's JavaScript. */
const outputOf = (project, source) => join(project.outDir, relative(project.dir, source)).replace(/\.ts$/, '.js');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Every source (and the settings that shape the output), with size and modification time. */
function fingerprint() {
  const parts = [join(root, 'package.json'), ...projects.map((project) => project.tsconfigPath)].filter(existsSync).map((path) => describe(path));
  for (const project of projects) for (const path of sources(project)) parts.push(describe(path));
  return createHash('sha256').update(parts.sort().join('\n')).digest('hex');
}

function describe(path) {
  const stat = statSync(path);
  return `${relative(root, path)}:${stat.size}:${stat.mtimeMs}`;
}

const before = fingerprint();
const complete = (project) => [...sources(project)].every((source) => source.endsWith('.d.ts') || existsSync(outputOf(project, source)));
if (projects.every(complete) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === before) process.exit(0);

const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
// The projects compile at once (the dashboard's is independent of the server's): on two cores a clean build takes the longer one's time, not the sum.
const statuses = await Promise.all(
  projects.map((project) => {
    // tsc's incremental state knows sources, not outputs: an output deleted by hand would never come back.
    if (!complete(project)) rmSync(project.buildInfo, { force: true });
    const compiling = spawn(process.execPath, [tsc, '-p', project.tsconfigPath, '--incremental', '--tsBuildInfoFile', project.buildInfo], { stdio: 'inherit', cwd: root });
    return new Promise((resolve) => compiling.on('close', (code) => resolve(code ?? 1)));
  }),
);
const failed = statuses.find((status) => status !== 0);
if (failed !== undefined) process.exit(failed);

for (const project of projects) {
  // Outputs whose source is gone (a renamed or deleted module or test).
  const built = project.dir === root ? project.include.map((included) => join(project.outDir, included)) : [project.outDir];
  for (const dir of built) {
    if (!existsSync(dir)) continue;
    for (const path of files(dir)) {
      const suffix = OUTPUT_SUFFIXES.find((end) => path.endsWith(end));
      if (suffix === undefined) continue;
      const source = join(project.dir, relative(project.outDir, path.slice(0, -suffix.length))) + '.ts';
      if (!existsSync(source)) rmSync(path);
    }
  }
}
// Stamped with what was compiled: a source saved during the compile is seen next time.
writeFileSync(stampPath, before);
