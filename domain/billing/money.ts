/**
 * Exact billing arithmetic on scaled integers: energy in thousandths of a
 * kWh, prices in 10^-8 R$ per kWh (R$/MWh with up to 5 places), rates in
 * 10^-6, money in cents. Invoices compute with exact ratios (exact.ts) and round only what they print.
 */
import { formatDecimal, parseDecimal, powerOfTen } from '../../protocol/decimal.js';

export const KWH_SCALE = 3;
export const PRICE_SCALE = 8;
export const RATE_SCALE = 6;
export const CENTS_SCALE = 2;

/** A decimal text (`"0.04463"`, `"294,59"` with a decimal comma) at `scale`, or undefined. */
export function parseScaled(text: string, scale: number): bigint | undefined {
  return parseDecimal(text.replace(',', '.'), { scale, maxSignificantDigits: 18 });
}

/** R$/MWh (ANEEL's unit) to R$/kWh: the same digits, three places further. */
export function perMwhToPerKwh(perMwh: bigint, perMwhScale: number): bigint {
  // x R$/MWh at scale s is x / 1000 R$/kWh: at PRICE_SCALE that is x * 10^(PRICE_SCALE - s - 3).
  const shift = PRICE_SCALE - perMwhScale - 3;
  if (shift < 0) throw new RangeError('R$/MWh with more places than PRICE_SCALE allows');
  return perMwh * powerOfTen(shift);
}

/**
 * Splits `amount` in proportion to `weights` exactly: floors of the shares,
 * then one unit each to the largest remainders (ties: the earlier weight).
 */
export function splitExact(amount: bigint, weights: readonly bigint[]): bigint[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0n);
  if (total === 0n) return weights.map(() => 0n);
  const parts = weights.map((weight) => (amount * weight) / total);
  let left = amount - parts.reduce((sum, part) => sum + part, 0n);
  const order = weights.map((weight, index) => ({ index, remainder: (amount * weight) % total })).sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (let i = 0; left > 0n; i++, left--) parts[(order[i] as { index: number }).index] = (parts[(order[i] as { index: number }).index] as bigint) + 1n;
  return parts;
}

/** Money as people write it: always two places (`12.50`). */
export function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const digits = (negative ? -cents : cents).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
export const formatPrice = (price: bigint): string => formatDecimal(price, PRICE_SCALE);
