/** Forecasts: the method on synthetic series with a known answer (pure). Through a server: test/server/forecast.test.ts. */
import fc from 'fast-check';
import t from 'tap';
import { forecastCycle, meanError, percentageError } from '../../domain/forecast.js';
import { DAY_MS } from '../../protocol/timestamp.js';

const kwh = (n: number): bigint => BigInt(Math.round(n * 1000));

t.test('forecast: the cycle\'s own rate alone, then blended with last year by the share elapsed', async (t) => {
  const base = { cycleStart: 0, cycleEnd: 30 * DAY_MS, asOf: 15 * DAY_MS, consumedSoFar: kwh(150), completeDays: Array(14).fill(kwh(10)) };
  const own = forecastCycle(base);
  t.same([own.consumption, own.ownRatePerDay, own.lastYearRatePerDay, own.ownWeight], [kwh(300), kwh(10), null, 500n], '10 kWh a day for 30 days');
  t.same([own.low, own.high], [kwh(300), kwh(300)], 'days all alike: no spread');
  const blended = forecastCycle({ ...base, lastYear: { consumption: kwh(620), durationMs: 31 * DAY_MS } });
  t.equal(blended.consumption, kwh(150 + 15 * (0.5 * 10 + 0.5 * 20)), 'half elapsed: the rest at the mean of 10 and 20 a day');
  t.equal(blended.lastYearRatePerDay, kwh(20));
  const late = forecastCycle({ ...base, asOf: 27 * DAY_MS, consumedSoFar: kwh(270), lastYear: { consumption: kwh(620), durationMs: 31 * DAY_MS } });
  t.equal(late.consumption, kwh(270 + 3 * (0.9 * 10 + 0.1 * 20)), 'nine tenths elapsed: the own rate weighs nine tenths');
  const few = forecastCycle({ ...base, asOf: 2 * DAY_MS, consumedSoFar: kwh(20), completeDays: [kwh(10)] });
  t.same([few.consumption, few.low, few.high], [kwh(300), kwh(300 - 70), kwh(300 + 70)], 'under 3 complete days: a quarter of the remaining 280 kWh either way');
});

t.test('forecast: whatever the series, the band holds the projection and never goes below what was consumed', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 31 * DAY_MS }),
      fc.bigInt({ min: 0n, max: 10n ** 9n }),
      fc.array(fc.bigInt({ min: 0n, max: 10n ** 6n }), { maxLength: 31 }),
      fc.option(fc.record({ consumption: fc.bigInt({ min: 0n, max: 10n ** 9n }), durationMs: fc.integer({ min: DAY_MS, max: 33 * DAY_MS }) }), { nil: undefined }),
      (asOf, consumed, days, lastYear) => {
        const f = forecastCycle({ cycleStart: 0, cycleEnd: 31 * DAY_MS, asOf, consumedSoFar: consumed, completeDays: days, lastYear });
        t.ok(f.low <= f.consumption && f.consumption <= f.high && f.low >= consumed && f.consumption >= consumed);
        if (asOf === 31 * DAY_MS) t.equal(f.consumption, consumed, 'at the end nothing is left to project');
      },
    ),
    { numRuns: 300 },
  );
  t.equal(percentageError(kwh(110), kwh(100)), 10_000n, '10% in thousandths of a percent');
  t.equal(percentageError(kwh(90), kwh(100)), 10_000n);
  t.equal(percentageError(1n, 0n), null);
  t.equal(meanError([10_000n, null, 20_000n]), 15_000n);
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (p, a) => {
    const e = percentageError(p, a) as bigint;
    const diff = p > a ? p - a : a - p;
    t.ok(e * a * 2n >= diff * 200_000n - a && e * a * 2n <= diff * 200_000n + a, 'rounded half-up');
  }));
});
