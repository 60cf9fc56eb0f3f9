/**
 * The MeterCounterStore contract, run unchanged by both backends: a counter
 * only goes up, each is accepted at most once even when offered at once,
 * what was accepted survives a reopen; and random sequences of offers
 * against a tiny in-memory model.
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import type { MeterCounterStore } from '../../database/meter-counter-store.js';

export interface MeterCounterFixture {
  readonly counters: MeterCounterStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly counters: MeterCounterStore; close(): Promise<void> }>;
}

export function meterCounterContract(t: Test, makeStores: (t: Test) => Promise<MeterCounterFixture>): void {
  t.test('meter counters: only up, each accepted once, durable', async (t) => {
    const fixture = await makeStores(t);
    const { counters } = fixture;
    t.equal(await counters.newest('13456789'), undefined, 'none before the first');
    t.equal(await counters.advance('13456789', 5n), true);
    t.equal(await counters.advance('13456789', 5n), false, 'the same counter again: a replay');
    t.equal(await counters.advance('13456789', 4n), false, 'a lower one: a replay');
    t.equal(await counters.advance('13456789', 1_700_000_000_000_000n), true, 'a jump is fine');
    t.equal(await counters.advance('09812389', 1n), true, 'meters are apart');
    const biggest = (1n << 63n) - 1n;
    t.equal(await counters.advance('09812389', biggest), true, 'up to 2^63 - 1');
    const racing = await Promise.all([10n, 10n, 10n, 11n, 11n].map((counter) => counters.advance('55667788', counter)));
    t.ok(racing.slice(0, 3).filter(Boolean).length <= 1, 'offered at once, 10 is accepted at most once');
    t.equal(racing.slice(3).filter(Boolean).length, 1, 'and 11, the greatest, exactly once');
    t.equal(await counters.newest('55667788'), 11n, 'and the newest is the greatest');
    t.same(Object.fromEntries(await counters.all()), { '13456789': 1_700_000_000_000_000n, '09812389': biggest, '55667788': 11n });
    await fixture.close();
    const reopened = await fixture.reopen();
    t.equal(await reopened.counters.newest('13456789'), 1_700_000_000_000_000n, 'durable across a reopen');
    t.equal(await reopened.counters.advance('13456789', 1_700_000_000_000_000n), false, 'and a replay after it is still one');
    t.equal(await reopened.counters.newest('09812389'), biggest);
    await reopened.close();
  });

  t.test('meter counters: random offers agree with a model', async (t) => {
    const fixture = await makeStores(t);
    const { counters } = fixture;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('1', '2', '3'), fc.bigInt({ min: 1n, max: 40n })), { maxLength: 40 }), async (offers) => {
        // Each run on meters of its own, so runs do not see each other's counters.
        run++;
        const model = new Map<string, bigint>();
        for (const [meter, counter] of offers) {
          const matricula = `${run}${meter}`;
          const expected = counter > (model.get(matricula) ?? 0n);
          if (expected) model.set(matricula, counter);
          if ((await counters.advance(matricula, counter)) !== expected) return false;
          if ((await counters.newest(matricula)) !== model.get(matricula)) return false;
        }
        return true;
      }),
      { numRuns: 60 },
    );
    await fixture.close();
  });
}
