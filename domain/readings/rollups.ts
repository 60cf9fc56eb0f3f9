/**
 * Hourly rollups of a meter's readings (pure): per UTC hour, how many
 * readings were stored, how many validation flagged, and the oldest and
 * newest of the usable ones (quality.ts: not `pico`, not `regressiva`).
 *
 * That is everything consumption per period needs (periods.ts: a period's
 * consumption is its newest usable register minus the previous period's
 * newest), and it composes: a period made of whole UTC hours has as count
 * the sum of its hours', as oldest its first non-empty hour's oldest, as
 * newest its last non-empty hour's newest. Local hours, days and months of
 * every zone whose offset is a whole number of hours (all of Brazil's) are
 * whole UTC hours, so their consumption read from rollups is exactly the
 * one computed from the readings; {@link wholeHourBoundaries} tells when.
 */
import { isUsable, VALID, type QualityMask } from './quality.js';
import type { StoredReading } from './reading.js';
import { nextPeriodStart, periodStart, type PeriodConsumption } from './periods.js';

export const HOUR_MS = 3_600_000;

export interface RegisterPoint {
  readonly timestamp: number;
  /** The register, in thousandths of a kWh. */
  readonly register: bigint;
}

/** A meter's readings in one period (a UTC hour, or a local day: {@link rollUpDays}). */
export interface Rollup {
  /** The period's first instant (ms since the epoch; for an hour, a multiple of HOUR_MS). */
  readonly start: number;
  /** Readings stored in the hour, flagged or not. */
  readonly readings: number;
  /** Readings validation flagged (any flag: they may still be usable, as `lacuna_antes`). */
  readonly flagged: number;
  /** Usable readings (not `pico`, not `regressiva`). */
  readonly usable: number;
  /** The oldest and newest usable readings; undefined when `usable` is 0. */
  readonly oldest: RegisterPoint | undefined;
  readonly newest: RegisterPoint | undefined;
}

/** A meter's readings in one UTC hour (`start` is the hour). */
export type HourRollup = Rollup;
/** A meter's readings in one local day of a time zone (`start` is the day's first instant there). */
export type DayRollup = Rollup;

export const hourOf = (timestamp: number): number => Math.floor(timestamp / HOUR_MS) * HOUR_MS;

/** A rollup of no reading, for the hour starting at `hour`. */
export const emptyRollup = (start: number): Rollup => ({ start, readings: 0, flagged: 0, usable: 0, oldest: undefined, newest: undefined });

/** The rollup of one reading. */
export function rollupOf(timestamp: number, register: bigint, quality: QualityMask): HourRollup {
  const usable = isUsable(quality);
  const point = usable ? { timestamp, register } : undefined;
  return { start: hourOf(timestamp), readings: 1, flagged: quality === VALID ? 0 : 1, usable: usable ? 1 : 0, oldest: point, newest: point };
}

/** Two rollups of the same period over disjoint readings, as one (the period is `a`'s). */
export function mergeRollups(a: Rollup, b: Rollup): Rollup {
  return {
    start: a.start,
    readings: a.readings + b.readings,
    flagged: a.flagged + b.flagged,
    usable: a.usable + b.usable,
    oldest: a.oldest === undefined || (b.oldest !== undefined && b.oldest.timestamp < a.oldest.timestamp) ? b.oldest : a.oldest,
    newest: a.newest === undefined || (b.newest !== undefined && b.newest.timestamp > a.newest.timestamp) ? b.newest : a.newest,
  };
}

/** The reference: the hours of `readings` (any order, one per instant), oldest hour first, hours without a reading left out. */
export function rollUp(readings: Iterable<StoredReading>): HourRollup[] {
  const hours = new Map<number, HourRollup>();
  for (const reading of readings) {
    const one = rollupOf(reading.timestamp, reading.consumo, reading.quality ?? VALID);
    const held = hours.get(one.start);
    hours.set(one.start, held === undefined ? one : mergeRollups(held, one));
  }
  return [...hours.values()].sort((a, b) => a.start - b.start);
}

/**
 * Hourly rollups (oldest first) as the local days of `timeZone` they fall
 * in, oldest first: every local day of a zone whose offsets are whole hours
 * is made of whole UTC hours, so its rollup is exactly that of its readings
 * (for other zones, days split hours: use the readings).
 */
export function rollUpDays(hours: readonly HourRollup[], timeZone: string): DayRollup[] {
  const days: DayRollup[] = [];
  let day: DayRollup | undefined;
  let dayEnd = -Infinity;
  for (const hour of hours) {
    if (hour.readings === 0) continue;
    if (day === undefined || hour.start >= dayEnd) {
      if (day !== undefined) days.push(day);
      const start = periodStart(hour.start, 'dia', timeZone);
      day = emptyRollup(start);
      dayEnd = nextPeriodStart(start, 'dia', timeZone);
    }
    day = mergeRollups(day, hour);
  }
  if (day !== undefined) days.push(day);
  return days;
}

/** Whether every boundary starts a local day of `timeZone`: then periods between them compose from its daily rollups exactly. */
export function wholeDayBoundaries(boundaries: readonly number[], timeZone: string): boolean {
  for (const boundary of boundaries) if (periodStart(boundary, 'dia', timeZone) !== boundary) return false;
  return true;
}

/**
 * Which rollups compose the periods between `boundaries` exactly: the daily
 * ones (local days of `dayZone`) when every boundary starts such a day, the
 * hourly ones when every boundary is a whole UTC hour, none (the readings
 * must be read) otherwise.
 */
