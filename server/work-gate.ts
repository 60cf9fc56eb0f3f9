/**
 * A bound on work of one kind running at once (password hashing, heavy
 * requests): past `maxRunning`, callers wait in order; past `maxWaiting`
 * waiting, they are refused with 429 `muitas_requisicoes` at once.
 */
import { tooManyRequests } from './http/http-error.js';

export class WorkGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) throw tooManyRequests(1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line.
      if (next === undefined) this.running--;
      else next();
    }
  }

  /** Work running and waiting now (metrics, tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
