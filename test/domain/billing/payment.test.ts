/**
 * The payment codes' arithmetic: FEBRABAN's own check-digit examples, a
 * public PIX payload's CRC, and properties over random values (every check
 * digit recomputed by a reference written here, the linha digitável read
 * back to the barcode, a single changed digit always caught, the BR Code's
 * fields read back).
 */
import fc from 'fast-check';
import t from 'tap';
import { barcodeOfDigitableLine, collectionBarcode, crc16CcittFalse, febrabanModulo10, febrabanModulo11, formatDigitableLine, parsePixPayload, pixPayload, pixText } from '../../../domain/billing/payment.js';

t.test("FEBRABAN's worked examples (layout v07, chapters 7 and 9): 01230067896 has module 10 check digit 3 and module 11 check digit 0", async (t) => {
  t.equal(febrabanModulo10('01230067896'), 3);
  t.equal(febrabanModulo11('01230067896'), 0);
});

/** Module 10 as the layout words it: products of 2,1,2,1... from the right, each product's digits added, 10 minus the remainder. */
function referenceModulo10(digits: string): number {
  const products = [...digits].reverse().map((d, i) => Number(d) * (i % 2 === 0 ? 2 : 1));
  const sum = products.reduce((s, p) => s + [...String(p)].reduce((a, c) => a + Number(c), 0), 0);
  return (10 - (sum % 10)) % 10;
}

t.test('the barcode: 44 digits, product 8, segment 3, identifier 6, the general check digit over the other 43, the value in cents, code and free field in place', async (t) => {
  const code = collectionBarcode(3_363n, '0123', '2026062220260000010013456');
  t.equal(code.barcode, `836${febrabanModulo10('836' + '00000003363' + '0123' + '2026062220260000010013456')}000000033630123` + '2026062220260000010013456');
  t.equal(code.barcode.length, 44);
  t.equal(code.digitableLine.length, 48);
  t.match(formatDigitableLine(code.digitableLine), /^\d{11}-\d \d{11}-\d \d{11}-\d \d{11}-\d$/);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 99_999_999_999n }), fc.stringMatching(/^\d{4}$/), fc.stringMatching(/^\d{25}$/), (cents, company, free) => {
      const { barcode, digitableLine } = collectionBarcode(cents, company, free);
      const withoutCheck = barcode.slice(0, 3) + barcode.slice(4);
      return (
        /^836\d{41}$/.test(barcode) &&
        Number(barcode[3]) === referenceModulo10(withoutCheck) &&
        BigInt(barcode.slice(4, 15)) === cents &&
        barcode.slice(15, 19) === company &&
        barcode.slice(19) === free &&
        barcodeOfDigitableLine(digitableLine) === barcode &&
        [0, 1, 2, 3].every((b) => Number(digitableLine[b * 12 + 11]) === referenceModulo10(digitableLine.slice(b * 12, b * 12 + 11)))
      );
    }),
  );
  t.throws(() => collectionBarcode(100_000_000_000n, '0123', '0'.repeat(25)), RangeError, 'a value beyond 11 digits');
  t.throws(() => collectionBarcode(1n, '123', '0'.repeat(25)), RangeError, 'a code not of 4 digits');
});

t.test('a single mistyped digit in the linha digitável is always caught by its block check digit', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: 99_999_999_999n }), fc.stringMatching(/^\d{25}$/), fc.integer({ min: 0, max: 47 }), fc.integer({ min: 1, max: 9 }), (cents, free, position, delta) => {
      const { digitableLine } = collectionBarcode(cents, '0123', free);
      const typo = digitableLine.slice(0, position) + String((Number(digitableLine[position]) + delta) % 10) + digitableLine.slice(position + 1);
      return barcodeOfDigitableLine(typo) === undefined;
    }),
  );
});

t.test('PIX: the CRC-16/CCITT-FALSE of a public payload, and payloads read back field by field', async (t) => {
  const published = '00020126360014BR.GOV.BCB.PIX0114+55119647714305204000053039865406986.005802BR5913Fulano de Tal6008BRASILIA62070503***63047E91';
  t.equal(crc16CcittFalse(published.slice(0, -4)), '7E91');
  t.equal(parsePixPayload(published)?.get('54'), '986.00');
  t.equal(crc16CcittFalse('123456789'), '29B1', 'the check value of CRC-16/CCITT-FALSE');
  const payload = pixPayload({ key: '17155730000164', merchantName: 'CEMIG Distribuição S.A.', merchantCity: 'Belo Horizonte', cents: 18_743n, txid: 'FAT2026000001' });
  const fields = parsePixPayload(payload);
  t.equal(fields?.get('00'), '01');
  t.equal(fields?.get('26'), '0014br.gov.bcb.pix011417155730000164');
  t.same([fields?.get('52'), fields?.get('53'), fields?.get('54'), fields?.get('58'), fields?.get('59'), fields?.get('60'), fields?.get('62')], ['0000', '986', '187.43', 'BR', 'CEMIG Distribuicao S.A.', 'Belo Horizonte', '0513FAT2026000001']);
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: 10n ** 10n }), fc.stringMatching(/^[A-Za-z0-9]{1,25}$/), fc.string({ maxLength: 40 }), fc.string({ maxLength: 30 }), (cents, txid, name, city) => {
      const p = pixPayload({ key: 'pix@distribuidora.com.br', merchantName: name, merchantCity: city, cents, txid });
      const f = parsePixPayload(p);
      const amount = f?.get('54') ?? '';
      return f !== undefined && BigInt(amount.replace('.', '')) === cents && /^\d+\.\d{2}$/.test(amount) && (f.get('59') ?? '').length <= 25 && (f.get('60') ?? '').length <= 15 && f.get('62') === `05${String(txid.length).padStart(2, '0')}${txid}`;
    }),
  );
  const tampered = payload.replace('187.43', '187.44');
  t.equal(parsePixPayload(tampered), undefined, 'a changed amount breaks the CRC');
  t.equal(pixText('São João del-Rei', 15), 'Sao Joao del-Re');
});
