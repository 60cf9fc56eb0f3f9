/**
 * Consumption per calendar period (hour, day or month in a time zone) from
 * a meter's cumulative register: the difference between the newest reading
 * of a period and the newest of the period before it. Periods without
 * readings are gaps, reported as gaps; nothing is interpolated.
 */
import type { Reading } from './reading.js';
import { wallClockInstant, zoneOffset } from '../../protocol/timestamp.js';

export type PeriodUnit = 'hora' | 'dia' | 'mes';
export const PERIOD_UNITS: readonly PeriodUnit[] = ['hora', 'dia', 'mes'];

const HOUR_MS = 3_600_000;

/** The first instant of the period that holds `instant`. */
export function periodStart(instant: number, unit: PeriodUnit, timeZone: string): number {
  const wall = new Date(instant + zoneOffset(instant, timeZone));
  const [year, month, day, hour] = [wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), wall.getUTCHours()];
  const startWall = unit === 'hora' ? Date.UTC(year, month, day, hour) : unit === 'dia' ? Date.UTC(year, month, day) : Date.UTC(year, month, 1);
  const start = wallClockInstant(startWall, timeZone);
  // A wall clock skipped by a daylight-saving change can resolve past `instant`: the period then starts an hour earlier.
  return start <= instant ? start : start - HOUR_MS;
}

/** The first instant of the period after the one starting at `start`. */
export function nextPeriodStart(start: number, unit: PeriodUnit, timeZone: string): number {
  const wall = new Date(start + zoneOffset(start, timeZone));
  const [year, month, day, hour] = [wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), wall.getUTCHours()];
  const nextWall = unit === 'hora' ? Date.UTC(year, month, day, hour + 1) : unit === 'dia' ? Date.UTC(year, month, day + 1) : Date.UTC(year, month + 1, 1);
  const next = wallClockInstant(nextWall, timeZone);
  return next > start ? next : start + HOUR_MS;
}

/** The longest a period can be in any zone (an hour repeated when clocks go back, a 25-hour day, a 31-day month): a span holds at least span / this many periods. */
const LONGEST_PERIOD_MS: Readonly<Record<PeriodUnit, number>> = { hora: 2 * HOUR_MS, dia: 26 * HOUR_MS, mes: 32 * 24 * HOUR_MS };

/**
 * Period boundaries covering [from, to), one at a time: starts of every
 * period, then the end of the last (at least one period). Callers that must
 * not hold the event loop take them in slices.
 */
export function* boundariesOf(from: number, to: number, unit: PeriodUnit, timeZone: string): Generator<number> {
  let last = periodStart(from, unit, timeZone);
  yield last;
  let count = 1;
  while (last < to || count === 1) {
    last = nextPeriodStart(last, unit, timeZone);
    yield last;
    count++;
  }
}

/** Whether [from, to) certainly holds more than `maxPeriods` periods: decided before any work (a hundred years of hours costs nothing to refuse). */
export function certainlyTooManyPeriods(from: number, to: number, unit: PeriodUnit, maxPeriods: number): boolean {
  return (to - from) / LONGEST_PERIOD_MS[unit] > maxPeriods + 1;
}

/** Period boundaries covering [from, to): starts of every period, then the end of the last. Undefined past `maxPeriods`. */
export function periodBoundaries(from: number, to: number, unit: PeriodUnit, timeZone: string, maxPeriods: number): number[] | undefined {
  if (certainlyTooManyPeriods(from, to, unit, maxPeriods)) return undefined;
  const boundaries: number[] = [];
  for (const boundary of boundariesOf(from, to, unit, timeZone)) {
    boundaries.push(boundary);
    if (boundaries.length > maxPeriods + 1) return undefined;
  }
  return boundaries;
}

export interface PeriodConsumption {
  readonly start: number;
  readonly end: number;
  readonly readings: number;
  /**
   * Register difference from the newest reading of the previous period (or,
   * when that period has none, from this period's oldest) to this period's
   * newest; undefined for a period without readings or a register that went down.
   */
  readonly consumption: bigint | undefined;
  /** The difference starts from the previous period's newest reading, so nothing of the period is missing. */
  readonly complete: boolean;
}

/**
 * Accumulates a meter's readings, fed newest first (as Store.history gives
 * them), into the periods between `boundaries`; readings in the period just
 * before the first count as its predecessor. Memory: one entry per period.
 */
export class PeriodAccumulator {
  private readonly boundaries: readonly number[];
  private readonly previousStart: number;
  /** The end of the last period. */
  private readonly end: number;
  /** Per period, index 0 the period before the first: count, oldest and newest reading. */
  private readonly counts: number[];
  private readonly oldest: Array<Reading | undefined>;
  private readonly newest: Array<Reading | undefined>;
  private cursor: number;

  constructor(boundaries: readonly number[], previousStart: number) {
    this.boundaries = boundaries;
    this.previousStart = previousStart;
    this.end = boundaries[boundaries.length - 1] as number;
    const slots = boundaries.length;
    this.counts = new Array<number>(slots).fill(0);
    this.oldest = new Array<Reading | undefined>(slots).fill(undefined);
    this.newest = new Array<Reading | undefined>(slots).fill(undefined);
    this.cursor = slots - 1;
  }

  /** The range of readings the accumulator needs: [start of the period before the first, end of the last). */
  get range(): { from: number; to: number } {
    return { from: this.previousStart, to: this.end };
  }

  /** Adds readings that are older than every reading added before. */
  add(newestFirst: readonly Reading[]): void {
    for (const reading of newestFirst) {
      if (reading.timestamp >= this.end || reading.timestamp < this.previousStart) continue;
      // Slot i (1-based) is the period [boundaries[i-1], boundaries[i]); slot 0 the one before.
      while (this.cursor > 0 && reading.timestamp < (this.boundaries[this.cursor - 1] as number)) this.cursor--;
      if (this.counts[this.cursor] === 0) this.newest[this.cursor] = reading;
      this.oldest[this.cursor] = reading;
      this.counts[this.cursor] = (this.counts[this.cursor] as number) + 1;
    }
  }

  periods(): PeriodConsumption[] {
    const periods: PeriodConsumption[] = [];
    for (let slot = 1; slot < this.boundaries.length; slot++) {
      const newest = this.newest[slot];
      const before = this.newest[slot - 1];
      const base = before ?? this.oldest[slot];
      const difference = newest === undefined || base === undefined ? undefined : newest.consumo - base.consumo;
      periods.push({
        start: this.boundaries[slot - 1] as number,
        end: this.boundaries[slot] as number,
        readings: this.counts[slot] as number,
        consumption: difference !== undefined && difference >= 0n ? difference : undefined,
        complete: newest !== undefined && before !== undefined && difference !== undefined && difference >= 0n,
      });
    }
    return periods;
  }
}
