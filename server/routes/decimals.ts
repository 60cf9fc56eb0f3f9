/** Exact decimals in route answers. */
import { formatDecimal, REGISTER_SCALE } from '../../protocol/decimal.js';
import { JsonDecimal } from '../../protocol/json.js';
import { QUANTITIES, QUANTITY_SCALE, type Quantities } from '../../protocol/quantities.js';

/** A register or consumption held in thousandths, as an exact JSON number. */
export function consumoJson(thousandths: bigint): JsonDecimal {
  return new JsonDecimal(formatDecimal(thousandths, REGISTER_SCALE));
}

export function decimalJson(units: bigint, scale: number): JsonDecimal {
  return new JsonDecimal(formatDecimal(units, scale));
}

/** A reading's quantities as JSON fields (`tensao_v`...), exact numbers, only those present. */
export function quantitiesJson(quantities: Quantities | undefined): Record<string, JsonDecimal> {
  const json: Record<string, JsonDecimal> = {};
  if (quantities === undefined) return json;
  for (const spec of QUANTITIES) {
    const value = quantities[spec.name];
    if (value !== undefined) json[spec.json] = decimalJson(BigInt(value), QUANTITY_SCALE);
  }
  return json;
}
