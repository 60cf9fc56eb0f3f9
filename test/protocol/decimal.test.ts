import fc from 'fast-check';
import t from 'tap';
import { registerArbitrary } from './arbitraries.js';
import { divideRoundHalfUp, formatDecimal, formatRegister, isRegister, parseDecimal, parseRegister, REGISTER_MAX_SIGNIFICANT_DIGITS, REGISTER_SCALE } from '../../protocol/decimal.js';


t.test('formatting then parsing a register is the identity', async () => {
  fc.assert(
    fc.property(registerArbitrary, (units) => {
      t.equal(parseRegister(formatRegister(units)), units);
    }),
  );
});

t.test('parsing agrees with an independent reading of the digits', async () => {
  fc.assert(
    fc.property(fc.stringMatching(/^\d{1,12}(\.\d{1,3})?$/), (text) => {
      const [integer, fraction = ''] = text.split('.');
      const expected = BigInt(`${integer}${fraction.padEnd(3, '0')}`);
      t.equal(parseRegister(text), expected);
    }),
  );
});

t.test('registers outside the grammar are refused, never thrown', async () => {
  for (const text of ['', '-1', '+1', '1e3', '1.', '.5', '1.2345', ' 1', '1 ', '0x10', 'NaN', 'Infinity', '1,5', '1000000000000000', '1.000000000000000']) {
    t.equal(parseRegister(text), undefined, JSON.stringify(text));
  }
  t.equal(parseRegister('000000000000000001.5'), 1500n, 'leading zeros are not significant');
  t.equal(parseRegister('999999999999999'), 999999999999999000n, '15 significant digits');
  fc.assert(
    fc.property(fc.string(), (text) => {
      const result = parseDecimal(text, { scale: 3, maxSignificantDigits: 15 });
      t.ok(result === undefined || result >= 0n);
    }),
  );
});

t.test('formatDecimal agrees with a BigInt-only reading on both sides of 2^53', async () => {
  const reference = (units: bigint, scale: number): string => {
    const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
    const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
    return `${units < 0n ? '-' : ''}${digits.slice(0, digits.length - scale)}${fraction === '' ? '' : `.${fraction}`}`;
  };
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  const units = fc.oneof(fc.bigInt({ min: -safe, max: safe }), fc.bigInt({ min: safe - 1000n, max: safe + 1000n }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }));
  fc.assert(
    fc.property(units, fc.integer({ min: 0, max: 12 }), (value, scale) => {
      t.equal(formatDecimal(value, scale), reference(value, scale));
    }),
    { numRuns: 5000 },
  );
});

t.test('formatDecimal writes the shortest plain decimal', async () => {
  t.equal(formatDecimal(1302500n, 3), '1302.5');
  t.equal(formatDecimal(125n, 3), '0.125');
  t.equal(formatDecimal(0n, 3), '0');
  t.equal(formatDecimal(3n, 2), '0.03');
  t.equal(formatDecimal(-1500n, 3), '-1.5');
  t.equal(formatDecimal(7n, 0), '7');
});

t.test('divideRoundHalfUp matches floor(n/d + 1/2) computed with a remainder', async () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
      const quotient = n / d;
      const remainder = n - quotient * d;
      const expected = remainder * 2n >= d ? quotient + 1n : quotient;
      t.equal(divideRoundHalfUp(n, d), expected);
      t.equal(divideRoundHalfUp(-n, d), -expected, 'symmetric: half away from zero');
    }),
  );
  t.equal(divideRoundHalfUp(5n, 2n), 3n);
  t.equal(divideRoundHalfUp(4n, 3n), 1n);
  t.throws(() => divideRoundHalfUp(1n, 0n), RangeError);
});

t.test('isRegister says exactly when parseRegister succeeds', async () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{0,18}(\.\d{0,4})?$/)), (text) => {
      if (isRegister(text) !== (parseRegister(text) !== undefined)) throw new Error(`differs for ${JSON.stringify(text)}`);
    }),
    { numRuns: 2000 },
  );
});

t.test('parseRegister (its digit-by-digit fast path included) answers exactly as parseDecimal at the register limits', async () => {
  const limits = { scale: REGISTER_SCALE, maxSignificantDigits: REGISTER_MAX_SIGNIFICANT_DIGITS };
  const text = fc.oneof(
    fc.stringMatching(/^[0-9.]{0,20}$/),
    fc.tuple(fc.stringMatching(/^\d{0,16}$/), fc.stringMatching(/^\d{0,5}$/)).map(([integer, fraction]) => `${integer}.${fraction}`),
    fc.stringMatching(/^[0-9.a -]{0,8}$/),
  );
  fc.assert(fc.property(text, (value) => parseRegister(value) === parseDecimal(value, limits)), { numRuns: 5000 });
});
