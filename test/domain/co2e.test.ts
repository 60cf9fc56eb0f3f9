/** CO2e: exact arithmetic (property tests). The factors through a server: test/server/co2e.test.ts. */
import fc from 'fast-check';
import t from 'tap';
import { co2eGrams, co2eOverDays, daysByMonth, DEFAULT_EMISSION_FACTOR } from '../../domain/co2e.js';

t.test('co2eGrams is consumption x factor rounded half-up to the gram, exactly', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 0n, max: 10_000_000n }), (consumption, factor) => {
      const grams = co2eGrams(consumption, factor);
      // grams = round(consumption x factor / 10^6): the remainder decides, nothing else.
      const exact = consumption * factor;
      t.ok(grams * 1_000_000n - exact <= 500_000n && exact - grams * 1_000_000n < 500_000n, `${consumption} x ${factor}`);
    }),
    { numRuns: 500 },
  );
  t.equal(co2eGrams(1_000_000n, DEFAULT_EMISSION_FACTOR), 38_500n, '1,000 kWh at MCTI 2023 (0.0385 kg/kWh): 38.5 kg');
  t.equal(co2eGrams(30_300n, DEFAULT_EMISSION_FACTOR), 1167n, '30.3 kWh: 1.16655 kg, half-up to 1.167');
});

t.test('over a cycle, each month\'s share pro rata by days at its own factor; one month is the plain product', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 0n, max: 10_000_000n }), fc.integer({ min: 1, max: 40 }), (consumption, factor, days) => {
      t.equal(co2eOverDays(consumption, [{ month: '2026-05', days }], () => factor), co2eGrams(consumption, factor));
      const split = co2eOverDays(consumption, [{ month: '2026-05', days }, { month: '2026-06', days }], () => factor);
      t.ok(split - co2eGrams(consumption, factor) <= 1n && co2eGrams(consumption, factor) - split <= 1n, 'the same factor in two halves: within the rounding of one share');
    }),
    { numRuns: 300 },
  );
  t.same(daysByMonth('2026-05-10', '2026-06-10'), [{ month: '2026-05', days: 22 }, { month: '2026-06', days: 9 }]);
  // 310 kWh over 22 days of May (0.05) and 9 of June (0.10): 220 x 0.05 + 90 x 0.10 = 11 + 9 = 20 kg.
  t.equal(co2eOverDays(310_000n, daysByMonth('2026-05-10', '2026-06-10'), (month) => (month === '2026-05' ? 50_000n : 100_000n)), 20_000n);
});
