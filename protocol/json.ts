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

/** Like `JSON.stringify` (no indentation), writing JsonDecimal values exactly. */
export function stringifyJson(value: JsonValue): string {
  if (value instanceof JsonDecimal) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item: JsonValue) => stringifyJson(item)).join(',')}]`;
  const members: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${stringifyJson(member)}`);
  }
  return `{${members.join(',')}}`;
}
