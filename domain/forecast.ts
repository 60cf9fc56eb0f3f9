/**
 * The open cycle's consumption projected to its end (pure).
 *
 * Method ("taxa do ciclo combinada com o mesmo ciclo do ano anterior"):
 * the rest of the cycle is consumed at a blend of the cycle's own rate so
 * far and the rate of the same cycle last year, the own rate weighing as
 * much as the share of the cycle already elapsed:
 *
 *     rate = (E/T) x C/E + (1 - E/T) x L/D      remaining = (T - E) x rate
 *
 * with C consumed in the E elapsed of the cycle's T, and L consumed in the D
 * of last year's cycle. Without last year, rate = C/E. Exact: kWh in
 * thousandths, one half-up rounding.
 *
 * Range: the spread of the cycle's complete days so far (their standard
 * deviation s, over n remaining days: 1.96 x s x sqrt(n), a 95% band if
 * days were independent), or +/-25% of the remainder with fewer than 3
 * complete days. The band is a judgement in floating point, rounded to the
 * Wh; the projection itself is exact.
 */
import { divideRoundHalfUp } from '../protocol/decimal.js';
import { DAY_MS } from '../protocol/timestamp.js';

export const FORECAST_METHOD = 'taxa_do_ciclo_combinada_com_ano_anterior';
/** Complete days the spread needs before it replaces the flat band. */
export const MIN_DAYS_FOR_SPREAD = 3;
/** The flat band: a quarter of the remainder either way. */
const FLAT_BAND_NUMERATOR = 1n;
const FLAT_BAND_DENOMINATOR = 4n;
const Z_95 = 1.96;

export interface ForecastInput {
  /** The cycle's boundaries, ms. */
  readonly cycleStart: number;
  readonly cycleEnd: number;
  /** The instant the consumption so far is measured to (the newest usable reading). */
  readonly asOf: number;
  /** Consumed from the cycle's start to `asOf`, thousandths of a kWh. */
  readonly consumedSoFar: bigint;
  /** Consumption of each complete day of the cycle so far, thousandths of a kWh. */
  readonly completeDays: readonly bigint[];
  /** The same cycle last year, when it can be measured. */
  readonly lastYear?: { readonly consumption: bigint; readonly durationMs: number } | undefined;
}

export interface Forecast {
  readonly method: typeof FORECAST_METHOD;
  /** Projected consumption of the whole cycle, thousandths of a kWh. */
  readonly consumption: bigint;
  readonly low: bigint;
  readonly high: bigint;
  /** Thousandths of a kWh per day. */
  readonly ownRatePerDay: bigint;
  readonly lastYearRatePerDay: bigint | null;
  /** The weight of the cycle's own rate, in thousandths (E/T). */
  readonly ownWeight: bigint;
}

export function forecastCycle(input: ForecastInput): Forecast {
  const total = BigInt(input.cycleEnd - input.cycleStart);
  const elapsed = BigInt(Math.min(Math.max(input.asOf - input.cycleStart, 1), input.cycleEnd - input.cycleStart));
  const left = total - elapsed;
  const consumed = input.consumedSoFar;
  const lastYear = input.lastYear;
  let remaining: bigint;
  if (lastYear === undefined || lastYear.durationMs <= 0) remaining = divideRoundHalfUp(left * consumed, elapsed);
  // (T-E) x [E/T x C/E + (T-E)/T x L/D] = (T-E) x C/T + (T-E)^2 x L/(T x D), over one common denominator.
  else remaining = divideRoundHalfUp(left * consumed * BigInt(lastYear.durationMs) + left * left * lastYear.consumption, total * BigInt(lastYear.durationMs));
  const consumption = consumed + remaining;
  const band = spread(input.completeDays, Number(left) / DAY_MS, remaining);
  return {
    method: FORECAST_METHOD,
    consumption,
    low: consumption - band < consumed ? consumed : consumption - band,
    high: consumption + band,
    ownRatePerDay: divideRoundHalfUp(consumed * BigInt(DAY_MS), elapsed),
    lastYearRatePerDay: lastYear === undefined || lastYear.durationMs <= 0 ? null : divideRoundHalfUp(lastYear.consumption * BigInt(DAY_MS), BigInt(lastYear.durationMs)),
    ownWeight: divideRoundHalfUp(elapsed * 1000n, total),
  };
}

/** Half the band's width, thousandths of a kWh. */
function spread(days: readonly bigint[], remainingDays: number, remaining: bigint): bigint {
  if (days.length < MIN_DAYS_FOR_SPREAD) return divideRoundHalfUp(remaining * FLAT_BAND_NUMERATOR, FLAT_BAND_DENOMINATOR);
  const values = days.map(Number);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return BigInt(Math.round(Z_95 * Math.sqrt(variance) * Math.sqrt(Math.max(remainingDays, 0))));
}

/** Absolute percentage error of a projection against the actual, in thousandths of a percent; null when the actual is 0. */
export function percentageError(projected: bigint, actual: bigint): bigint | null {
  if (actual === 0n) return null;
  const difference = projected > actual ? projected - actual : actual - projected;
  return divideRoundHalfUp(difference * 100_000n, actual);
}

/** Mean of percentage errors (thousandths of a percent), ignoring nulls; null when none. */
export function meanError(errors: readonly (bigint | null)[]): bigint | null {
  const known = errors.filter((error): error is bigint => error !== null);
  return meanOfSum(known.reduce((sum, error) => sum + error, 0n), known.length);
}

/** The mean of `count` errors that add up to `sum`, rounded half-up; null when none. */
export const meanOfSum = (sum: bigint, count: number): bigint | null => (count === 0 ? null : divideRoundHalfUp(sum, BigInt(count)));
