/**
 * Exact decimal numbers as scaled BigInts.
 *
 * Registers, tariffs and money never go through binary floating point: a
 * value is an integer count of 10^-scale units (a register of `1302.5` at
 * scale 3 is `1302500n`). Parsing and formatting are exact and total.
 */

/** Fractional digits of a meter register (the protocol allows at most 3). */
export const REGISTER_SCALE = 3;
/** Significant digits a register may carry (protocol limit). */
export const REGISTER_MAX_SIGNIFICANT_DIGITS = 15;

const DECIMAL_PATTERN = /^(\d+)(?:\.(\d+))?$/;

export interface DecimalLimits {
  /** Most fractional digits accepted; the result is scaled by 10^scale. */
  readonly scale: number;
  /** Most significant digits accepted (leading zeros do not count). */
  readonly maxSignificantDigits: number;
}

/**
 * Parses a non-negative plain decimal (`1302`, `1302.5`, `0.125`) into an
 * integer of 10^-scale units. No sign, exponent, spaces or empty parts.
 * Returns undefined when the text is not such a number or breaks a limit.
 */
export function parseDecimal(text: string, limits: DecimalLimits): bigint | undefined {
  const parts = decimalParts(text, limits);
  return parts === undefined ? undefined : BigInt(parts.integer + parts.fraction.padEnd(limits.scale, '0'));
}

/** Whether `text` is a decimal parseDecimal accepts, without building the number. */
export function isDecimal(text: string, limits: DecimalLimits): boolean {
  return decimalParts(text, limits) !== undefined;
}

function decimalParts(text: string, limits: DecimalLimits): { integer: string; fraction: string } | undefined {
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) return undefined;
  const integer = match[1] as string;
  const fraction = match[2] ?? '';
  if (fraction.length > limits.scale) return undefined;
  let leadingZeros = 0;
  const digits = integer + fraction;
  while (leadingZeros < digits.length && digits.charCodeAt(leadingZeros) === 48) leadingZeros++;
  if (digits.length - leadingZeros > limits.maxSignificantDigits) return undefined;
  return { integer, fraction };
}

const REGISTER_LIMITS: DecimalLimits = { scale: REGISTER_SCALE, maxSignificantDigits: REGISTER_MAX_SIGNIFICANT_DIGITS };

/** Integer digits of a register read as a Number on the fast path: with 3 decimals, under 2^53 and within 15 significant digits. */
const FAST_INTEGER_DIGITS = 12;

/**
 * Parses a register value as the protocol defines it (scale 3, 15 digits).
 * The common form (up to 12 integer digits, up to 3 decimals) is read digit
 * by digit as an exact Number: it runs for every reading received. Anything
 * else goes through parseDecimal, which decides.
 */
export function parseRegister(text: string): bigint | undefined {
  const length = text.length;
  let units = 0;
  let i = 0;
  for (; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    units = units * 10 + digit;
  }
  if (i === 0 || i > FAST_INTEGER_DIGITS) return parseDecimal(text, REGISTER_LIMITS);
  units *= POWERS_OF_TEN[REGISTER_SCALE] as number;
  if (i < length) {
    const decimals = length - i - 1;
    if (text.charCodeAt(i) !== 46 || decimals < 1 || decimals > REGISTER_SCALE) return parseDecimal(text, REGISTER_LIMITS);
    let fraction = 0;
    for (let j = i + 1; j < length; j++) {
      const digit = text.charCodeAt(j) - 48;
      if (digit < 0 || digit > 9) return undefined;
      fraction = fraction * 10 + digit;
    }
    units += fraction * (POWERS_OF_TEN[REGISTER_SCALE - decimals] as number);
  }
  return BigInt(units);
}

/** Whether `text` is a register as the protocol defines it. */
export function isRegister(text: string): boolean {
  return isDecimal(text, REGISTER_LIMITS);
}

/**
 * Formats an integer of 10^-scale units as the shortest plain decimal:
 * no exponent, no trailing fractional zeros (`1302500n`, 3 -> `1302.5`).
 */
export function formatDecimal(units: bigint, scale: number): string {
  if (units <= MAX_SAFE_UNITS && units >= -MAX_SAFE_UNITS && scale < POWERS_OF_TEN.length) return formatSafeDecimal(Number(units), scale);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const integerPart = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return (negative ? '-' : '') + integerPart + (fraction.length > 0 ? '.' + fraction : '');
}

const MAX_SAFE_UNITS = BigInt(Number.MAX_SAFE_INTEGER);
const POWERS_OF_TEN = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** formatDecimal for |units| <= 2^53 - 1, where Number arithmetic is exact: no BigInt on the hot path. */
function formatSafeDecimal(units: number, scale: number): string {
  const magnitude = Math.abs(units);
  const power = POWERS_OF_TEN[scale] as number;
  let fraction = magnitude % power;
  const integerPart = (magnitude - fraction) / power;
  const sign = units < 0 ? '-' : '';
  if (fraction === 0) return sign + String(integerPart);
  let digits = scale;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  return `${sign}${integerPart}.${String(fraction).padStart(digits, '0')}`;
}

/** Formats a register held at {@link REGISTER_SCALE}. */
export function formatRegister(units: bigint): string {
  return formatDecimal(units, REGISTER_SCALE);
}

/**
 * Divides exactly and rounds half away from zero (half-up for the
 * non-negative amounts this project bills).
 */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (2n * n + d) / (2n * d);
  return negative ? -quotient : quotient;
}

/** 10^exponent as a BigInt. */
export function powerOfTen(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}
