/**
 * scripts/build.mjs (what every npm script runs first) compiles only when a
 * source changed, never deletes the build under a running server, and
 * removes the outputs of deleted sources. Run on a small project of its own
 * in a temp dir, so the suite's own build/ is never touched.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { tempDir } from '../helpers.js';

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD = join(REPOSITORY, 'scripts', 'build.mjs');

function build(project: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [BUILD, project], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: result.stdout + result.stderr };
}

t.test('compiles once, skips when nothing changed, restores a deleted output, prunes outputs of deleted sources, stops on a type error', async (t) => {
  const project = await tempDir(t);
  const tsconfig = JSON.parse(await readFile(join(REPOSITORY, 'tsconfig.json'), 'utf8'));
  // The repository's settings, without Node's type declarations (these sources use none): each compile here takes half the time.
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, types: [] }, include: ['server', 'test'] }));
  await writeFile(join(project, 'package.json'), '{"type": "module"}');
  await symlink(join(REPOSITORY, 'node_modules'), join(project, 'node_modules'));
  await mkdir(join(project, 'server'));
  await mkdir(join(project, 'test'));
  await writeFile(join(project, 'server', 'a.ts'), 'export const a: number = 1;\n');
  await writeFile(join(project, 'server', 'b.ts'), 'export const b: string = "b";\n');
  await writeFile(join(project, 'test', 'c.test.ts'), 'import { a } from "../server/a.js";\nexport const c = a + 1;\n');

  t.equal(build(project).status, 0, 'first build');
  const output = join(project, 'build', 'server', 'a.js');
  t.match(await readFile(output, 'utf8'), 'export const a = 1;');
  t.ok(existsSync(join(project, 'build', 'test', 'c.test.js')));

  const compiledAt = (await stat(output)).mtimeMs;
  const infoAt = (await stat(join(project, 'build', '.tsbuildinfo'))).mtimeMs;
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(build(project).status, 0, 'nothing changed');
  t.equal((await stat(output)).mtimeMs, compiledAt, 'no output rewritten');
  t.equal((await stat(join(project, 'build', '.tsbuildinfo'))).mtimeMs, infoAt, 'the compiler did not run');

  await unlink(output);
  t.equal(build(project).status, 0, 'an output deleted by hand');
  t.match(await readFile(output, 'utf8'), 'export const a = 1;', 'comes back, though no source changed');

  await unlink(join(project, 'server', 'b.ts'));
  await unlink(join(project, 'test', 'c.test.ts'));
  t.equal(build(project).status, 0, 'after deleting two sources');
  t.notOk(existsSync(join(project, 'build', 'server', 'b.js')), 'output of a deleted module removed');
  t.notOk(existsSync(join(project, 'build', 'server', 'b.js.map')), 'with its source map');
  t.notOk(existsSync(join(project, 'build', 'test', 'c.test.js')), 'a deleted test never runs again');
  t.ok(existsSync(output), 'the other outputs stay');

  await writeFile(join(project, 'server', 'a.ts'), 'export const a: number = "not a number";\n');
  const failed = build(project);
  t.not(failed.status, 0, 'a type error fails the build');
  t.match(failed.output, 'TS2322');
  t.not(build(project).status, 0, 'and keeps failing: a failed build is never stamped as up to date');

  await writeFile(join(project, 'server', 'a.ts'), 'export const a: number = 2;\n');
  t.equal(build(project).status, 0, 'fixed');
  t.match(await readFile(output, 'utf8'), 'export const a = 2;', 'the change is compiled');
});
