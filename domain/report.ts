/**
 * A meter's report over periods (pure): each period's consumption (from
 * register differences, domain/readings/periods.ts), CO2e, readings, validation
 * flags and the electrical quantities' mean, minimum and maximum. Exact:
 * quantities in thousandths, means rounded half-up once.
 */
import { divideRoundHalfUp } from '../protocol/decimal.js';
import { QUANTITIES, type QuantityName } from '../protocol/quantities.js';
import { qualityFlags, VALID } from './readings/quality.js';
import type { StoredReading } from './readings/reading.js';
import { PeriodAccumulator, type PeriodConsumption } from './readings/periods.js';

export interface QuantityStats {
  readonly mean: bigint;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
}

export interface ReportPeriod extends PeriodConsumption {
  readonly flagged: number;
  readonly quantities: Partial<Record<QuantityName, QuantityStats>>;
}

interface Tally {
  flagged: number;
  sums: Map<QuantityName, { sum: bigint; min: number; max: number; samples: number }>;
}

/** Feeds readings newest first (as history gives them) into the report's periods. */
export class ReportAccumulator {
  private readonly consumption: PeriodAccumulator;
  private readonly tallies: Tally[];

  constructor(private readonly boundaries: readonly number[], previousStart: number) {
    this.consumption = new PeriodAccumulator(boundaries, previousStart);
    this.tallies = Array.from({ length: boundaries.length - 1 }, () => ({ flagged: 0, sums: new Map() }));
  }

  get range(): { from: number; to: number } {
    return this.consumption.range;
  }

  /** Usable readings make the consumption; every reading in a period counts for flags and quantities. */
  add(newestFirst: readonly StoredReading[], usable: (reading: StoredReading) => boolean): void {
    this.consumption.add(newestFirst.filter(usable));
    for (const reading of newestFirst) {
      const index = this.periodOf(reading.timestamp);
      if (index === -1) continue;
      const tally = this.tallies[index] as Tally;
      if (qualityFlags(reading.quality ?? VALID).length > 0) tally.flagged++;
      const quantities = reading.quantities;
      if (quantities === undefined || !usable(reading)) continue;
      for (const spec of QUANTITIES) {
        const value = quantities[spec.name];
        if (value === undefined) continue;
        const entry = tally.sums.get(spec.name);
        if (entry === undefined) tally.sums.set(spec.name, { sum: BigInt(value), min: value, max: value, samples: 1 });
        else {
          entry.sum += BigInt(value);
          entry.min = Math.min(entry.min, value);
          entry.max = Math.max(entry.max, value);
          entry.samples++;
        }
      }
    }
  }

  periods(): ReportPeriod[] {
    return this.consumption.periods().map((period, index) => {
      const tally = this.tallies[index] as Tally;
      const quantities: Partial<Record<QuantityName, QuantityStats>> = {};
      for (const [name, entry] of tally.sums) quantities[name] = { mean: divideRoundHalfUp(entry.sum, BigInt(entry.samples)), min: entry.min, max: entry.max, samples: entry.samples };
      return { ...period, flagged: tally.flagged, quantities };
    });
  }

  /** The period (0-based) holding `instant`, or -1. */
  private periodOf(instant: number): number {
    const b = this.boundaries;
    if (instant < (b[0] as number) || instant >= (b[b.length - 1] as number)) return -1;
    let low = 0;
    let high = b.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if ((b[mid] as number) <= instant) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}
