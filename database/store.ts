/**
 * The storage contract shared by every backend (flat files, PostgreSQL).
 * Routes and the UDP ingest talk only to this interface; nothing outside
 * database/ knows about files or SQL.
 */
import type { Customer } from '../protocol/customer-format.js';
import type { Reading } from '../protocol/meter-protocol.js';
import type { ReadingOutcome } from '../domain/readings/admission.js';
import type { StoredReading } from '../domain/readings/reading.js';
import type { QualityMask } from '../domain/readings/quality.js';
import type { DayRollup, HourRollup } from '../domain/readings/rollups.js';

export type { AdmissionRules, ReadingOutcome, RefusalReason } from '../domain/readings/admission.js';
export type { Customer } from '../protocol/customer-format.js';
export type { Reading } from '../protocol/meter-protocol.js';
export type { StoredReading } from '../domain/readings/reading.js';
export type { DayRollup, HourRollup } from '../domain/readings/rollups.js';

/** How many of a meter's newest readings `recentReadings` can return (the alert needs 5). */
export const RECENT_READINGS_LIMIT = 5;
/** Meters per batch of `recentReadingsOfEveryMeter`. */
export const FLEET_BATCH_METERS = 1000;

/** Throws RangeError unless `count` is 1 to RECENT_READINGS_LIMIT (a caller's mistake, not the client's). */
export function checkRecentCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > RECENT_READINGS_LIMIT) throw new RangeError(`count must be 1 to ${RECENT_READINGS_LIMIT}`);
}


export interface CustomerQuery {
  readonly username?: string | undefined;
  readonly matricula?: string | undefined;
  /** Matches to skip, in registration order (pagination). */
  readonly offset?: number | undefined;
  /** Most matches to return. */
  readonly limit?: number | undefined;
}

/** A meter's readings in a time range: `from <= timestamp < to`, in ms since the epoch. */
export interface HistoryQuery {
  readonly matricula: string;
  readonly from: number;
  readonly to: number;
}

export interface AppendResult {
  /** What became of each reading of the call, in the call's order. */
  readonly outcomes: readonly ReadingOutcome[];
  /** The quality each reading newly stored by this call was given, in the call's order (VALID for the others). */
  readonly qualities: readonly QualityMask[];
  /** Readings newly stored by this call. */
  readonly stored: number;
  /** Readings already stored, identical (a resend). */
  readonly duplicates: number;
  /**
   * Readings not stored because their matricula belongs to no customer, is
   * new, and the store already holds its limit of such meters (a bound on
   * memory against floods of invented matriculas). Not answered; they stay
   * with the meter.
   */
  readonly refused: number;
  /** Readings refused by an admission rule (outcome a RefusalReason). */
  readonly rejected: number;
  /** For every matricula of the call with a durable reading: the timestamp of its newest one once the call resolves. */
  readonly newest: ReadonlyMap<string, number>;
}

export interface AddCustomersResult {
  readonly added: number;
  /** Customers skipped because their username or matricula already exists. */
  readonly skipped: readonly Customer[];
}

export interface StoreStats {
  readonly customers: number;
  /** Distinct matriculas with at least one reading. */
  readonly meters: number;
  readonly readings: number;
}

export type StoreErrorCode =
  /** The backend cannot be reached or written right now; retrying later may work. */
  | 'UNAVAILABLE'
  /** Stored data cannot be read back as written. */
  | 'CORRUPT'
  /** The store was closed. */
  | 'CLOSED'
  /** Another process owns the data. */
  | 'LOCKED';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

export interface Store {
  /**
   * Stores readings by the store's admission rules (domain/readings/admission.ts),
   * each with its quality judged against its meter's newest readings
   * (domain/readings/quality.ts), and says what became of each. A reading whose matricula and timestamp
   * are already stored or queued is a `duplicate` when its register is the
   * same, `conflito` otherwise; nothing is stored twice. A reading older
   * than its meter's newest is stored (late) unless it is older than the
   * meter's LATE_WINDOW_READINGS newest (`atrasada`) or closer than the
   * minimum interval to a neighbour (`intervalo`). History stays in
   * timestamp order whatever the order of arrival.
   *
   * Durability: when the promise resolves, every reading of this call that
   * was stored, and every reading its `newest` timestamps cover, survives a
   * crash of the process or the machine. Concurrent calls are committed
   * together (group commit). On rejection (StoreError `UNAVAILABLE`) none of
   * this call's readings may be assumed stored; the caller retries later.
   */
  append(readings: readonly Reading[]): Promise<AppendResult>;

