/**
 * The ForecastRecordStore contract, run unchanged by both backends: one
 * record per meter and cycle, never replaced, settled once, listed in the
 * stated orders, summarised exactly, durable; and random sequences of
 * operations against a tiny in-memory model.
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import type { ForecastRecord, ForecastRecordStore } from '../../database/forecast-record-store.js';

export interface ForecastRecordFixture {
  readonly forecasts: ForecastRecordStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly forecasts: ForecastRecordStore; close(): Promise<void> }>;
}

const T0 = Date.UTC(2026, 10, 15);
const made = (matricula: string, month: string, projected: bigint): ForecastRecord => ({
  matricula,
  month,
  madeAt: T0,
  measuredUpTo: T0 - 60_000,
  projected,
  low: projected > 1000n ? projected - 1000n : 0n,
  high: projected + 1000n,
  actual: null,
  error: null,
  settledAt: null,
});

export function forecastRecordContract(t: Test, makeStores: (t: Test) => Promise<ForecastRecordFixture>): void {
  t.test('forecast records: one per meter and cycle, never replaced, settled once, ordered, summarised, durable', async (t) => {
    const fixture = await makeStores(t);
    const { forecasts } = fixture;
    const first = made('13456789', '2026-10', 300_000n);
    t.same(await forecasts.record(first), first);
    t.equal(await forecasts.record(made('13456789', '2026-10', 999_000n)), undefined, 'a second projection of the same cycle is not written');
    t.same(await forecasts.get('13456789', '2026-10'), first, 'the first one stays');
    t.equal(await forecasts.get('13456789', '2026-09'), undefined);
    await forecasts.record(made('13456789', '2026-11', 310_000n));
    await forecasts.record(made('2', '2026-10', 100_000n));
    await forecasts.record(made('10', '2026-10', 50_000n));
    t.same((await forecasts.unsettled('2026-10', undefined, 10)).map((r) => `${r.matricula}|${r.month}`), ['10|2026-10', '13456789|2026-10', '2|2026-10'], 'through the month, oldest first, then by matricula as text');
    t.same((await forecasts.unsettled('2026-10', undefined, 2)).map((r) => r.matricula), ['10', '13456789'], 'at most the limit');
    t.same((await forecasts.unsettled('2026-12', { month: '2026-10', matricula: '13456789' }, 10)).map((r) => `${r.matricula}|${r.month}`), ['2|2026-10', '13456789|2026-11'], 'after a key');
    const settled = await forecasts.settle('13456789', '2026-10', 330_000n, 9_091n, T0 + 1);
    t.same(settled, { ...first, actual: 330_000n, error: 9_091n, settledAt: T0 + 1 });
    t.equal(await forecasts.settle('13456789', '2026-10', 1n, 1n, T0 + 2), undefined, 'settled once');
    t.equal(await forecasts.settle('13456789', '2025-01', 1n, 1n, T0 + 2), undefined, 'no record, nothing settled');
    await forecasts.settle('13456789', '2026-11', 310_000n, 0n, T0 + 3);
    await forecasts.settle('2', '2026-10', null, null, T0 + 3);
    t.same((await forecasts.settled('13456789', 10)).map((r) => r.month), ['2026-11', '2026-10'], 'newest month first');
    t.same((await forecasts.settled('13456789', 1)).map((r) => r.month), ['2026-11']);
    t.same((await forecasts.get('2', '2026-10'))?.actual, null, 'settled as not measured');
    t.same((await forecasts.unsettled('2026-12', undefined, 10)).map((r) => r.matricula), ['10']);
    t.same((await forecasts.all()).map((r) => `${r.matricula}|${r.month}|${r.settledAt === null ? 'aberto' : 'apurado'}`), ['10|2026-10|aberto', '13456789|2026-10|apurado', '2|2026-10|apurado', '13456789|2026-11|apurado'], 'all: by month, then matricula as text, settled or not');
    t.same(await forecasts.summary('2026-10', 0, 10), {
      meters: [
        { matricula: '13456789', cycles: 2, errorSum: 9_091n, errorCount: 2 },
        { matricula: '2', cycles: 1, errorSum: 0n, errorCount: 0 },
      ],
      total: { matricula: '', cycles: 3, errorSum: 9_091n, errorCount: 2 },
    }, 'settled records only; a cycle that could not be measured counts without an error');
    t.same((await forecasts.summary('2026-11', 1, 10)).meters, [], 'from the month, paged by meter');
    t.same((await forecasts.summary('2026-11', 0, 10)).total, { matricula: '', cycles: 1, errorSum: 0n, errorCount: 1 });
    await fixture.close();
    const reopened = await fixture.reopen();
    t.same(await reopened.forecasts.get('13456789', '2026-10'), settled, 'durable');
    t.same((await reopened.forecasts.unsettled('2026-12', undefined, 10)).map((r) => r.matricula), ['10']);
    await reopened.close();
  });

  t.test('forecast records: random operations agree with a model', async (t) => {
    const fixture = await makeStores(t);
    const { forecasts } = fixture;
    const meters = ['1', '2', '13456789'];
    const months = ['2026-08', '2026-09', '2026-10'];
    const model = new Map<string, ForecastRecord>();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ settle: fc.boolean(), meter: fc.constantFrom(...meters), month: fc.constantFrom(...months), kwh: fc.bigInt({ min: 0n, max: 10n ** 12n }), measured: fc.boolean(), error: fc.option(fc.bigInt({ min: 0n, max: 10n ** 8n }), { nil: null }) }),
          { maxLength: 20 },
        ),
        async (operations) => {
          // Each run uses meters of its own so runs do not see each other.
          const prefix = String(++run).padStart(3, '0');
          for (const op of operations) {
            const matricula = `${prefix}${op.meter}`;
            const key = `${matricula}|${op.month}`;
            const known = model.get(key);
            if (op.settle) {
              const actual = op.measured ? op.kwh : null;
              const answer = await forecasts.settle(matricula, op.month, actual, op.error, T0);
              if (known === undefined || known.settledAt !== null) t.equal(answer, undefined);
              else {
                const settled = { ...known, actual, error: op.error, settledAt: T0 };
                t.same(answer, settled);
                model.set(key, settled);
              }
            } else {
              const answer = await forecasts.record(made(matricula, op.month, op.kwh));
              if (known !== undefined) t.equal(answer, undefined);
              else model.set(key, answer as ForecastRecord);
            }
          }
          for (const meter of meters) {
            const matricula = `${prefix}${meter}`;
            const expected = [...model.values()].filter((r) => r.matricula === matricula && r.settledAt !== null).sort((a, b) => b.month.localeCompare(a.month));
            t.same(await forecasts.settled(matricula, 10), expected);
          }
        },
      ),
      { numRuns: 25 },
    );
    await fixture.close();
  });
}
