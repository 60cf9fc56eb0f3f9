/**
 * Forecasts of the open cycle (domain/forecast.ts) from what billing
 * knows — the cycle, its start register, the newest usable reading, the
 * same cycle last year — and their record: each cycle's projection made at
 * mid-cycle is written down while the cycle is open and settled against
 * what it consumed once it closes (app/forecast/forecast-job.ts runs both).
 */
import { co2eOverDays, daysByMonth } from '../../domain/co2e.js';
import { cycleContaining, cycleMonth } from '../../domain/billing/cycle.js';
import { forecastCycle, percentageError, type Forecast } from '../../domain/forecast.js';
import type { BillingService, CycleBill, MeasuredCycle } from '../billing/billing.js';
import type { EmissionFactors } from '../emission-factors.js';
import { DomainError, type DomainErrorCode } from '../../domain/errors.js';
import { DAY_MS, zoneOffset } from '../../protocol/timestamp.js';
import type { ConsumptionGoal } from '../../database/profile-store.js';
import type { ForecastRecord, ForecastRecordStore } from '../../database/forecast-record-store.js';

/** Closed cycles the accuracy looks back over by default, and at most. */
export const ACCURACY_DEFAULT_CYCLES = 6;
export const ACCURACY_MAX_CYCLES = 24;
/** Months after which a recorded cycle that still cannot be billed is settled as not measured. */
export const STALE_MONTHS = 3;
/** Why a customer's cycle cannot be projected now (not a failure of the pass). */
const NOTHING_TO_PROJECT = new Set<DomainErrorCode>(['sem_medicoes', 'medicoes_insuficientes', 'usuario_nao_cadastrado', 'leituras_inconsistentes']);

export interface CycleForecast {
  /** The open cycle as measured so far. */
  readonly bill: MeasuredCycle;
  readonly forecast: Forecast;
  /** The invoice at the projection, and at the band's ends (cents); null when billing cannot price the cycle (`unpriced` says why). */
  readonly total: bigint | null;
  readonly totalLow: bigint | null;
  readonly totalHigh: bigint | null;
  /** CIP/COSIP: the part of the bill that does not follow the kWh (cents); null as `total`. */
  readonly fixed: bigint | null;
  /** Why the R$ figures are null (billing's wire code and message); null when priced. */
  readonly unpriced: { readonly code: string; readonly message: string } | null;
  readonly co2eGrams: bigint;
  /** `over` null: a goal in R$ with no price to compare. */
  readonly goal: { readonly goal: ConsumptionGoal; readonly over: boolean | null } | null;
}

/** Billing's answers that mean "this cycle cannot be priced now", not a fault: the forecast in kWh goes on without R$. */
const CANNOT_PRICE = new Set<DomainErrorCode>(['faturamento_nao_configurado', 'tarifa_indisponivel', 'tributos_indisponiveis']);

/** The month (`YYYY-MM`) `instant` falls in, in `timeZone`. */
export const calendarMonth = (instant: number, timeZone: string): string => new Date(instant + zoneOffset(instant, timeZone)).toISOString().slice(0, 7);

export const monthsBefore = (month: string, count: number): string => {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m - 1 - count, 1)).toISOString().slice(0, 7);
};

export class Forecasting {
  constructor(
    private readonly billing: BillingService,
    private readonly factors: EmissionFactors,
    readonly records: ForecastRecordStore,
  ) {}

  get timeZone(): string {
    return this.billing.timeZone;
  }

