/** tap's `after` (package.json): stops the run's shared PostgreSQL (test/postgres-run.ts) and waits until it is gone. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { SHARED_POSTGRES_STATE } from './postgres.js';

const STOP_LIMIT_MS = 30_000;

if (existsSync(SHARED_POSTGRES_STATE)) {
  const { pid } = JSON.parse(readFileSync(SHARED_POSTGRES_STATE, 'utf8')) as { pid: number };
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (alive()) process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + STOP_LIMIT_MS;
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  rmSync(SHARED_POSTGRES_STATE, { force: true });
}
