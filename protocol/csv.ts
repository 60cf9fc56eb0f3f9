/** CSV fields (RFC 4180 §2): shared by every CSV the project writes. */

/** What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"): =, +, -, @, tab, carriage return. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A field as written: quoted, its quotes doubled, when it holds a comma, a quote or a line break; null is empty. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * A text field that someone else wrote (a customer's name, a meter's event
 * detail): as csvField, and one that a spreadsheet would run as a formula
 * is prefixed with `'` (OWASP's rule), so it opens as the text it is.
 */
export function csvText(value: string | null): string {
  if (value === null) return '';
  return csvField(FORMULA_START.test(value) ? `'${value}` : value);
}
