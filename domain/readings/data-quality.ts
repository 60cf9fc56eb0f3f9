/**
 * Data quality of a meter over a range, per local day (pure): readings
 * received against readings expected, and how many carry each validation
 * flag — the "taxa de sucesso de coleta" and "qualidade dos dados" of a
 * meter data system.
 *
 * Expected readings come from the meter's own cadence: the typical interval
 * is the median of the intervals between its consecutive readings in the
 * range (whole seconds), and a day expects its span in the range divided by
 * it. A meter silent for half a day keeps its cadence and so shows 50%.
 * Completeness is received / expected, at most 1, in thousandths rounded
 * half-up.
 */
import { divideRoundHalfUp } from '../../protocol/decimal.js';
import { QUALITY_FLAGS, qualityFlags, VALID, type QualityFlag } from './quality.js';
import type { StoredReading } from './reading.js';
import type { Rollup } from './rollups.js';
import { nextPeriodStart, periodStart } from './periods.js';
import { zoneOffset } from '../../protocol/timestamp.js';

export type FlagCounts = Record<QualityFlag, number>;

export interface DayQuality {
  /** The local date, `YYYY-MM-DD`. */
  readonly day: string;
  readonly received: number;
  /** Readings expected in the day's span of the range; null while the cadence is unknown (fewer than two readings in the range). */
  readonly expected: number | null;
  /** received / expected in thousandths, at most 1000; null when expected is. */
  readonly completeness: number | null;
  /** Readings with no flag. */
  readonly valid: number;
  readonly flags: FlagCounts;
}

export interface QualityReport {
  /** Median interval between consecutive readings, in seconds; null with fewer than two readings. */
  readonly typicalIntervalS: number | null;
  readonly days: readonly DayQuality[];
  readonly total: Omit<DayQuality, 'day'>;
}

const noFlags = (): FlagCounts => Object.fromEntries(QUALITY_FLAGS.map((flag) => [flag, 0])) as FlagCounts;

/** Completeness in thousandths, capped at 1000. */
export function completeness(received: number, expected: number | null): number | null {
  if (expected === null) return null;
  if (expected === 0) return received > 0 ? 1000 : null;
  return Math.min(1000, Number(divideRoundHalfUp(BigInt(received) * 1000n, BigInt(expected))));
}

interface DayTally {
  received: number;
  valid: number;
  flags: FlagCounts;
}

/** Takes a range's readings in any batches and order (history gives them newest first) and reports per day. */
export class QualityAccumulator {
  private readonly days = new Map<number, DayTally>();
  /** Interval (whole seconds) -> how many: the cadence's median without keeping every interval. */
  private readonly intervals = new Map<number, number>();
  private previous: number | undefined;

  constructor(
    private readonly from: number,
    private readonly to: number,
    private readonly timeZone: string,
  ) {}

  add(readings: readonly StoredReading[]): void {
    for (const reading of readings) {
      if (this.previous !== undefined) {
        const seconds = Math.round(Math.abs(this.previous - reading.timestamp) / 1000);
        this.intervals.set(seconds, (this.intervals.get(seconds) ?? 0) + 1);
      }
      this.previous = reading.timestamp;
      const start = periodStart(reading.timestamp, 'dia', this.timeZone);
      let tally = this.days.get(start);
      if (tally === undefined) this.days.set(start, (tally = { received: 0, valid: 0, flags: noFlags() }));
      tally.received++;
      const flags = qualityFlags(reading.quality ?? VALID);
      if (flags.length === 0) tally.valid++;
      for (const flag of flags) tally.flags[flag]++;
    }
  }

  /** The median interval in whole seconds (at least 1); null with no interval. */
  typicalIntervalS(): number | null {
    let count = 0;
    for (const n of this.intervals.values()) count += n;
    if (count === 0) return null;
    const middle = Math.floor((count - 1) / 2);
    let seen = 0;
    for (const seconds of [...this.intervals.keys()].sort((a, b) => a - b)) {
      seen += this.intervals.get(seconds) as number;
      if (seen > middle) return Math.max(1, seconds);
    }
    return null;
  }

  /** Every local day the range touches, oldest first, with its figures (days without a reading too). */
  report(): QualityReport {
    const typical = this.typicalIntervalS();
    const days: DayQuality[] = [];
    const total = { received: 0, expected: typical === null ? null : 0, valid: 0, flags: noFlags() } as { received: number; expected: number | null; valid: number; flags: FlagCounts };
    for (let start = periodStart(this.from, 'dia', this.timeZone); start < this.to; start = nextPeriodStart(start, 'dia', this.timeZone)) {
      const end = nextPeriodStart(start, 'dia', this.timeZone);
      const span = Math.min(end, this.to) - Math.max(start, this.from);
      const tally = this.days.get(start) ?? { received: 0, valid: 0, flags: noFlags() };
      const expected = expectedIn(span, typical);
      days.push({ day: localDate(start, this.timeZone), received: tally.received, expected, completeness: completeness(tally.received, expected), valid: tally.valid, flags: tally.flags });
      total.received += tally.received;
      total.valid += tally.valid;
      if (total.expected !== null && expected !== null) total.expected += expected;
      for (const flag of QUALITY_FLAGS) total.flags[flag] += tally.flags[flag];
    }
    return { typicalIntervalS: typical, days, total: { ...total, completeness: completeness(total.received, total.expected) } };
  }
}

