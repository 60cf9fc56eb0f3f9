/**
 * The thread that computes scrypt for password checks (password-hasher.ts):
 * off the event loop and off libuv's thread pool, which the stores' file
 * writes use. One request at a time, answered by id.
 */
import { scryptSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

interface Job {
  readonly id: number;
  readonly password: string;
  readonly salt: Uint8Array;
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly maxmem: number;
  readonly length: number;
}

parentPort?.on('message', (job: Job) => {
  try {
    const key = scryptSync(job.password, job.salt, job.length, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem });
    parentPort?.postMessage({ id: job.id, key });
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: (error as Error).message });
  }
});
