/**
 * Brazilian taxpayer numbers as invoices carry them: CPF (11 digits) and CNPJ
 * (14 digits), each with its two module 11 check digits (Receita Federal's
 * rule), and the masked form a bill prints for a person (only the middle
 * digits of a CPF shown, as LGPD practice does with documents on paper).
 */

const digitsOf = (text: string): string => text.replace(/[.\-/\s]/g, '');

/** Module 11 check digit over `digits` with `weights` (left to right): remainder below 2 gives 0, else 11 - remainder. */
function checkDigit(digits: string, weights: readonly number[]): number {
  const sum = weights.reduce((s, weight, i) => s + weight * Number(digits[i]), 0);
  const remainder = sum % 11;
  return remainder < 2 ? 0 : 11 - remainder;
}

const CPF_FIRST = [10, 9, 8, 7, 6, 5, 4, 3, 2];
const CPF_SECOND = [11, 10, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_FIRST = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_SECOND = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];

export function isCpf(text: string): boolean {
  const d = digitsOf(text);
  if (!/^\d{11}$/.test(d) || /^(\d)\1{10}$/.test(d)) return false;
  return checkDigit(d, CPF_FIRST) === Number(d[9]) && checkDigit(d, CPF_SECOND) === Number(d[10]);
}

export function isCnpj(text: string): boolean {
  const d = digitsOf(text);
  if (!/^\d{14}$/.test(d) || /^(\d)\1{13}$/.test(d)) return false;
  return checkDigit(d, CNPJ_FIRST) === Number(d[12]) && checkDigit(d, CNPJ_SECOND) === Number(d[13]);
}

/** The digits of a valid CPF or CNPJ (dots, dashes, slashes and spaces dropped), or undefined. */
export function taxpayerDigits(text: string): string | undefined {
  const d = digitsOf(text);
  return isCpf(d) || isCnpj(d) ? d : undefined;
}

/** A CPF with only its middle six digits shown (`***.456.789-**`); a CNPJ (a company's, public) in full (`17.155.730/0001-64`). */
export function maskedTaxpayer(digits: string): string {
  if (digits.length === 11) return `***.${digits.slice(3, 6)}.${digits.slice(6, 9)}-**`;
  return `${digits.slice(0, 2)}.${digits.slice(2, 5)}.${digits.slice(5, 8)}/${digits.slice(8, 12)}-${digits.slice(12)}`;
}

/** Appends the two check digits to 9 (CPF) or 12 (CNPJ) digits. */
export function withCheckDigits(base: string): string {
  if (base.length === 9) {
    const first = String(checkDigit(base, CPF_FIRST));
    return base + first + String(checkDigit(base + first, CPF_SECOND));
  }
  const first = String(checkDigit(base, CNPJ_FIRST));
  return base + first + String(checkDigit(base + first, CNPJ_SECOND));
}
