/**
 * A bound on expensive work running at once (heavy requests, password
 * hashing), shared fairly between principals: a customer, the operator, or
 * an anonymous source address. Past `maxRunning`, work waits in its
 * principal's own queue, and a freed slot goes to the next principal in
 * turn (round robin), never to whoever queued most: one principal's backlog
 * delays another's request by about one piece of work at most. Each
 * principal holds at most `maxPerKey` pieces (running and waiting); past it,
 * and past `maxWaiting` in all, work is refused at once with 429
 * `muitas_requisicoes` and `Retry-After`.
 */
import { tooManyRequests } from './http/http-error.js';

interface Waiting {
  readonly start: () => void;
}

export class FairGate {
  private running = 0;
  private waitingCount = 0;
  /** Per principal: pieces in progress (running or waiting), and the ones waiting, oldest first. */
  private readonly principals = new Map<string, { inProgress: number; readonly waiting: Waiting[] }>();
  /** Principals with work waiting, in the order their turn comes. */
  private readonly turns: string[] = [];

  constructor(
    private readonly maxRunning: number,
    private readonly maxPerKey: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let principal = this.principals.get(key);
    if (principal === undefined) this.principals.set(key, (principal = { inProgress: 0, waiting: [] }));
    if (principal.inProgress >= this.maxPerKey) throw tooManyRequests(1);
    if (this.running >= this.maxRunning && this.waitingCount >= this.maxWaiting) throw tooManyRequests(1);
    principal.inProgress++;
    if (this.running < this.maxRunning) this.running++;
    else {
      this.waitingCount++;
      if (principal.waiting.length === 0) this.turns.push(key);
      const queue = principal.waiting;
      // The slot is handed over already counted in `running` (release()).
      await new Promise<void>((resolve) => queue.push({ start: resolve }));
    }
    try {
      return await work();
    } finally {
      this.release(key);
    }
  }

  /** Work running and waiting now, and principals known (metrics, tests). */
  get load(): { running: number; waiting: number; principals: number } {
    return { running: this.running, waiting: this.waitingCount, principals: this.principals.size };
  }

  private release(key: string): void {
    const principal = this.principals.get(key);
    if (principal !== undefined && --principal.inProgress === 0) this.principals.delete(key);
    const next = this.turns.shift();
    if (next === undefined) {
      this.running--;
      return;
    }
    const queue = this.principals.get(next)?.waiting as Waiting[];
    const waiter = queue.shift() as Waiting;
    // Still waiting: its turn comes again after every other principal's.
    if (queue.length > 0) this.turns.push(next);
    this.waitingCount--;
    waiter.start();
  }
}
