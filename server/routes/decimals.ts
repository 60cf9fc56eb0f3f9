/** Exact decimals in route answers. */
import { formatDecimal, REGISTER_SCALE } from '../../protocol/decimal.js';
import { JsonDecimal } from '../../protocol/json.js';

/** A register or consumption held in thousandths, as an exact JSON number. */
export function consumoJson(thousandths: bigint): JsonDecimal {
  return new JsonDecimal(formatDecimal(thousandths, REGISTER_SCALE));
}

export function decimalJson(units: bigint, scale: number): JsonDecimal {
  return new JsonDecimal(formatDecimal(units, scale));
}
