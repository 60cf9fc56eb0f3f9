/**
 * Gathers the facts recommendations are made from (domain/
 * recommendations.ts): the forecast and its prices, the Tarifa Branca
 * comparison, the night-time baseload of the last two weeks, the previous
 * cycle and the same cycle last year, the goal.
 */
import type { HistoryQuery, Store } from '../database/store.js';
import { registerAtHour } from '../domain/readings/rollups.js';
import { usable } from '../database/usable-readings.js';
import { DAY_MS, wallClockInstant, zoneOffset } from '../protocol/timestamp.js';
import type { BillingService } from './billing/billing.js';
import { cycleMonth, previousMonth } from '../domain/billing/cycle.js';
import { recommend, type Recommendation, type RecommendationFacts } from '../domain/recommendations.js';
import type { CycleForecast, Forecasting } from './forecast/forecasting.js';
import { DomainError } from '../domain/errors.js';

/** Nights looked at for the baseload, and the hours of a night (local). */
export const BASELOAD_NIGHTS = 14;
const NIGHT_FROM_HOUR = 0;
const NIGHT_TO_HOUR = 5;
/** Closed cycles the Tarifa Branca comparison looks at. */
export const COMPARED_CYCLES = 6;
const HOUR_MS = 3_600_000;
/** A night's edge takes the register of a reading at most this old. */
const REGISTER_MAX_AGE_MS = HOUR_MS / 4;

export class Recommending {
  constructor(
    private readonly billing: BillingService,
    private readonly forecasting: Forecasting,
    private readonly store: Store,
  ) {}

  async recommendations(matricula: string, now = Date.now()): Promise<{ facts: RecommendationFacts; recommendations: Recommendation[] }> {
    let made: CycleForecast | undefined;
    try {
      made = await this.forecasting.forecast(matricula, now);
    } catch (error) {
      // Without billing (DISTRIBUIDORA unset, no parameters or tariffs) or a cycle to forecast, the rules that need only readings still run.
      if (!(error instanceof DomainError)) throw error;
    }
    const projected = made?.forecast.consumption;
    const variable = made === undefined || made.total === null || made.fixed === null ? undefined : made.total - made.fixed;
    const facts: RecommendationFacts = {
      priceMilliCentsPerKwh: projected === undefined || variable === undefined || projected === 0n ? null : (variable * 1_000_000n) / projected,
      modality: made === undefined ? undefined : await this.modality(matricula, cycleMonth(made.bill.cycle), made.bill.profile.modality, now),
      baseload: await this.baseload(matricula, now),
      forecast:
        made === undefined
          ? undefined
          : {
              projected: made.forecast.consumption,
              previous: (await this.forecasting.consumptionOf(matricula, previousMonth(cycleMonth(made.bill.cycle)), now))?.consumption ?? null,
              lastYear: made.forecast.lastYearRatePerDay === null ? null : (made.forecast.lastYearRatePerDay * BigInt(made.bill.cycle.end - made.bill.cycle.start)) / BigInt(DAY_MS),
            },
      goal:
        made?.goal === null || made?.goal === undefined
          ? undefined
          : made.goal.goal.kind === 'kwh'
            ? { kind: 'kwh', goal: made.goal.goal.kwh, projected: made.forecast.consumption }
            : made.total === null
              ? undefined
              : { kind: 'valor', goal: made.goal.goal.cents, projected: made.total },
    };
    return { facts, recommendations: recommend(facts) };
  }

  private async modality(matricula: string, openMonth: string, current: 'convencional' | 'branca', now: number): Promise<RecommendationFacts['modality']> {
    // Comparing modalities prices cycles: not without billing.
    if (!this.billing.configured) return undefined;
    const comparison = await this.billing.compareModalities(matricula, previousMonth(openMonth), COMPARED_CYCLES, now);
    return { current, compared: comparison.compared, conventional: comparison.conventional, white: comparison.white };
  }

  /** The lowest mean power (W) of the last nights' 00:00-05:00, from the registers at those hours. */
  private async baseload(matricula: string, now: number): Promise<RecommendationFacts['baseload']> {
    const timeZone = this.billing.timeZone;
    const today = Math.floor((now + zoneOffset(now, timeZone)) / DAY_MS) * DAY_MS;
    const boundaries: Array<{ from: number; to: number }> = [];
    for (let night = BASELOAD_NIGHTS; night >= 0; night--) {
      const wallDay = today - night * DAY_MS;
      boundaries.push({ from: wallClockInstant(wallDay + NIGHT_FROM_HOUR * HOUR_MS, timeZone), to: wallClockInstant(wallDay + NIGHT_TO_HOUR * HOUR_MS, timeZone) });
    }
    const first = boundaries[0] as { from: number };
    const range = { matricula, from: first.from - HOUR_MS, to: now + 1 };
    // Nights of whole UTC hours (every zone of Brazil's) are read from the hourly rollups: two weeks of readings are not.
    const at = boundaries.every(({ from, to }) => from % HOUR_MS === 0 && to % HOUR_MS === 0) ? await this.registersFromRollups(range) : await this.registersFromReadings(range);
    let lowest: bigint | undefined;
    let nights = 0;
    for (const { from, to } of boundaries) {
      const start = at(from);
      const end = at(to);
      if (start === undefined || end === undefined || end < start || to > now) continue;
      nights++;
      // thousandths of a kWh over the night's hours = W x hours: W = thousandths / hours.
      const watts = ((end - start) * BigInt(HOUR_MS)) / BigInt(to - from);
      if (lowest === undefined || watts < lowest) lowest = watts;
    }
    return lowest === undefined ? undefined : { watts: lowest, nights };
  }

  /** The register at an instant (a whole hour): the newest usable reading at most a quarter of an hour before it. */
  private async registersFromRollups(range: HistoryQuery): Promise<(instant: number) => bigint | undefined> {
    const byHour = new Map((await this.store.hourly(range)).map((rollup) => [rollup.start, rollup]));
    return (instant) => registerAtHour(byHour, instant, REGISTER_MAX_AGE_MS);
  }

  /** The same from the readings themselves, for any instant. */
  private async registersFromReadings(range: HistoryQuery): Promise<(instant: number) => bigint | undefined> {
    const timestamps: number[] = [];
    const registers: bigint[] = [];
    for await (const batch of this.store.history(range)) {
      for (const reading of batch) {
        if (!usable(reading)) continue;
        timestamps.push(reading.timestamp);
        registers.push(reading.consumo);
      }
    }
    timestamps.reverse();
    registers.reverse();
    return (instant) => {
      let low = 0;
      let high = timestamps.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((timestamps[mid] as number) <= instant) low = mid + 1;
        else high = mid;
      }
      return low > 0 && instant - (timestamps[low - 1] as number) <= REGISTER_MAX_AGE_MS ? registers[low - 1] : undefined;
    };
  }
}
