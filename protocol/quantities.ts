/**
 * A reading's instantaneous electrical quantities, the optional field of a
 * MEDICAO line: `V=219.8,A=5.12,kW=1.05,FP=0.93,Hz=60.01` — voltage (V),
 * current (A), active power (kW), power factor and frequency (Hz), each
 * optional, in any order, each at most once, at least one. Values are plain
 * non-negative decimals with at most 3 fractional digits, held exactly as
 * integer thousandths (`219.8` is 219800).
 */
import { formatDecimal, parseDecimal, type DecimalLimits } from './decimal.js';

/** Fractional digits of every quantity. */
export const QUANTITY_SCALE = 3;

/** The quantities, in thousandths of their unit; absent when the meter did not measure it. */
export interface Quantities {
  readonly voltage?: number | undefined;
  readonly current?: number | undefined;
  readonly activePower?: number | undefined;
  readonly powerFactor?: number | undefined;
  readonly frequency?: number | undefined;
}

export type QuantityName = keyof Quantities;

interface QuantitySpec {
  readonly name: QuantityName;
  /** Its key on the wire and in the readings log. */
  readonly key: string;
  /** Its field in the JSON and CSV answers. */
  readonly json: string;
  /** Largest value accepted, in thousandths. */
  readonly max: number;
}

/** Every quantity, in the order they are written. */
export const QUANTITIES: readonly QuantitySpec[] = [
  { name: 'voltage', key: 'V', json: 'tensao_v', max: 1_000_000_000 },
  { name: 'current', key: 'A', json: 'corrente_a', max: 1_000_000_000 },
  { name: 'activePower', key: 'kW', json: 'potencia_kw', max: 1_000_000_000 },
  { name: 'powerFactor', key: 'FP', json: 'fator_potencia', max: 1000 },
  { name: 'frequency', key: 'Hz', json: 'frequencia_hz', max: 1_000_000 },
];

const BY_KEY = new Map(QUANTITIES.map((spec) => [spec.key, spec]));
const LIMITS: DecimalLimits = { scale: QUANTITY_SCALE, maxSignificantDigits: 13 };

/** Whether a reading field is a quantities field rather than a MAC or a register: it starts with a key and `=`. */
export function looksLikeQuantities(field: string): boolean {
  return field.includes('=');
}

/** Parses a quantities field; undefined when any part is malformed, repeated, unknown or out of range. */
export function parseQuantities(text: string): Quantities | undefined {
  if (text.length === 0 || text.length > 120) return undefined;
  const result: Record<string, number> = {};
  for (const part of text.split(',')) {
    const equals = part.indexOf('=');
    if (equals === -1) return undefined;
    const spec = BY_KEY.get(part.slice(0, equals));
    if (spec === undefined || result[spec.name] !== undefined) return undefined;
    const value = parseDecimal(part.slice(equals + 1), LIMITS);
    if (value === undefined || value > BigInt(spec.max)) return undefined;
    result[spec.name] = Number(value);
  }
  return result as Quantities;
}

/** The canonical field (keys in QUANTITIES order); undefined when there is nothing to write. */
export function formatQuantities(quantities: Quantities | undefined): string | undefined {
  if (quantities === undefined) return undefined;
  const parts: string[] = [];
  for (const spec of QUANTITIES) {
    const value = quantities[spec.name];
    if (value !== undefined) parts.push(`${spec.key}=${formatDecimal(BigInt(value), QUANTITY_SCALE)}`);
  }
  return parts.length === 0 ? undefined : parts.join(',');
}
