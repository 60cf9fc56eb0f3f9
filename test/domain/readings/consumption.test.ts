import fc from 'fast-check';
import t from 'tap';
import type { Reading } from '../../../protocol/meter-protocol.js';
import { computeAlert, computeInvoice, costCents, INCONSISTENT, parseTariff, TARIFF_MAX_SCALE } from '../../../domain/readings/consumption.js';

const reading = (consumo: bigint, minute = 0): Reading => ({ matricula: '1', timestamp: minute * 60_000, consumo });
const register = fc.bigInt({ min: 0n, max: 10n ** 15n - 1n });

/**
 * Independent reference: exact rationals as [numerator, denominator] in
 * whole units, rounding by comparing twice the remainder.
 */
function roundRational(numerator: bigint, denominator: bigint, scale: number): string {
  const scaled = numerator * 10n ** BigInt(scale);
  let quotient = scaled / denominator;
  if ((scaled % denominator) * 2n >= denominator) quotient += 1n;
  const text = quotient.toString().padStart(scale + 1, '0');
  const fraction = text.slice(text.length - scale).replace(/0+$/, '');
  return text.slice(0, text.length - scale) + (fraction ? `.${fraction}` : '');
}

t.test('the invoice is consumption x tariff, exact, rounded half-up to cents', async () => {
  fc.assert(
    fc.property(register, register, fc.stringMatching(/^\d{1,4}(\.\d{1,6})?$/), (a, b, tariffText) => {
      const [previous, current] = a <= b ? [a, b] : [b, a];
      const tariff = parseTariff(tariffText)!;
      const invoice = computeInvoice(reading(previous), reading(current, 1), tariff);
      if (invoice === INCONSISTENT) throw new Error('a rising register is consistent');
      const [tInt, tFrac = ''] = tariffText.split('.');
      const tariffNumerator = BigInt(tInt! + tFrac);
      const tariffDenominator = 10n ** BigInt(tFrac.length);
      // consumption is in thousandths; amount = consumption/1000 x tariff
      const expected = roundRational((current - previous) * tariffNumerator, 1000n * tariffDenominator, 2);
      t.equal(roundRational(invoice.amountCents, 100n, 2), expected);
      t.equal(invoice.consumption, current - previous);
    }),
    { numRuns: 500 },
  );
});

t.test('the invoice avoids binary floating-point error', async () => {
  const invoice = computeInvoice(reading(0n), reading(300n, 1), parseTariff('0.1')!);
  t.equal(invoice !== INCONSISTENT && invoice.amountCents, 3n, 'consumo 0.3 at tarifa 0.1 bills 0.03');
  const half = computeInvoice(reading(0n), reading(5n, 1), parseTariff('1')!);
  t.equal(half !== INCONSISTENT && half.amountCents, 1n, '0.005 rounds half-up to 0.01');
  t.equal(computeInvoice(reading(10n), reading(9n, 1), parseTariff('3')!), INCONSISTENT, 'a register that went down is inconsistent');
  t.equal(parseTariff('-1'), undefined);
  t.equal(parseTariff('0.1234567'), undefined, 'at most 6 decimal places');
});

/** Reference alert: p4 >= 1.5 x mean, with rationals over a common denominator. */
function referenceAlert(periods: bigint[]): boolean {
  const [p1, p2, p3, p4] = periods as [bigint, bigint, bigint, bigint];
  // p4 >= (3/2) * (p1+p2+p3)/3  <=>  p4 * 2 >= p1+p2+p3
  return p4 > 0n && p4 * 2n >= p1 + p2 + p3;
}

const periodsArbitrary = fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 4, maxLength: 4 });

function readingsFromPeriods(start: bigint, periods: readonly bigint[]): Reading[] {
  const readings = [reading(start)];
  let register = start;
  periods.forEach((period, i) => {
    register += period;
    readings.push(reading(register, i + 1));
  });
  return readings;
}

t.test('the alert matches the exact reference, with mean, threshold and excess rounded to 3 places', async () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), periodsArbitrary, (start, periods) => {
      const alert = computeAlert(readingsFromPeriods(start, periods));
      if (alert === INCONSISTENT) throw new Error('non-negative periods are consistent');
      const sum = periods[0]! + periods[1]! + periods[2]!;
      t.equal(alert.alert, referenceAlert(periods));
      t.same(alert.periods, periods);
      t.equal(roundRational(alert.baselineMean, 1000n, 3), roundRational(sum, 3000n, 3));
      t.equal(roundRational(alert.threshold, 1000n, 3), roundRational(sum, 2000n, 3));
      t.equal(roundRational(alert.excess, 1000n, 3), alert.alert ? roundRational(periods[3]! * 3n - sum, 3000n, 3) : '0');
    }),
    { numRuns: 500 },
  );
});

t.test('the 1.5x boundary is decided exactly', async () => {
  // Baseline whose mean is not a finite decimal: 1, 1, 2 thousandths (mean 4/3).
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: 10n ** 11n }), (unit) => {
      const base = [unit, unit, unit * 2n];
      const sum = unit * 4n;
      const atBoundary = sum / 2n; // 1.5 x 4u/3 = 2u exactly
      const alertAt = computeAlert(readingsFromPeriods(0n, [...base, atBoundary]));
      const alertBelow = computeAlert(readingsFromPeriods(0n, [...base, atBoundary - 1n]));
      t.equal(alertAt !== INCONSISTENT && alertAt.alert, true, 'exactly 1.5x the mean fires');
      t.equal(alertBelow !== INCONSISTENT && alertBelow.alert, false, 'one thousandth below does not');
    }),
    { numRuns: 200 },
  );
  const zero = computeAlert(readingsFromPeriods(0n, [0n, 0n, 0n, 0n]));
  t.equal(zero !== INCONSISTENT && zero.alert, false, 'no alert when the last period is 0');
  const fromZeroBaseline = computeAlert(readingsFromPeriods(0n, [0n, 0n, 0n, 1n]));
  t.equal(fromZeroBaseline !== INCONSISTENT && fromZeroBaseline.alert, true, 'any consumption after an idle baseline fires');
  t.equal(computeAlert([reading(5n), reading(6n, 1), reading(4n, 2), reading(7n, 3), reading(8n, 4)]), INCONSISTENT);
  t.throws(() => computeAlert([reading(1n)]), RangeError);
});

t.test('costCents: exact, half-up to cents, equal to the invoice of the same consumption', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), (consumption, tariffUnits) => {
      const tariff = { units: tariffUnits, scale: TARIFF_MAX_SCALE };
      const cents = costCents(consumption, tariff);
      // Exact: cents is the nearest whole number to consumption x tariff / 10^7 (ties up).
      const scaled = consumption * tariffUnits; // in 10^-9
      const low = cents * 10n ** 7n - 5n * 10n ** 6n;
      const high = cents * 10n ** 7n + 5n * 10n ** 6n;
      if (!(scaled >= low && scaled < high)) return false;
      const invoice = computeInvoice({ matricula: '1', timestamp: 0, consumo: 0n }, { matricula: '1', timestamp: 1, consumo: consumption }, tariff);
      return invoice !== INCONSISTENT && invoice.amountCents === cents;
    }),
  );
});