  /** The open cycle projected to its end, as the readings stamped up to `asOf` show it. */
  async forecast(matricula: string, now = Date.now(), asOf = now): Promise<CycleForecast> {
    const bill = await this.billing.measureOpen(matricula, now, asOf);
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
    let priced: [CycleBill, CycleBill, CycleBill] | undefined;
    let unpriced: CycleForecast['unpriced'] = null;
    try {
      priced = (await Promise.all([forecast.consumption, forecast.low, forecast.high].map((kwh) => this.billing.projected(bill, kwh)))) as [CycleBill, CycleBill, CycleBill];
    } catch (error) {
      if (!(error instanceof DomainError) || !CANNOT_PRICE.has(error.code)) throw error;
      unpriced = { code: error.code, message: error.message };
    }
    const lastDay = new Date(Date.parse(`${cycle.endDay}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
    const factorOf = await this.factors.between(cycle.startDay.slice(0, 7), lastDay.slice(0, 7));
    const goal = bill.profile.goal;
    const total = priced === undefined ? null : priced[0].invoice.total;
    return {
      bill,
      forecast,
      total,
      totalLow: priced === undefined ? null : priced[1].invoice.total,
      totalHigh: priced === undefined ? null : priced[2].invoice.total,
      fixed: priced === undefined ? null : priced[0].invoice.cip,
      unpriced,
      co2eGrams: co2eOverDays(forecast.consumption, daysByMonth(cycle.startDay, cycle.endDay), factorOf),
      goal: goal === undefined ? null : { goal, over: goal.kind === 'kwh' ? forecast.consumption > goal.kwh : total === null ? null : total > goal.cents },
    };
  }

  /**
   * Records `matricula`'s forecast of the cycle open at `now` once that
   * cycle is half over and until it ends, if none is recorded: the
   * projection the readings stamped up to mid-cycle give. Resolves the
   * record written, or undefined (not yet, already, or nothing to project).
   */
  async recordMidCycle(matricula: string, readingDay: number, now: number): Promise<ForecastRecord | undefined> {
    const cycle = cycleContaining(now, readingDay, this.billing.timeZone);
    const month = cycleMonth(cycle);
    const mid = cycle.start + Math.floor((cycle.end - cycle.start) / 2);
    if (now < mid || (await this.records.get(matricula, month)) !== undefined) return undefined;
    let made: CycleForecast;
    try {
      made = await this.forecast(matricula, now, mid);
    } catch (error) {
      if (error instanceof DomainError && NOTHING_TO_PROJECT.has(error.code)) return undefined;
      throw error;
    }
    if (cycleMonth(made.bill.cycle) !== month) return undefined; // nothing read in the cycle's first half
    const { consumption, low, high } = made.forecast;
    return this.records.record({ matricula, month, madeAt: now, measuredUpTo: made.bill.end.timestamp, projected: consumption, low, high, actual: null, error: null, settledAt: null });
  }

  /**
   * Settles a record whose cycle is billable at `now` against what the
   * cycle consumed. A cycle whose consumption was not measured (its start
   * or end estimated by the mean of past cycles, or its first reading in
   * the cycle), or still not billable STALE_MONTHS after its month, is
   * settled without an actual. Resolves the settled record, or undefined
   * (not yet).
   */
  async settle(record: ForecastRecord, now: number): Promise<ForecastRecord | undefined> {
    const { matricula, month } = record;
    let actual: bigint | null = null;
    try {
      if (!this.billing.configured) {
        const measured = await this.billing.measuredConsumption(matricula, month, now);
        if (measured === undefined) throw new DomainError('ciclo_aberto', 'not measurable yet');
        actual = measured.consumption;
      } else {
        const bill = await this.billing.bill(matricula, month, now, { history: false });
        const measured = bill.start.flag !== 'primeira_leitura' && bill.start.flag !== 'media_ciclos' && bill.end.flag !== 'media_ciclos' && bill.end.flag !== 'custo_disponibilidade';
        if (measured) actual = bill.invoice.consumption;
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (monthsBefore(calendarMonth(now, this.billing.timeZone), STALE_MONTHS) < month) return undefined;
    }
    return this.records.settle(matricula, month, actual, actual === null ? null : percentageError(record.projected, actual), now);
  }

  /** A closed cycle's consumption and length, or undefined when it cannot be measured. */
  async consumptionOf(matricula: string, month: string, now: number): Promise<{ consumption: bigint; durationMs: number } | undefined> {
    try {
      if (!this.billing.configured) return await this.billing.measuredConsumption(matricula, month, now);
      const bill = await this.billing.bill(matricula, month, now, { history: false });
      if (bill.start.flag === 'primeira_leitura') return undefined;
      return { consumption: bill.invoice.consumption, durationMs: bill.cycle.end - bill.cycle.start };
    } catch (error) {
      if (error instanceof DomainError) return undefined;
      throw error;
    }
  }
}
