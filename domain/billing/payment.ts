/**
 * The codes a customer pays an invoice with, as digits and text (drawing
 * them is the view's): the FEBRABAN collection barcode for utilities and its
 * linha digitável, and the PIX BR Code. Pure arithmetic, written from the
 * layouts:
 *
 * - FEBRABAN, "Layout Padrão de Arrecadação/Recebimento com Utilização do
 *   Código de Barras", version 07 (in force since 01/03/2023): 44 digits,
 *   product 8 (arrecadação), segment 3 (energia elétrica e gás), value
 *   identifier 6 (the effective value in reais, check digits by module 10),
 *   the general check digit in position 4, the value in 11 digits, the
 *   company's 4-digit FEBRABAN code, and a 25-digit free field that is the
 *   company's (a due date in it comes first, AAAAMMDD). The linha digitável
 *   is the 44 digits in four blocks of 11, each followed by its own module
 *   10 check digit: 48 digits. Drawn as Interleaved 2 of 5.
 * - Banco Central do Brasil, "Manual de Padrões para Iniciação do Pix"
 *   (EMV QRCPS-MPM): a static payload of ID-length-value fields with the
 *   payee's key under GUI br.gov.bcb.pix, the amount, the payee's name and
 *   city, the txid, and a CRC-16/CCITT-FALSE over it all (including "6304").
 */

/** FEBRABAN's module 10: weights 2, 1, 2, 1... from the right, products' digits summed; 10 - remainder, 0 for remainder 0. */
export function febrabanModulo10(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, weight = 2; i >= 0; i--, weight = weight === 2 ? 1 : 2) {
    const product = Number(digits[i]) * weight;
    sum += product > 9 ? product - 9 : product;
  }
  const remainder = sum % 10;
  return remainder === 0 ? 0 : 10 - remainder;
}

/** FEBRABAN's module 11 (value identifiers 8 and 9): weights 2 to 9 from the right; remainder 0 or 1 gives 0, else 11 - remainder. */
export function febrabanModulo11(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, weight = 2; i >= 0; i--, weight = weight === 9 ? 2 : weight + 1) sum += Number(digits[i]) * weight;
  const remainder = sum % 11;
  return remainder <= 1 ? 0 : 11 - remainder;
}

/** Product 8: arrecadação. */
const PRODUCT = '8';
/** Segment 3: energia elétrica e gás. */
const SEGMENT_ENERGY = '3';
/** Value identifier 6: the effective value in reais, check digits by module 10. */
const EFFECTIVE_VALUE_MODULO_10 = '6';
export const FREE_FIELD_DIGITS = 25;
/** The largest value 11 digits of cents hold. */
export const MAX_BARCODE_CENTS = 99_999_999_999n;

export interface CollectionBarcode {
  /** The 44 digits the bars encode. */
  readonly barcode: string;
  /** The 48 digits people type: four blocks of 11, each with its check digit. */
  readonly digitableLine: string;
}

/**
 * The barcode of a utility bill: `cents` (0 to MAX_BARCODE_CENTS), the
 * distributor's 4-digit FEBRABAN code, and a 25-digit free field.
 */
export function collectionBarcode(cents: bigint, companyCode: string, freeField: string): CollectionBarcode {
  if (cents < 0n || cents > MAX_BARCODE_CENTS) throw new RangeError('the value does not fit 11 digits of cents');
  if (!/^\d{4}$/.test(companyCode)) throw new RangeError('the FEBRABAN company code has 4 digits');
  if (!new RegExp(`^\\d{${FREE_FIELD_DIGITS}}$`).test(freeField)) throw new RangeError(`the free field has ${FREE_FIELD_DIGITS} digits`);
  const head = PRODUCT + SEGMENT_ENERGY + EFFECTIVE_VALUE_MODULO_10;
  const rest = cents.toString().padStart(11, '0') + companyCode + freeField;
  const barcode = head + String(febrabanModulo10(head + rest)) + rest;
  const blocks = [0, 11, 22, 33].map((start) => barcode.slice(start, start + 11));
  return { barcode, digitableLine: blocks.map((block) => block + String(febrabanModulo10(block))).join('') };
}

/** The linha digitável as printed: `83620000000-5 22540001202-6 ...`. */
export const formatDigitableLine = (line: string): string => (line.match(/\d{12}/g) ?? []).map((block) => `${block.slice(0, 11)}-${block.slice(11)}`).join(' ');

/** Reads a linha digitável back to its barcode, or undefined when a block's check digit is wrong. */
export function barcodeOfDigitableLine(line: string): string | undefined {
  const digits = line.replace(/\D/g, '');
  if (digits.length !== 48) return undefined;
  const blocks = digits.match(/\d{12}/g) ?? [];
  if (!blocks.every((block) => febrabanModulo10(block.slice(0, 11)) === Number(block[11]))) return undefined;
  return blocks.map((block) => block.slice(0, 11)).join('');
}

/** CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final xor) of the UTF-8 bytes of `text`, as 4 upper-case hex digits. */
export function crc16CcittFalse(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** A PIX key is at most 77 characters (an e-mail; a random key has 36). */
export const PIX_KEY_MAX = 77;

export interface PixCharge {
  /** The payee's PIX key (CNPJ, e-mail, phone +55..., or a random key). */
  readonly key: string;
  /** Up to 25 characters once plain (accents dropped). */
  readonly merchantName: string;
  /** Up to 15 characters once plain. */
  readonly merchantCity: string;
  readonly cents: bigint;
  /** Up to 25 letters and digits. */
  readonly txid: string;
}

/** An EMV field: ID, length in two digits, value. */
function field(id: string, value: string): string {
  if (value.length > 99) throw new RangeError(`PIX field ${id} longer than 99 characters`);
  return `${id}${String(value.length).padStart(2, '0')}${value}`;
}

/** Plain ASCII for the payload's name and city: accents dropped, only letters, digits, spaces and a few marks kept, cut to `max`. */
export function pixText(text: string, max: number): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9 .,&-]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max)
    .trim();
}

export const PIX_TXID = /^[A-Za-z0-9]{1,25}$/;

/** The static BR Code (copia e cola) of a charge. */
export function pixPayload(charge: PixCharge): string {
  if (!PIX_TXID.test(charge.txid)) throw new RangeError('the txid has 1 to 25 letters and digits');
  if (charge.cents <= 0n) throw new RangeError('a PIX charge has a positive amount');
  const cents = charge.cents.toString().padStart(3, '0');
  const body =
    field('00', '01') +
    field('26', field('00', 'br.gov.bcb.pix') + field('01', charge.key)) +
    field('52', '0000') +
    field('53', '986') +
    field('54', `${cents.slice(0, -2)}.${cents.slice(-2)}`) +
    field('58', 'BR') +
    field('59', pixText(charge.merchantName, 25)) +
    field('60', pixText(charge.merchantCity, 15)) +
    field('62', field('05', charge.txid)) +
    '6304';
  return body + crc16CcittFalse(body);
}

/** Reads a payload's top-level fields (ID -> value), checking the CRC; undefined when malformed or the CRC does not match. */
export function parsePixPayload(payload: string): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < payload.length) {
    const id = payload.slice(at, at + 2);
    const length = Number(payload.slice(at + 2, at + 4));
    if (!/^\d{2}$/.test(id) || !/^\d{2}$/.test(payload.slice(at + 2, at + 4)) || at + 4 + length > payload.length) return undefined;
    fields.set(id, payload.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  const crc = fields.get('63');
  if (crc === undefined || !payload.endsWith(`6304${crc}`) || crc16CcittFalse(payload.slice(0, -4)) !== crc) return undefined;
  return fields;
}
