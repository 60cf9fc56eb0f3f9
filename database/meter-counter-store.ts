/**
 * Keyed meters' invocation counters: for each meter, the newest counter
 * the server accepted on one of its signed answers or events (see
 * protocol/meter-commands.ts). A line whose counter is not above it is a
 * replay and is refused, so the counter must survive restarts and be the
 * same for every server sharing a database. The specification both
 * backends pass (test/database/meter-counter-contract.ts).
 */

export interface MeterCounterStore {
  /** The newest counter accepted for the meter, or undefined when none was. */
  newest(matricula: string): Promise<bigint | undefined>;

  /**
   * Accepts `counter` for the meter when it is above the newest accepted so
   * far (atomically: of two servers offering counters at once, each counter
   * is accepted at most once and the newest only ever goes up). Resolves
   * true once the new value is durable; false, writing nothing, when the
   * counter is not above the newest (a replay, or a line already taken).
   */
  advance(matricula: string, counter: bigint): Promise<boolean>;

  /** Every meter's newest counter, by matricula (backups and migration between backends). */
  all(): Promise<ReadonlyMap<string, bigint>>;
}
