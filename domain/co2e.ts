/**
 * CO2-equivalent of consumption (pure, exact): kWh times the grid's
 * emission factor of the month the energy was used in. The default factor
 * is the Brazilian interconnected grid's (SIN) average for 2023 published by
 * MCTI (SIRENE, "Fator médio - inventários corporativos"): 0.0385 tCO2/MWh,
 * that is 0.0385 kg CO2e per kWh; the operator sets each month's factor
 * (PUT /co2e/fatores/AAAA-MM) as MCTI publishes them.
 *
 * Consumption is in thousandths of a kWh, factors in 10^-6 kg/kWh, CO2e in
 * grams (kg with 3 decimals), each month's share rounded half-up once.
 */
import { divideRoundHalfUp } from '../protocol/decimal.js';
import { DAY_MS } from '../protocol/timestamp.js';

/** 0.0385 kg CO2e/kWh (MCTI, SIN average of 2023) at 10^-6. */
export const DEFAULT_EMISSION_FACTOR = 38_500n;
const FACTOR_UNIT = 1_000_000n;

/** Grams of CO2e of `consumption` thousandths of a kWh at `factor` (10^-6 kg/kWh). */
export function co2eGrams(consumption: bigint, factor: bigint): bigint {
  // 10^-3 kWh x 10^-6 kg/kWh = 10^-9 kg; grams are 10^-3 kg.
  return divideRoundHalfUp(consumption * factor, FACTOR_UNIT);
}

/**
 * Grams of CO2e of a consumption spread over days of several months (a
 * billing cycle, a forecast): each month's share pro rata by its days, as
 * bandeiras are, at that month's factor.
 */
export function co2eOverDays(consumption: bigint, daysByMonth: ReadonlyArray<{ readonly month: string; readonly days: number }>, factorOf: (month: string) => bigint): bigint {
  const totalDays = BigInt(daysByMonth.reduce((sum, entry) => sum + entry.days, 0));
  if (totalDays === 0n) return 0n;
  let grams = 0n;
  for (const { month, days } of daysByMonth) grams += divideRoundHalfUp(consumption * BigInt(days) * factorOf(month), totalDays * FACTOR_UNIT);
  return grams;
}

/** The days of each month from `startDay` (inclusive) to `endDay` (exclusive), both `YYYY-MM-DD`. */
export function daysByMonth(startDay: string, endDay: string): Array<{ month: string; days: number }> {
  const result: Array<{ month: string; days: number }> = [];
  const end = Date.parse(`${endDay}T00:00:00Z`);
  for (let day = Date.parse(`${startDay}T00:00:00Z`); day < end; day += DAY_MS) {
    const month = new Date(day).toISOString().slice(0, 7);
    const last = result[result.length - 1];
    if (last !== undefined && last.month === month) last.days++;
    else result.push({ month, days: 1 });
  }
  return result;
}

/** A lookup of factors by month, falling back to `fallback` for months without one. */
export function factorLookup(factors: ReadonlyArray<{ readonly month: string; readonly kgPerKwh: bigint }>, fallback: bigint): (month: string) => bigint {
  const byMonth = new Map(factors.map((factor) => [factor.month, factor.kgPerKwh]));
  return (month) => byMonth.get(month) ?? fallback;
}

/**
 * Grams of CO2e of periods' consumption: summed per month, each month's sum
 * at its factor rounded once (not each period's), so a total does not carry
 * every period's rounding.
 */
export function co2eOfPeriods(periods: ReadonlyArray<{ readonly month: string; readonly consumption: bigint | undefined }>, factorOf: (month: string) => bigint): bigint {
  const byMonth = new Map<string, bigint>();
  for (const { month, consumption } of periods) if (consumption !== undefined) byMonth.set(month, (byMonth.get(month) ?? 0n) + consumption);
  let grams = 0n;
  for (const [month, consumption] of byMonth) grams += co2eGrams(consumption, factorOf(month));
  return grams;
}
