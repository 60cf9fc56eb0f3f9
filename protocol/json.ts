/**
 * JSON for the HTTP API with exact decimals. `JSON.stringify` can only
 * write binary doubles; a {@link JsonDecimal} is written as its exact
 * decimal text, which is still a plain JSON number (RFC 8259 §6).
 */

export class JsonDecimal {
  readonly text: string;

  constructor(text: string) {
    if (!/^-?\d+(?:\.\d+)?$/.test(text)) throw new RangeError(`not a plain decimal: ${text}`);
    this.text = text;
  }

  toJSON(): number {
    return Number(this.text);
  }
}

export type JsonValue = string | number | boolean | null | JsonDecimal | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

/** Object keys are few and repeat on every answer: their quoted forms are kept. */
const quotedKeys = new Map<string, string>();

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < 1000) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** Like `JSON.stringify` (no indentation), writing JsonDecimal values exactly. */
export function stringifyJson(value: JsonValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (value === null || typeof value !== 'object') return String(value);
  if (value instanceof JsonDecimal) return value.text;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + stringifyJson(value[i] as JsonValue);
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const key in value) {
    const member = (value as { readonly [key: string]: JsonValue | undefined })[key];
    if (member === undefined) continue;
    out += `${first ? '' : ','}${quoteKey(key)}:${stringifyJson(member)}`;
    first = false;
  }
  return `${out}}`;
}
