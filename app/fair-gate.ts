/**
 * A bound on expensive work running at once (heavy requests, password
 * hashing), shared fairly between principals: a customer, the operator, or
 * an anonymous source address. Past `maxRunning`, work waits in its
 * principal's own queue, and a freed slot goes to the next principal in
 * turn (round robin), never to whoever queued most: one principal's backlog
 * delays another's request by about one piece of work at most. Each
 * principal holds at most `maxPerKey` pieces (running and waiting); past it,
 * and past `maxWaiting` in all, work is refused at once with 429
 * `muitas_requisicoes` and `Retry-After`. Work asked as `urgent` (a login
 * from an address that has not been failing) is served before the rest,
 * in turn among the urgent principals.
 */
import { DomainError } from '../domain/errors.js';

/** The refusal when the bound is full: 429 `muitas_requisicoes`, try again in a second. */
const full = (): DomainError => new DomainError('muitas_requisicoes', 'Muitas requisições pesadas ao mesmo tempo; tente novamente em instantes.', { retryAfterS: 1 });

interface Waiting {
  readonly start: () => void;
}

export class FairGate {
  private running = 0;
  private waitingCount = 0;
  /** Per principal: pieces in progress (running or waiting), and the ones waiting, oldest first. */
  private readonly principals = new Map<string, { inProgress: number; readonly waiting: Waiting[]; readonly urgent: Waiting[] }>();
  /** Principals with work waiting, in the order their turn comes: the urgent lane first. */
  private readonly turns: string[] = [];
  private readonly urgentTurns: string[] = [];

  constructor(
    private readonly maxRunning: number,
    private readonly maxPerKey: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(key: string, work: () => Promise<T>, urgent = false): Promise<T> {
    let principal = this.principals.get(key);
    if (principal === undefined) this.principals.set(key, (principal = { inProgress: 0, waiting: [], urgent: [] }));
    if (principal.inProgress >= this.maxPerKey) throw full();
    // Urgent work has a bound of its own (four times the rest's): a full queue of the rest never refuses it.
    if (this.running >= this.maxRunning && this.waitingCount >= (urgent ? 4 * this.maxWaiting : this.maxWaiting)) throw full();
    principal.inProgress++;
    if (this.running < this.maxRunning) this.running++;
    else {
      this.waitingCount++;
      const queue = urgent ? principal.urgent : principal.waiting;
      if (queue.length === 0) (urgent ? this.urgentTurns : this.turns).push(key);
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
    const finished = this.principals.get(key);
    if (finished !== undefined && --finished.inProgress === 0) this.principals.delete(key);
    const lane = this.urgentTurns.length > 0 ? this.urgentTurns : this.turns;
    const next = lane.shift();
    if (next === undefined) {
      this.running--;
      return;
    }
    const turn = this.principals.get(next);
    const queue = (lane === this.urgentTurns ? turn?.urgent : turn?.waiting) as Waiting[];
    const waiter = queue.shift() as Waiting;
    // Still waiting: its turn comes again after every other principal's in its lane.
    if (queue.length > 0) lane.push(next);
    this.waitingCount--;
    waiter.start();
  }
}
