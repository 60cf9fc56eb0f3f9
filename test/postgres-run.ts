/**
 * tap's `before` (package.json): one embedded PostgreSQL for the whole run,
 * shared by the test files that need one (each works in schemas of its own;
 * test/postgres.ts). Started in a detached keeper process, since this one
 * ends before the tests start; waits until it answers.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHARED_POSTGRES_STATE } from './postgres.js';

const KEEPER = fileURLToPath(new URL('./postgres-keeper.js', import.meta.url));
const STARTUP_LIMIT_MS = 120_000;

if (process.env.DATABASE_URL === undefined) {
  const keeper = spawn(process.execPath, [KEEPER, SHARED_POSTGRES_STATE, String(process.ppid)], { detached: true, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  keeper.unref();
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  while (!existsSync(SHARED_POSTGRES_STATE) || (JSON.parse(readFileSync(SHARED_POSTGRES_STATE, 'utf8')) as { pid: number }).pid !== keeper.pid) {
    if (Date.now() > deadline || keeper.exitCode !== null) {
      process.stderr.write('the shared test PostgreSQL did not start: each test file starts its own\n');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
