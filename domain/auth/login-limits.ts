/**
 * Login attempt limits (pure: the clock is given). The failing sources are
 * throttled, never the owner: a customer and source address with more than
 * MAX_FAILURES_PER_CUSTOMER failures within CUSTOMER_WINDOW_MS are refused
 * (the pair, not the customer, so guesses from elsewhere never lock out an
 * address with no failures); once a customer has MAX_FAILURES_PER_ACCOUNT
 * failures within ACCOUNT_WINDOW_MS from every source together, only sources
 * with no failure for it may still try (each gets its one guess and is
 * then refused in turn). A source address with more than
 * MAX_ATTEMPTS_PER_SOURCE attempts within SOURCE_WINDOW_MS is refused
 * whatever the customer. A refusal lasts until the oldest counted event
 * leaves its window. Memory is bounded: each table keeps at most
 * MAX_TRACKED keys, forgetting the least recently touched first.
 */

export const MAX_FAILURES_PER_CUSTOMER = 5;
export const CUSTOMER_WINDOW_MS = 15 * 60 * 1000;
/** Guesses at one account from every source within an hour past which sources with failures wait (a 1-in-10^4 password lasts about 10 days of them at 30 an hour from fresh addresses). */
export const MAX_FAILURES_PER_ACCOUNT = 30;
export const ACCOUNT_WINDOW_MS = 60 * 60 * 1000;
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

/**
 * A rate per key (a token bucket: `perMinute` at once, refilled at that
 * rate), constant memory per key whatever the rate, at most `maxKeys` keys
 * (the least recently touched forgotten first). `perMinute` 0: no limit.
 */
export class RateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = MAX_TRACKED,
  ) {}

  /** Takes one from `key`'s bucket; answers the seconds to wait when it is empty (0: go ahead). */
  take(key: string, now: number): number {
    if (this.perMinute === 0) return 0;
    const perMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / perMs / 1000);
    bucket.tokens -= 1;
    return 0;
  }

  get size(): number {
    return this.buckets.size;
  }
}

const pairKey = (customer: string, source: string): string => `${customer}\u0000${source}`;

export class LoginLimits {
  /** Failures per customer and source. */
  private readonly failures: SlidingWindows;
  /** Failures per customer, every source together. */
  private readonly accountFailures: SlidingWindows;
  /** Whether a source failed for a customer within the account window (it is then not "clean"). */
  private readonly dirty: SlidingWindows;
  private readonly attempts: SlidingWindows;
  /** Sources with a failure (for any customer) within the account window. */
  private readonly failingSources: SlidingWindows;

  constructor(options: { maxTracked?: number } = {}) {
    const maxKeys = options.maxTracked ?? MAX_TRACKED;
    this.failures = new SlidingWindows(MAX_FAILURES_PER_CUSTOMER, CUSTOMER_WINDOW_MS, maxKeys);
    this.accountFailures = new SlidingWindows(MAX_FAILURES_PER_ACCOUNT, ACCOUNT_WINDOW_MS, maxKeys);
    this.dirty = new SlidingWindows(1, ACCOUNT_WINDOW_MS, maxKeys);
    this.attempts = new SlidingWindows(MAX_ATTEMPTS_PER_SOURCE, SOURCE_WINDOW_MS, maxKeys);
    this.failingSources = new SlidingWindows(1, ACCOUNT_WINDOW_MS, maxKeys);
  }

  /** Whether `source` failed a login (any customer's) within the last hour: its checks wait behind those of addresses that did not. */
  failedRecently(source: string, now: number): boolean {
    return this.failingSources.waitMs(source, now) > 0;
  }

  /**
   * Counts an attempt from `source` for `customer`; answers how many
   * seconds to wait when it must be refused (0 when it may go ahead).
   * A refused attempt is counted against the source too.
   */
  admit(source: string, customer: string, now: number): number {
    const pair = pairKey(customer, source);
    let wait = Math.max(this.attempts.waitMs(source, now), this.failures.waitMs(pair, now));
    // Past the account's cap, a source that already failed for it waits; a clean one (the owner, say) may try.
    const accountWait = this.accountFailures.waitMs(customer, now);
    if (accountWait > 0 && this.dirty.waitMs(pair, now) > 0) wait = Math.max(wait, accountWait);
    this.attempts.record(source, now);
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  failed(customer: string, source: string, now: number): void {
    const pair = pairKey(customer, source);
    this.failures.record(pair, now);
    this.accountFailures.record(customer, now);
    this.dirty.record(pair, now);
    this.failingSources.record(source, now);
  }

  succeeded(customer: string, source: string): void {
    this.failures.forget(pairKey(customer, source));
  }

  /** Keys remembered now, for metrics and tests of the memory bound. */
  get tracked(): { customers: number; sources: number } {
    return { customers: this.accountFailures.size, sources: this.attempts.size };
  }
}