/** Readings expected in `spanMs` at one every `typicalS` seconds; null while the cadence is unknown. */
function expectedIn(spanMs: number, typicalS: number | null): number | null {
  return typicalS === null ? null : Math.floor(spanMs / (typicalS * 1000));
}

/**
 * A meter's cadence estimated from its rollups (rollups.ts, hourly or
 * daily): the weighted median of the mean interval between the usable
 * readings inside each rollup (one sample per interval) and the gaps
 * between one rollup's newest and the next non-empty one's oldest; whole
 * seconds, at least 1; null with fewer than two usable readings (rollups
 * holding unusable readings give no inner sample). For a
 * meter that reads at a steady cadence it is that cadence, as
 * QualityAccumulator finds it from the readings themselves (from days, an
 * outage inside a day lengthens that day's mean: a meter mostly steady
 * keeps its cadence, the median being the steady days').
 */
export function typicalIntervalOfRollups(hours: readonly Rollup[]): number | null {
  const samples = new Map<number, number>();
  const sample = (ms: number, weight: number): void => {
    const seconds = Math.round(ms / 1000);
    samples.set(seconds, (samples.get(seconds) ?? 0) + weight);
  };
  let previous: Rollup | undefined;
  for (const rollup of hours) {
    if (rollup.oldest === undefined || rollup.newest === undefined) continue;
    // A rollup with readings validation made unusable (pico, regressiva) gives no inner sample: its usable readings'
    // mean spacing would count each such reading as a gap (QualityAccumulator spaces every reading, usable or not).
    if (rollup.usable > 1 && rollup.usable === rollup.readings) sample((rollup.newest.timestamp - rollup.oldest.timestamp) / (rollup.usable - 1), rollup.usable - 1);
    if (previous?.newest !== undefined) sample(rollup.oldest.timestamp - previous.newest.timestamp, 1);
    previous = rollup;
  }
  let count = 0;
  for (const weight of samples.values()) count += weight;
  if (count === 0) return null;
  const middle = Math.floor((count - 1) / 2);
  let seen = 0;
  for (const seconds of [...samples.keys()].sort((a, b) => a - b)) {
    seen += samples.get(seconds) as number;
    if (seen > middle) return Math.max(1, seconds);
  }
  return null;
}

/**
 * Readings received, valid and the completeness over [from, to) from hourly
 * rollups (hours that start in it): the fleet report's figures for a meter,
 * with expected readings per local day as QualityAccumulator counts them and
 * the cadence of typicalIntervalOfRollups.
 */
export function rollupQuality(hours: readonly Rollup[], from: number, to: number, timeZone: string): { received: number; valid: number; completeness: number | null } {
  const inRange = hours.filter((rollup) => rollup.start >= from && rollup.start < to);
  const typical = typicalIntervalOfRollups(inRange);
  let received = 0;
  let valid = 0;
  for (const rollup of inRange) {
    received += rollup.readings;
    valid += rollup.readings - rollup.flagged;
  }
  let expected: number | null = typical === null ? null : 0;
  if (expected !== null) for (const span of daySpans(from, to, timeZone)) expected += expectedIn(span, typical) as number;
  return { received, valid, completeness: completeness(received, expected) };
}

let lastDaySpans: { from: number; to: number; timeZone: string; spans: readonly number[] } | undefined;

/** The length in [from, to) of each local day it touches; the last range asked is remembered (a fleet report asks it for every meter). */
function daySpans(from: number, to: number, timeZone: string): readonly number[] {
  if (lastDaySpans?.from === from && lastDaySpans.to === to && lastDaySpans.timeZone === timeZone) return lastDaySpans.spans;
  const spans: number[] = [];
  for (let start = periodStart(from, 'dia', timeZone); start < to; start = nextPeriodStart(start, 'dia', timeZone)) spans.push(Math.min(nextPeriodStart(start, 'dia', timeZone), to) - Math.max(start, from));
  lastDaySpans = { from, to, timeZone, spans };
  return spans;
}

function localDate(instant: number, timeZone: string): string {
  return new Date(instant + zoneOffset(instant, timeZone)).toISOString().slice(0, 10);
}
