/**
 * Forecasts of the open cycle (server/domain/forecast.ts) from what billing
 * knows — the cycle, its start register, the newest usable reading, the
 * same cycle last year — and their accuracy: for each closed cycle, the
 * forecast the readings stamped up to mid-cycle gave, against what the
 * cycle consumed.
 */
import { co2eOverDays, daysByMonth } from './domain/co2e.js';
import { cycleEndingIn, cycleMonth } from './domain/billing/cycle.js';
import { forecastCycle, meanError, percentageError, type Forecast } from './domain/forecast.js';
import type { BillingService, CycleBill } from './billing.js';
import type { EmissionFactors } from './emission-factors.js';
import { HttpError } from './http/http-error.js';
import type { ConsumptionGoal } from '../database/profile-store.js';

/** Closed cycles the accuracy looks back over by default, and at most. */
export const ACCURACY_DEFAULT_CYCLES = 6;
export const ACCURACY_MAX_CYCLES = 24;

export interface CycleForecast {
  readonly bill: CycleBill;
  readonly forecast: Forecast;
  /** The invoice at the projection, and at the band's ends (cents). */
  readonly total: bigint;
  readonly totalLow: bigint;
  readonly totalHigh: bigint;
  /** CIP/COSIP: the part of the bill that does not follow the kWh (cents). */
  readonly fixed: bigint;
  readonly co2eGrams: bigint;
  readonly goal: { readonly goal: ConsumptionGoal; readonly over: boolean } | null;
}

export interface CycleAccuracy {
  readonly month: string;
  /** Projected at mid-cycle and consumed, thousandths of a kWh. */
  readonly projected: bigint;
  readonly actual: bigint;
  /** Thousandths of a percent; null when nothing was consumed. */
  readonly error: bigint | null;
}

const monthsBefore = (month: string, count: number): string => {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m - 1 - count, 1)).toISOString().slice(0, 7);
};

export class Forecasting {
  constructor(
    private readonly billing: BillingService,
    private readonly factors: EmissionFactors,
  ) {}

  /** The open cycle projected to its end, as the readings stamped up to `asOf` show it. */
  async forecast(matricula: string, now = Date.now(), asOf = now): Promise<CycleForecast> {
    const bill = await this.billing.preview(matricula, now, asOf);
    const { cycle } = bill;
    const month = cycleMonth(cycle);
    const lastYear = await this.consumptionOf(matricula, monthsBefore(month, 12), now);
    const forecast = forecastCycle({
      cycleStart: cycle.start,
      cycleEnd: cycle.end,
      asOf: bill.end.timestamp,
      consumedSoFar: bill.end.register - bill.start.register,
      completeDays: await this.billing.completeDays(matricula, cycle.start, bill.end.timestamp + 1),
      lastYear,
    });
    const [projected, low, high] = await Promise.all([forecast.consumption, forecast.low, forecast.high].map((kwh) => this.billing.projected(bill, kwh)));
    const lastDay = new Date(Date.parse(`${cycle.endDay}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const factorOf = await this.factors.between(cycle.startDay.slice(0, 7), lastDay.slice(0, 7));
    const goal = bill.profile.goal;
    const total = (projected as CycleBill).invoice.total;
    return {
      bill,
      forecast,
      total,
      totalLow: (low as CycleBill).invoice.total,
      totalHigh: (high as CycleBill).invoice.total,
      fixed: (projected as CycleBill).invoice.cip,
      co2eGrams: co2eOverDays(forecast.consumption, daysByMonth(cycle.startDay, cycle.endDay), factorOf),
      goal: goal === undefined ? null : { goal, over: goal.kind === 'kwh' ? forecast.consumption > goal.kwh : total > goal.cents },
    };
  }

  /** The `count` closed cycles before now, newest first: each one's mid-cycle forecast against what it consumed. Cycles that cannot be measured are left out. */
  async accuracy(matricula: string, count: number, now = Date.now()): Promise<CycleAccuracy[]> {
    const { cycle: open, profile } = await this.billing.preview(matricula, now);
    const { readingDay } = profile;
    const results: CycleAccuracy[] = [];
    for (let back = 1; back <= count; back++) {
      const month = monthsBefore(cycleMonth(open), back);
      const cycle = cycleEndingIn(month, readingDay, this.billing.timeZone);
      const actual = await this.consumptionOf(matricula, month, now);
      if (actual === undefined) continue;
      const mid = cycle.start + Math.floor((cycle.end - cycle.start) / 2);
      let projected: bigint;
      try {
        const made = await this.forecast(matricula, now, mid);
        if (cycleMonth(made.bill.cycle) !== month) continue; // nothing read in the cycle's first half
        projected = made.forecast.consumption;
      } catch (error) {
        if (error instanceof HttpError) continue;
        throw error;
      }
      results.push({ month, projected, actual: actual.consumption, error: percentageError(projected, actual.consumption) });
    }
    return results;
  }

  /** A closed cycle's consumption and length, or undefined when it cannot be measured. */
  async consumptionOf(matricula: string, month: string, now: number): Promise<{ consumption: bigint; durationMs: number } | undefined> {
    try {
      const bill = await this.billing.bill(matricula, month, now, { history: false });
      if (bill.start.flag === 'primeira_leitura') return undefined;
      return { consumption: bill.invoice.consumption, durationMs: bill.cycle.end - bill.cycle.start };
    } catch (error) {
      if (error instanceof HttpError) return undefined;
      throw error;
    }
  }
}
