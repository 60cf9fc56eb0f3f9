/**
 * Billing and consumption-alert arithmetic, exact: registers are integer
 * thousandths (BigInt), the tariff a scaled integer, and every division is
 * rounded once, half-up, at the end.
 */
import { divideRoundHalfUp, parseDecimal, powerOfTen, REGISTER_SCALE } from '../../protocol/decimal.js';
import type { Reading } from '../../protocol/meter-protocol.js';

/** Fractional digits a tariff may have. */
export const TARIFF_MAX_SCALE = 6;
/** Money is rounded to cents. */
export const MONEY_SCALE = 2;
/** The alert fires when the last period is at least ALERT_FACTOR times the mean of the previous ones. */
export const ALERT_FACTOR_NUMERATOR = 3n;
export const ALERT_FACTOR_DENOMINATOR = 2n;
/** Periods averaged before the last one. */
export const ALERT_BASELINE_PERIODS = 3;
/** Readings the alert needs: one more than its periods. */
export const ALERT_READINGS = ALERT_BASELINE_PERIODS + 2;

/** A price per unit of consumption, as `units x 10^-scale`. */
export interface Tariff {
  readonly units: bigint;
  readonly scale: number;
}

export function parseTariff(text: string): Tariff | undefined {
  const units = parseDecimal(text, { scale: TARIFF_MAX_SCALE, maxSignificantDigits: 15 });
  return units === undefined ? undefined : { units, scale: TARIFF_MAX_SCALE };
}

export interface Invoice {
  readonly previous: Reading;
  readonly current: Reading;
  /** Thousandths of a unit. */
  readonly consumption: bigint;
  /** Cents, rounded half-up. */
  readonly amountCents: bigint;
}

/** Inconsistent: a register went down between two readings. */
export const INCONSISTENT = 'inconsistent';

/** What a consumption (thousandths of a unit, not negative) costs at a tariff, in cents rounded half-up. */
export function costCents(consumption: bigint, tariff: Tariff): bigint {
  // consumption [10^-3] x tariff [10^-scale] -> cents [10^-2]
  return divideRoundHalfUp(consumption * tariff.units * powerOfTen(MONEY_SCALE), powerOfTen(REGISTER_SCALE + tariff.scale));
}

/** Bills the period between the two newest readings; `previous` is the older one. */
export function computeInvoice(previous: Reading, current: Reading, tariff: Tariff): Invoice | typeof INCONSISTENT {
  const consumption = current.consumo - previous.consumo;
  if (consumption < 0n) return INCONSISTENT;
  return { previous, current, consumption, amountCents: costCents(consumption, tariff) };
}

export interface ConsumptionAlert {
  /** Consumption of each period, oldest first, in thousandths. */
  readonly periods: readonly bigint[];
  readonly alert: boolean;
  /** Mean of the baseline periods, in thousandths, rounded half-up. */
  readonly baselineMean: bigint;
  /** ALERT_FACTOR x mean, in thousandths, rounded half-up. */
  readonly threshold: bigint;
  /** Last period minus the mean when the alert fires, else 0, in thousandths, rounded half-up. */
  readonly excess: bigint;
}

/**
 * Decides the alert from the ALERT_READINGS newest readings, given oldest
 * first. `last >= 1.5 x sum/3` is tested as `2 x 3 x last >= 3 x sum`
 * in integers, so the boundary is exact.
 */
export function computeAlert(readings: readonly Reading[]): ConsumptionAlert | typeof INCONSISTENT {
  if (readings.length !== ALERT_READINGS) throw new RangeError(`the alert needs exactly ${ALERT_READINGS} readings`);
  const periods: bigint[] = [];
  for (let i = 1; i < readings.length; i++) periods.push((readings[i] as Reading).consumo - (readings[i - 1] as Reading).consumo);
  if (periods.some((period) => period < 0n)) return INCONSISTENT;
  const last = periods[periods.length - 1] as bigint;
  const baselineSum = periods.slice(0, -1).reduce((sum, period) => sum + period, 0n);
  const count = BigInt(ALERT_BASELINE_PERIODS);
  const alert = last > 0n && last * ALERT_FACTOR_DENOMINATOR * count >= ALERT_FACTOR_NUMERATOR * baselineSum;
  return {
    periods,
    alert,
    baselineMean: divideRoundHalfUp(baselineSum, count),
    threshold: divideRoundHalfUp(ALERT_FACTOR_NUMERATOR * baselineSum, ALERT_FACTOR_DENOMINATOR * count),
    excess: alert ? divideRoundHalfUp(last * count - baselineSum, count) : 0n,
  };
}

/** Whether a meter's newest readings raise the consumption alert; null when they cannot tell (too few, register went down). */
export function alertOf(recent: readonly Reading[]): boolean | null {
  if (recent.length < ALERT_READINGS) return null;
  const alert = computeAlert([...recent].reverse());
  return alert === INCONSISTENT ? null : alert.alert;
}