  /**
   * Stores readings as another store held them (migration between
   * backends): each keeps the quality it carries, and no admission rule
   * applies but the ones that keep history whole (a copy is a `duplicate`,
   * another register at a stored instant a `conflito`, one older than its
   * meter's late window `atrasada`: give each meter's readings oldest
   * first). Durable as `append`.
   */
  restore(readings: readonly StoredReading[]): Promise<AppendResult>;

  /**
   * The newest durable readings of one matricula, newest first, at most
   * `count` (1 to {@link RECENT_READINGS_LIMIT}), each with its quality.
   * Only the newest carries its electrical quantities (`history` has every
   * reading's). Empty when it has none. Its cost does not grow with the
   * number of readings stored.
   */
  recentReadings(matricula: string, count: number): Promise<StoredReading[]>;

  /**
   * The newest durable readings of every meter that has one: for each, at
   * most `count` (1 to {@link RECENT_READINGS_LIMIT}), newest first, never
   * empty, as recentReadings gives them; meters in batches of any size, each meter once, in no promised
   * order. What a server rebuilds its view of the fleet from at start-up:
   * memory stays bounded by a batch, whatever the fleet.
   */
  recentReadingsOfEveryMeter(count: number): AsyncIterable<StoredReading[][]>;

  /**
   * The durable readings of one matricula in a time range, newest first, in
   * batches of any size (never empty). Memory stays bounded however many
   * readings match: a caller that stops iterating stops the reading.
   * Readings stored after the call are not included.
   */
  history(query: HistoryQuery): AsyncIterable<StoredReading[]>;

  /**
   * The hourly rollups of one matricula's durable readings
   * (domain/readings/rollups.ts) for the UTC hours that start in
   * `from <= hour < to`, oldest hour first, hours without a reading left
   * out: exactly `rollUp` of the readings `history` gives for those hours,
   * late readings included. Kept up to date as readings are stored, so the
   * cost follows the hours asked for, not the readings under them.
   */
  hourly(query: HistoryQuery): Promise<HourRollup[]>;

  /** The time zone whose local days {@link daily} gives (the server's TZ_LEGADO; fixed while the store is open). */
  readonly dayZone: string;

  /**
   * The daily rollups of one matricula's durable readings for the local
   * days of {@link dayZone} that start in `from <= day < to`, oldest first,
   * days without a reading left out: exactly `rollUpDays` of its hourly
   * rollups (so `rollUp` of its readings by day, for zones of whole-hour
   * offsets), late readings included. Kept up to date as readings are
   * stored: a month of a meter is 31 rollups whatever its readings.
   */
  daily(query: HistoryQuery): Promise<DayRollup[]>;

  /**
   * Every durable reading, each with its quality and quantities, in batches
   * of any size (never empty): each meter's readings in the order they were
   * admitted (oldest first but for late ones), meters interleaved as the
   * backend keeps them. One pass over the store, memory bounded by a batch:
   * what migrations and whole-store checksums read. Readings stored while
   * it runs may or may not be included.
   */
  scan(): AsyncIterable<StoredReading[]>;

  /** Customers that match every field given in the query, in registration order, from `offset`, at most `limit`. */
  findCustomers(query: CustomerQuery): Promise<Customer[]>;

  /**
   * Registers customers durably, in order. A customer whose username or
   * matricula is already registered (or earlier in the same call) is skipped
   * and returned in `skipped`.
   */
  addCustomers(customers: readonly Customer[]): Promise<AddCustomersResult>;

  stats(): Promise<StoreStats>;
  /**
   * Resolves when the store can take writes now: the last write to the
   * files succeeded (or none was tried), or PostgreSQL answers. Rejects with
   * StoreError `UNAVAILABLE` (or `CLOSED`) otherwise. Cheap: for health checks.
   */
  health(): Promise<void>;

  /** Waits for pending writes to become durable, then releases the store. Idempotent. */
  close(): Promise<void>;
}
