/** Exact decimals in route answers. */
import { formatDecimal, REGISTER_SCALE } from '../../protocol/decimal.js';
import { JsonDecimal } from '../../protocol/json.js';
import { QUANTITIES, QUANTITY_SCALE, type Quantities } from '../../protocol/quantities.js';
import { qualityFlags, VALID, type QualityMask } from '../../domain/readings/quality.js';
import type { StoredReading } from '../../database/store.js';

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

/** A stored reading's quality as the API shows it: `["valida"]`, or its flags (`["pico", "lacuna_antes"]`). */
export function qualityJson(quality: QualityMask | undefined): string[] {
  const flags = qualityFlags(quality ?? VALID);
  return flags.length === 0 ? ['valida'] : flags;
}

/** What every reading answer adds to its instant and register: its quantities (those present) and its quality. */
export function readingDetailsJson(reading: StoredReading): Record<string, JsonDecimal | string[]> {
  return { ...quantitiesJson(reading.quantities), qualidade: qualityJson(reading.quality) };
}
