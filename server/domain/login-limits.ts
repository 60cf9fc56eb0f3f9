/**
 * Login attempt limits (pure: the clock is given). A customer identifier
 * with more than MAX_FAILURES_PER_CUSTOMER failures within
 * CUSTOMER_WINDOW_MS, or a source address with more than
 * MAX_ATTEMPTS_PER_SOURCE attempts within SOURCE_WINDOW_MS, is refused
 * until the oldest counted event leaves its window. Memory is bounded:
 * each table keeps at most MAX_TRACKED keys, forgetting the least recently
 * touched first.
 */

export const MAX_FAILURES_PER_CUSTOMER = 5;
export const CUSTOMER_WINDOW_MS = 15 * 60 * 1000;
export const MAX_ATTEMPTS_PER_SOURCE = 30;
export const SOURCE_WINDOW_MS = 60 * 1000;
/** Keys each table remembers; about 100 bytes a key. */
export const MAX_TRACKED = 100_000;

/** Recent event times per key, oldest first, at most `limit + 1` of them. */
class SlidingWindows {
  private readonly events = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  /** Milliseconds until `key` may try again (0: now). */
  waitMs(key: string, now: number): number {
    const times = this.current(key, now);
    if (times === undefined || times.length < this.limit) return 0;
    return (times[times.length - this.limit] as number) + this.windowMs - now;
  }

  record(key: string, now: number): void {
    const times = this.current(key, now) ?? [];
    times.push(now);
    if (times.length > this.limit) times.splice(0, times.length - this.limit);
    // Re-inserted: the Map's order is then least recently touched first.
    this.events.delete(key);
    this.events.set(key, times);
    if (this.events.size > this.maxKeys) this.events.delete(this.events.keys().next().value as string);
  }

  forget(key: string): void {
    this.events.delete(key);
  }

  get size(): number {
    return this.events.size;
  }

  private current(key: string, now: number): number[] | undefined {
    const times = this.events.get(key);
    if (times === undefined) return undefined;
    while (times.length > 0 && (times[0] as number) <= now - this.windowMs) times.shift();
    if (times.length === 0) {
      this.events.delete(key);
      return undefined;
    }
    return times;
  }
}

export class LoginLimits {
  private readonly failures: SlidingWindows;
  private readonly attempts: SlidingWindows;

  constructor(options: { maxTracked?: number } = {}) {
    const maxKeys = options.maxTracked ?? MAX_TRACKED;
    this.failures = new SlidingWindows(MAX_FAILURES_PER_CUSTOMER, CUSTOMER_WINDOW_MS, maxKeys);
    this.attempts = new SlidingWindows(MAX_ATTEMPTS_PER_SOURCE, SOURCE_WINDOW_MS, maxKeys);
  }

  /**
   * Counts an attempt from `source` for `customer`; answers how many
   * seconds to wait when it must be refused (0 when it may go ahead).
   * A refused attempt is counted against the source too.
   */
  admit(source: string, customer: string, now: number): number {
    const wait = Math.max(this.attempts.waitMs(source, now), this.failures.waitMs(customer, now));
    this.attempts.record(source, now);
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  failed(customer: string, now: number): void {
    this.failures.record(customer, now);
  }

  succeeded(customer: string): void {
    this.failures.forget(customer);
  }

  /** Keys remembered now, for metrics and tests of the memory bound. */
  get tracked(): { customers: number; sources: number } {
    return { customers: this.failures.size, sources: this.attempts.size };
  }
}
