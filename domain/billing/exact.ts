/**
 * Exact rational arithmetic for billing, and the one rounding the invoice
 * may make. REN 1.000/2021 art. 657: "A distribuidora não pode truncar ou
 * arredondar as grandezas elétricas e os valores monetários durante os
 * processos de leitura e realização de cálculos", and its sole paragraph:
 * the invoice rounds money to two places and quantities to their
 * significant places "observadas as regras de arredondamento da ABNT"
 * (NBR 5891). So every quantity and value is kept as a fraction of
 * integers while an invoice is computed, and rounded only where printed.
 */

/** num / den, den > 0, reduced. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);

function gcd(a: bigint, b: bigint): bigint {
  let x = abs(a);
  let y = abs(b);
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** `num / den` reduced, with a positive denominator. */
export function ratio(num: bigint, den = 1n): Ratio {
  if (den === 0n) throw new RangeError('division by zero');
  const sign = den < 0n ? -1n : 1n;
  const divisor = gcd(num, den) || 1n;
  return { num: (sign * num) / divisor, den: (sign * den) / divisor };
}

export const ZERO: Ratio = { num: 0n, den: 1n };
export const ONE: Ratio = { num: 1n, den: 1n };

/** An integer of 10^-scale units as a ratio (`1650n`, 6 -> 0.00165). */
export const scaled = (units: bigint, scale: number): Ratio => ratio(units, 10n ** BigInt(scale));

export const add = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.den + b.num * a.den, a.den * b.den);
export const sub = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.den - b.num * a.den, a.den * b.den);
export const mul = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.num, a.den * b.den);
export const div = (a: Ratio, b: Ratio): Ratio => ratio(a.num * b.den, a.den * b.num);
export const neg = (a: Ratio): Ratio => ({ num: -a.num, den: a.den });
export const sum = (values: readonly Ratio[]): Ratio => values.reduce(add, ZERO);
export const compare = (a: Ratio, b: Ratio): number => {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};
export const min = (a: Ratio, b: Ratio): Ratio => (compare(a, b) <= 0 ? a : b);
export const max = (a: Ratio, b: Ratio): Ratio => (compare(a, b) >= 0 ? a : b);

/**
 * The value in 10^-scale units, rounded by ABNT NBR 5891: a discarded part
 * below half keeps the last digit, above half raises it, and exactly half
 * leaves the last kept digit even. Symmetric for negative values (a
 * discount rounds as its magnitude does).
 */
export function roundNbr5891(value: Ratio, scale: number): bigint {
  return divideNbr5891(value.num * 10n ** BigInt(scale), value.den);
}

/** `num / den` (den > 0) to an integer by NBR 5891, without reducing the fraction first: the hot paths' form. */
export function divideNbr5891(num: bigint, den: bigint): bigint {
  const magnitude = abs(num);
  const quotient = magnitude / den;
  const twiceRemainder = 2n * (magnitude % den);
  let rounded = quotient;
  if (twiceRemainder > den || (twiceRemainder === den && quotient % 2n === 1n)) rounded += 1n;
  return num < 0n ? -rounded : rounded;
}
