/**
 * How a simulated meter signs what it sends (protocol/README.md,
 * "Authenticity"): readings with their MAC; answers and events with an
 * invocation counter, then the MAC, so the server can refuse a captured
 * line sent again. The counter goes up with every line signed and never
 * below the clock in microseconds, so a meter that lost its saved state
 * (`--estado`) still counts above what it sent before, as long as its
 * clock is not behind.
 */
import { signLine } from '../protocol/meter-auth.js';
import { MAX_COUNTER, withCounter } from '../protocol/meter-commands.js';

export class MeterSigner {
  private last: bigint;

  constructor(
    readonly key: Buffer | undefined,
    last = 0n,
    private readonly now: () => number = Date.now,
  ) {
    this.last = last;
  }

  /** The newest counter used (kept with the meter's state). */
  get counter(): bigint {
    return this.last;
  }

  /** A reading line: signed when keyed (a replayed reading stores nothing new, so it carries no counter). */
  reading(content: string): string {
    return this.key === undefined ? content : signLine(content, this.key);
  }

  /** An answer or event line: with the next counter and the MAC when keyed; as it is otherwise. */
  counted(content: string): string {
    if (this.key === undefined) return content;
    const floor = BigInt(Math.max(0, Math.floor(this.now()))) * 1000n;
    const next = this.last + 1n > floor ? this.last + 1n : floor;
    if (next > MAX_COUNTER) throw new Error('the invocation counter is exhausted');
    this.last = next;
    return signLine(withCounter(content, next), this.key);
  }
}
