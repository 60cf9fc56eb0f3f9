/** CSV fields (RFC 4180 §2): shared by every CSV the project writes. */

/** A field as written: quoted, its quotes doubled, when it holds a comma, a quote or a line break; null is empty. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
