/**
 * scrypt on a thread of its own (password-worker.ts), for the API's
 * password checks: libuv's thread pool (4 threads) is shared by crypto.scrypt
 * and the file store's writes, so a flood of logins there would delay the
 * fsync that acknowledges readings. One thread: a check takes tens of ms,
 * and a second would take the event loop's core on a 2-core machine.
 */
import { Worker } from 'node:worker_threads';
import type { Kdf } from '../../domain/auth/password.js';

export class PasswordHasher {
  /** Started by the first check: a server whose API never sees a password starts no thread (a thread costs ~60 ms of CPU). */
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (key: Buffer) => void; reject: (error: Error) => void }>();
  private closed = false;

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    // Plain: it needs no loader or flag of the parent's (a test runner's would make it start slowly).
    const worker = new Worker(new URL('./password-worker.js', import.meta.url), { execArgv: [] });
    worker.on('message', (answer: { id: number; key?: Uint8Array; error?: string }) => {
      const waiter = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.key !== undefined) waiter?.resolve(Buffer.from(answer.key.buffer, answer.key.byteOffset, answer.key.byteLength));
      else waiter?.reject(new Error(answer.error ?? 'scrypt failed'));
      // An idle hasher never keeps the process alive.
      if (this.pending.size === 0) worker.unref();
    });
    // A thread that died is replaced by the next check.
    worker.on('error', (error) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(error);
    });
    this.worker = worker;
    return worker;
  }

  /** The KDF domain/password.ts runs: scrypt with these parameters, on the hasher's thread. */
  readonly kdf: Kdf = (password, salt, options, length) => {
    if (this.closed) return Promise.reject(new Error('the password hasher is closed'));
    const worker = this.started();
    const id = this.nextId++;
    worker.ref();
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, password, salt, ...options, length });
    });
  };

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the password hasher is closed'));
    await this.worker?.terminate();
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