export function rollupsFor(boundaries: readonly number[], dayZone: string): 'dia' | 'hora' | undefined {
  if (!wholeHourBoundaries(boundaries)) return undefined;
  return wholeDayBoundaries(boundaries, dayZone) ? 'dia' : 'hora';
}

/** Whether every boundary is a whole UTC hour: then periods between them compose from hourly rollups exactly. */
export function wholeHourBoundaries(boundaries: readonly number[]): boolean {
  for (const boundary of boundaries) if (boundary % HOUR_MS !== 0) return false;
  return true;
}

/**
 * Consumption per period from rollups (oldest first, as Store.hourly and
 * Store.daily give them): the same figures as periods.ts's
 * PeriodAccumulator fed the usable readings, for boundaries where rollups
 * start (whole UTC hours for hourly ones, local days for daily ones). `previousStart` is the start of the period before the first (its
 * newest reading is the first period's base).
 */
export function periodsOfRollups(boundaries: readonly number[], previousStart: number, hours: readonly Rollup[]): PeriodConsumption[] {
  const slots = boundaries.length;
  const counts = new Array<number>(slots).fill(0);
  const oldest = new Array<RegisterPoint | undefined>(slots).fill(undefined);
  const newest = new Array<RegisterPoint | undefined>(slots).fill(undefined);
  // Slot i (1-based) is [boundaries[i-1], boundaries[i]); slot 0 the period before the first.
  let slot = 0;
  const end = boundaries[slots - 1] as number;
  for (const rollup of hours) {
    if (rollup.start < previousStart || rollup.start >= end || rollup.usable === 0) continue;
    while (slot < slots - 1 && rollup.start >= (boundaries[slot] as number)) slot++;
    counts[slot] = (counts[slot] as number) + rollup.usable;
    oldest[slot] ??= rollup.oldest;
    newest[slot] = rollup.newest;
  }
  const periods: PeriodConsumption[] = [];
  for (let i = 1; i < slots; i++) {
    const last = newest[i];
    const before = newest[i - 1];
    const base = before ?? oldest[i];
    const difference = last === undefined || base === undefined ? undefined : last.register - base.register;
    periods.push({
      start: boundaries[i - 1] as number,
      end: boundaries[i] as number,
      readings: counts[i] as number,
      consumption: difference !== undefined && difference >= 0n ? difference : undefined,
      complete: last !== undefined && before !== undefined && difference !== undefined && difference >= 0n,
    });
  }
  return periods;
}

/**
 * The register of the newest usable reading at or before `instant` (a
 * whole UTC hour) and at most `maxAgeMs` before it, from the rollups of the
 * hour it starts and the hour before (`byHour`: rollups by their hour);
 * undefined when there is none. The same as searching the readings, for
 * `maxAgeMs` up to an hour.
 */
export function registerAtHour(byHour: ReadonlyMap<number, HourRollup>, instant: number, maxAgeMs: number): bigint | undefined {
  if (instant % HOUR_MS !== 0 || maxAgeMs > HOUR_MS) throw new RangeError('registerAtHour needs a whole hour and an age of at most an hour');
  const starting = byHour.get(instant)?.oldest;
  if (starting?.timestamp === instant) return starting.register;
  const before = byHour.get(instant - HOUR_MS)?.newest;
  return before !== undefined && instant - before.timestamp <= maxAgeMs ? before.register : undefined;
}

/**
 * The newest usable reading at or before `at` (a whole UTC hour) among
 * hourly rollups (oldest first; later hours than `at` are ignored): the
 * hour starting at `at` gives its oldest only when stamped at `at`, an
 * earlier hour its newest. The same as searching the readings.
 */
export function newestAtOrBefore(hours: readonly HourRollup[], at: number): RegisterPoint | undefined {
  for (let i = hours.length - 1; i >= 0; i--) {
    const hour = hours[i] as HourRollup;
    if (hour.start > at) continue;
    if (hour.start === at) {
      if (hour.oldest?.timestamp === at) return hour.oldest;
    } else if (hour.newest !== undefined) return hour.newest;
  }
  return undefined;
}

/**
 * The oldest usable reading in (at, until] among hourly rollups (oldest
 * first), `at` a whole UTC hour with no usable reading stamped at it (the
 * hour starting at `at` then has its first after `at` as oldest). The same
 * as searching the readings.
 */
export function oldestAfter(hours: readonly HourRollup[], at: number, until: number): RegisterPoint | undefined {
  for (const hour of hours) {
    if (hour.start < at || hour.oldest === undefined) continue;
    if (hour.oldest.timestamp === at) throw new RangeError('oldestAfter needs no usable reading stamped at `at`');
    return hour.oldest.timestamp <= until ? hour.oldest : undefined;
  }
  return undefined;
}

/**
 * The oldest and newest usable readings of each hour, oldest first: the
 * points between which consumption is allocated to postos. Allocating
 * between consecutive points gives what allocating between every usable
 * reading gives when no posto changes inside an hour (postos of whole
 * hours): the readings inside an hour add up to its newest minus its oldest.
 */
export function registerPoints(hours: readonly HourRollup[]): RegisterPoint[] {
  const points: RegisterPoint[] = [];
  for (const { oldest, newest } of hours) {
    if (oldest === undefined || newest === undefined) continue;
    points.push(oldest);
    if (newest.timestamp !== oldest.timestamp) points.push(newest);
  }
  return points;
}
