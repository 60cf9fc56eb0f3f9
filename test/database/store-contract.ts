/**
 * The Store contract: one suite every backend runs unchanged. A backend
 * supplies a factory that opens a store over fresh, empty data, and can
 * reopen a new store over the same data (a restart).
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import { LATE_WINDOW_READINGS } from '../../domain/readings/admission.js';
import { DEFAULT_QUALITY_RULES, SPIKE, VALID, arraysWindow, assessReading } from '../../domain/readings/quality.js';
import { FLEET_BATCH_METERS, RECENT_READINGS_LIMIT, type Reading, type Store, type StoredReading } from '../../database/store.js';

export interface StoreFixture {
  readonly store: Store;
  /** Closes nothing; opens another store over the same data (call after closing `store`). */
  reopen(): Promise<Store>;
}

export interface ContractOptions {
  /** Opens a store over new empty data; the backend cleans up at teardown. */
  makeStore(t: Test): Promise<StoreFixture>;
}

const minute = (n: number): number => Date.UTC(2026, 0, 1) + n * 60_000;
const reading = (matricula: string, n: number, consumo: bigint): Reading => ({ matricula, timestamp: minute(n), consumo });

async function collect(batches: AsyncIterable<StoredReading[]>): Promise<StoredReading[]> {
  const all: StoredReading[] = [];
  for await (const batch of batches) all.push(...batch);
  return all;
}

export function storeContract(t: Test, { makeStore }: ContractOptions): void {
  t.test('an empty store has nothing', async (t) => {
    const { store } = await makeStore(t);
    t.same(await store.recentReadings('1', 1), []);
    t.same(await store.findCustomers({ matricula: '1' }), []);
    t.same(await store.stats(), { customers: 0, meters: 0, readings: 0 });
    await store.close();
  });

  t.test('recentReadingsOfEveryMeter: every meter once, its newest readings first, in bounded batches, and again after a restart', async (t) => {
    const fixture = await makeStore(t);
    const collect = async (store: Store, count: number) => {
      const meters: Reading[][] = [];
      let batches = 0;
      for await (const batch of store.recentReadingsOfEveryMeter(count)) {
        batches++;
        t.ok(batch.length > 0 && batch.length <= FLEET_BATCH_METERS, 'a batch is bounded');
        meters.push(...batch);
      }
      return { meters: meters.sort((a, b) => ((a[0] as Reading).matricula < (b[0] as Reading).matricula ? -1 : 1)), batches };
    };
    t.same((await collect(fixture.store, 5)).meters, [], 'an empty store has no meters');
    const fleet = FLEET_BATCH_METERS + 7;
    const readings: Reading[] = [];
    for (let i = 0; i < fleet; i++) {
      const matricula = String(i).padStart(6, '0');
      for (let n = 0; n < (i % 7) + 1; n++) readings.push(reading(matricula, n, BigInt(i * 10 + n)));
    }
    // The 32-instant window applies per meter: readings of one meter in timestamp order.
    await fixture.store.append(readings);
    const expected = (count: number) =>
      Array.from({ length: fleet }, (_, i) => {
        const matricula = String(i).padStart(6, '0');
        const own = readings.filter((r) => r.matricula === matricula).reverse();
        return own.slice(0, count);
      });
    const three = await collect(fixture.store, 3);
    t.equal(three.meters.length, fleet, 'every meter once');
    t.ok(three.batches >= 2, 'in more than one batch');
    t.same(three.meters, expected(3), 'each meter\'s newest readings, newest first, at most count');
    await t.rejects(async () => {
      for await (const _ of fixture.store.recentReadingsOfEveryMeter(RECENT_READINGS_LIMIT + 1)) break;
    }, RangeError);
    await fixture.store.close();
    const reopened = await fixture.reopen();
    t.same((await collect(reopened, 1)).meters, expected(1), 'the same after a restart');
    await reopened.close();
  });

  t.test('append stores readings; recentReadings answers newest first, at most count', async (t) => {
    const { store } = await makeStore(t);
    const result = await store.append([reading('1', 1, 100n), reading('1', 2, 150n), reading('2', 1, 7n)]);
    t.equal(result.stored, 3);
    t.equal(result.duplicates, 0);
    t.same([...result.newest.entries()].sort(), [['1', minute(2)], ['2', minute(1)]]);
    t.same(await store.recentReadings('1', 5), [reading('1', 2, 150n), reading('1', 1, 100n)]);
    t.same(await store.recentReadings('1', 1), [reading('1', 2, 150n)]);
    t.same(await store.recentReadings('01', 1), [], 'leading zeros are significant');
    await t.rejects(store.recentReadings('1', 0), RangeError);
    await t.rejects(store.recentReadings('1', RECENT_READINGS_LIMIT + 1), RangeError);
    t.same(await store.stats(), { customers: 0, meters: 2, readings: 3 });
    await store.close();
  });

  t.test('scan: every durable reading once, with its quality and quantities, each meter\'s in the order admitted', async (t) => {
    const { store, reopen } = await makeStore(t);
    t.same(await collect(store.scan()), [], 'nothing in an empty store');
    await store.append([reading('5', 1, 10n), reading('6', 1, 7n), { ...reading('5', 3, 30n), quantities: { voltage: 220_100 } }]);
    await store.append([reading('5', 2, 20n), reading('6', 2, 5n)]);
    const byMeter = (all: StoredReading[], matricula: string) => all.filter((r) => r.matricula === matricula).map((r) => [r.timestamp, r.consumo, r.quality ?? 0]);
    const all = await collect(store.scan());
    t.equal(all.length, 5, 'each reading once');
    t.same(byMeter(all, '5').map(([time]) => time).sort(), [minute(1), minute(2), minute(3)]);
    t.same(byMeter(all, '6'), [[minute(1), 7n, 0], [minute(2), 5n, 2]], 'oldest first, the register that went down flagged regressiva');
    t.same(all.find((r) => r.matricula === '5' && r.timestamp === minute(3))?.quantities, { voltage: 220_100 }, 'with its quantities');
    await store.close();
    const again = await reopen();
    t.equal((await collect(again.scan())).length, 5, 'durable');
    await again.close();
  });

  t.test('restore keeps the quality each reading carries (migration), and still tells copies and conflicts apart', async (t) => {
    const { store, reopen } = await makeStore(t);
    const flagged: StoredReading[] = [
      { ...reading('3', 1, 500n), quality: 4 },
      { ...reading('3', 2, 100n), quality: 2 },
      reading('3', 3, 100n),
      { ...reading('3', 4, 900_000n), quality: 1, quantities: { voltage: 127_400 } },
    ];
    const restored = await store.restore(flagged);
    t.same([restored.stored, restored.duplicates, restored.rejected], [4, 0, 0]);
    t.same(restored.outcomes, ['stored', 'stored', 'stored', 'stored']);
    const again = await store.restore([flagged[0] as StoredReading, { ...reading('3', 2, 101n), quality: 0 }]);
    t.same(again.outcomes, ['duplicate', 'conflito'], 'a copy is a duplicate, another register at a stored instant a conflict');
    const history = async (s: Store): Promise<StoredReading[]> => {
      const all: StoredReading[] = [];
      for await (const batch of s.history({ matricula: '3', from: 0, to: minute(10) })) all.push(...batch);
      return all;
    };
    t.same((await history(store)).map((r) => [r.timestamp, r.consumo, r.quality ?? 0]), [...flagged].reverse().map((r) => [r.timestamp, r.consumo, r.quality ?? 0]), 'each keeps its quality, not one judged again');
    t.same((await history(store))[0]?.quantities, { voltage: 127_400 }, 'and its quantities');
    await store.close();
    const again2 = await reopen();
    t.same((await history(again2)).map((r) => r.quality ?? 0), [1, 0, 2, 4], 'durable');
    await again2.close();
  });

  t.test('an identical copy is a duplicate, another register at the same instant a conflict; a late reading is stored in order', async (t) => {
    const { store } = await makeStore(t);
    await store.append([reading('1', 5, 500n)]);
    const again = await store.append([reading('1', 5, 999n), reading('1', 3, 300n), reading('1', 6, 600n), reading('1', 6, 601n), reading('1', 5, 500n)]);
    t.same(again.outcomes, ['conflito', 'stored', 'stored', 'conflito', 'duplicate']);
    t.same([again.stored, again.duplicates, again.rejected, again.refused], [2, 1, 2, 0]);
    t.same(again.newest.get('1'), minute(6));
    t.same(await store.recentReadings('1', 5), [reading('1', 6, 600n), reading('1', 5, 500n), reading('1', 3, 300n)]);
    const history: Reading[] = [];
    for await (const batch of store.history({ matricula: '1', from: 0, to: minute(100) })) history.push(...batch);
    t.same(history, [reading('1', 6, 600n), reading('1', 5, 500n), reading('1', 3, 300n)], 'newest first, the late one in its place');
    const copy = await store.append([reading('1', 3, 300n)]);
    t.same(copy, { outcomes: ['duplicate'], qualities: [0], stored: 0, duplicates: 1, refused: 0, rejected: 0, newest: new Map([['1', minute(6)]]) });
    await store.close();
  });

  t.test(`a reading older than its meter's ${LATE_WINDOW_READINGS} newest is refused as atrasada, never dropped silently`, async (t) => {
    const { store } = await makeStore(t);
    await store.append(Array.from({ length: LATE_WINDOW_READINGS + 1 }, (_, i) => reading('7', 10 + i, BigInt(i))));
    const old = await store.append([reading('7', 10, 0n), reading('7', 11, 1n), reading('7', 5, 1n), reading('7', 9, 1n)]);
    t.same(old.outcomes, ['atrasada', 'duplicate', 'atrasada', 'atrasada'], 'the oldest left the window: a copy of it can no longer be told from a new reading');
    await store.close();
  });

  t.test('concurrent appends each resolve durable and acknowledge the newest', async (t) => {
    const { store } = await makeStore(t);
    const calls = Array.from({ length: 50 }, (_, i) => store.append([reading(String(i % 5), i, BigInt(i))]));
    const results = await Promise.all(calls);
    t.equal(results.reduce((sum, r) => sum + r.stored, 0), 50);
    for (const [i, result] of results.entries()) t.ok((result.newest.get(String(i % 5)) ?? 0) >= minute(i));
    t.equal((await store.stats()).readings, 50);
    await store.close();
  });

  t.test('customers: unique username and matricula, queried by either or both', async (t) => {
    const { store } = await makeStore(t);
    const result = await store.addCustomers([
      { username: 'amancio123', matricula: '13456789' },
      { username: 'dani', matricula: '09812389' },
      { username: 'amancio123', matricula: '1' },
      { username: 'other', matricula: '09812389' },
    ]);
    t.equal(result.added, 2);
    t.same(result.skipped, [{ username: 'amancio123', matricula: '1' }, { username: 'other', matricula: '09812389' }]);
    t.same(await store.findCustomers({ username: 'dani' }), [{ username: 'dani', matricula: '09812389' }]);
    t.same(await store.findCustomers({ matricula: '09812389' }), [{ username: 'dani', matricula: '09812389' }]);
    t.same(await store.findCustomers({ matricula: '9812389' }), []);
    t.same(await store.findCustomers({ username: 'dani', matricula: '13456789' }), []);
    t.same(await store.findCustomers({ username: 'amancio123', matricula: '13456789' }), [{ username: 'amancio123', matricula: '13456789' }]);
    t.equal((await store.stats()).customers, 2);
    await store.close();
  });

  t.test('customers page in registration order by offset and limit', async (t) => {
    const { store } = await makeStore(t);
    const registered = Array.from({ length: 30 }, (_, i) => ({ username: `cliente${(i * 7) % 30}`, matricula: String(1000 + i) }));
    await store.addCustomers(registered.slice(0, 12));
    await store.addCustomers(registered.slice(12));
    t.same(await store.findCustomers({}), registered, 'everything, in order');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 35 }), fc.nat({ max: 35 }), async (offset, limit) => {
        t.same(await store.findCustomers({ offset, limit }), registered.slice(offset, offset + limit));
      }),
      { numRuns: 40 },
    );
    t.same(await store.findCustomers({ matricula: '1003', offset: 0, limit: 5 }), [registered[3]]);
    t.same(await store.findCustomers({ matricula: '1003', offset: 1 }), []);
    await store.close();
  });

  t.test('electrical quantities and quality are stored with the reading, read back as stored, and survive a restart', async (t) => {
    const { store, reopen } = await makeStore(t);
    const quantities = { voltage: 219_800, current: 5_120, activePower: 1_050, powerFactor: 930, frequency: 60_010 };
    const partial = { voltage: 127_000 };
    // Six hourly readings of 2 kWh/h, then a spike (15x), then one that carries on from before it.
    const series: Reading[] = [0, 1, 2, 3, 4, 5].map((hour) => reading('5', hour * 60, BigInt(100_000 + hour * 2000)));
    series[5] = { ...(series[5] as Reading), quantities };
    const spike = { ...reading('5', 360, 140_000n), quantities: partial };
    const after = reading('5', 420, 114_000n);
    const result = await store.append([...series, spike, after]);
    t.same(result.qualities, [0, 0, 0, 0, 0, 0, SPIKE, 0], 'the spike is flagged when stored; the reading after it is judged against the last usable one');
    const expected: StoredReading[] = [after, { ...spike, quality: SPIKE }, series[5] as Reading];
    const check = async (s: Store, label: string) => {
      const withoutQuantities = expected.map(({ quantities: _q, ...rest }) => rest);
      t.same(await s.recentReadings('5', 3), withoutQuantities, `recentReadings ${label}: the newest has no quantities, older ones' are left to history`);
      const history: StoredReading[] = [];
      for await (const batch of s.history({ matricula: '5', from: minute(300), to: minute(421) })) history.push(...batch);
      t.same(history, expected, `history ${label}`);
    };
    await check(store, 'when stored');
    t.same((await store.append([{ ...spike }])).outcomes, ['duplicate'], 'a copy with its quantities is a copy');
    await store.close();
    const reopened = await reopen();
    await check(reopened, 'after a restart');
    const newest = { ...reading('5', 480, 116_000n), quantities };
    t.same((await reopened.append([newest])).qualities, [0], 'the window after a restart still judges against the usable readings');
    t.same(await reopened.recentReadings('5', 2), [newest, after], 'the newest reading carries its quantities');
    await reopened.close();
  });

  t.test('what was appended and registered is there after a restart', async (t) => {
    const { store, reopen } = await makeStore(t);
    await store.append([reading('1', 1, 1n), reading('1', 2, 2500n), reading('77', 1, 125n)]);
    await store.addCustomers([{ username: 'u', matricula: '1' }]);
    await store.close();
    const reopened = await reopen();
    t.same(await reopened.recentReadings('1', 5), [reading('1', 2, 2500n), reading('1', 1, 1n)]);
    t.same(await reopened.recentReadings('77', 1), [reading('77', 1, 125n)]);
    t.same(await reopened.findCustomers({ username: 'u' }), [{ username: 'u', matricula: '1' }]);
    t.same((await reopened.append([reading('1', 2, 2500n), reading('1', 2, 9n)])).outcomes, ['duplicate', 'conflito'], 'deduplication survives the restart');
    await reopened.close();
  });

  t.test('history: a meter\'s readings in [from, to), newest first, across pages and blocks, before and after a restart', async (t) => {
    const { store, reopen } = await makeStore(t);
    // Two meters interleaved over several MiB of log (several file blocks, several PostgreSQL pages).
    const count = 30_000;
    const second = (n: number): number => Date.UTC(2026, 0, 1) + n * 1000;
    const mine = Array.from({ length: count }, (_, i): Reading => ({ matricula: '7', timestamp: second(2 * i), consumo: BigInt(i) * 1250n }));
    const other = Array.from({ length: count }, (_, i): Reading => ({ matricula: '77', timestamp: second(2 * i + 1), consumo: BigInt(i) }));
    for (let i = 0; i < count; i += 5000) await store.append([...mine.slice(i, i + 5000), ...other.slice(i, i + 5000)]);
    const collect = async (s: Store, from: number, to: number): Promise<Reading[]> => {
      const all: Reading[] = [];
      for await (const batch of s.history({ matricula: '7', from, to })) {
        t.ok(batch.length > 0, 'no empty batches');
        all.push(...batch);
      }
      return all;
    };
    const newestFirst = [...mine].reverse();
    t.same(await collect(store, 0, Number.MAX_SAFE_INTEGER), newestFirst, 'everything, newest first');
    const check = async (s: Store): Promise<void> => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: -10, max: 2 * count + 10 }), fc.integer({ min: -10, max: 2 * count + 10 }), async (a, b) => {
          const [from, to] = [second(Math.min(a, b)), second(Math.max(a, b))];
          const expected = newestFirst.filter((r) => r.timestamp >= from && r.timestamp < to);
          const actual = await collect(s, from, to);
          if (actual.length !== expected.length || actual.some((r, i) => r.timestamp !== expected[i]?.timestamp || r.consumo !== expected[i]?.consumo)) {
            throw new Error(`history [${from}, ${to}) differs: ${actual.length} vs ${expected.length} readings`);
          }
        }),
        { numRuns: 15 },
      );
    };
    await check(store);
    t.same(await collect(store, second(10), second(10)), [], 'empty range');
    const unknown: Reading[] = [];
    for await (const batch of store.history({ matricula: '9', from: 0, to: Number.MAX_SAFE_INTEGER })) unknown.push(...batch);
    t.same(unknown, [], 'a meter without readings has no history');
    // Stopping early: the first batch only.
    for await (const batch of store.history({ matricula: '77', from: 0, to: Number.MAX_SAFE_INTEGER })) {
      t.same(batch[0], other[count - 1], 'the newest first');
      break;
    }
    await store.append([{ matricula: '7', timestamp: second(2 * count), consumo: 1n }]);
    t.same((await collect(store, second(2 * count), Number.MAX_SAFE_INTEGER)).length, 1, 'a reading appended later is found');
    await store.close();
    const reopened = await reopen();
    newestFirst.unshift({ matricula: '7', timestamp: second(2 * count), consumo: 1n });
    await check(reopened);
    await reopened.close();
    await t.rejects(async () => {
      for await (const _ of reopened.history({ matricula: '7', from: 0, to: 1 })) void _;
    }, { name: 'StoreError', code: 'CLOSED' });
  });

  t.test('a closed store refuses work with CLOSED', async (t) => {
    const { store } = await makeStore(t);
    await store.close();
    await store.close();
    await t.rejects(store.append([reading('1', 1, 1n)]), { name: 'StoreError', code: 'CLOSED' });
    await t.rejects(store.recentReadings('1', 1), { name: 'StoreError', code: 'CLOSED' });
    await t.rejects(store.health(), { name: 'StoreError', code: 'CLOSED' });
  });

  t.test('an open store is healthy', async (t) => {
    const { store } = await makeStore(t);
    await t.resolves(store.health());
    await store.append([reading('1', 1, 1n)]);
    await t.resolves(store.health());
    await store.close();
  });

  t.test('model-based: random operation sequences agree with an in-memory model', async (t) => {
    interface Model {
      readings: Map<string, StoredReading[]>;
    }
    interface Real {
      store: Store;
    }
    const matriculas = ['1', '01', '123456789', '99'];
    class Append implements fc.AsyncCommand<Model, Real> {
      constructor(readonly batch: Reading[]) {}
      check(): boolean {
        return true;
      }
      async run(model: Model, real: Real): Promise<void> {
        // The model: every stored reading of a meter, ascending; the window is its newest LATE_WINDOW_READINGS.
        const expected = this.batch.map((r) => {
          const list = model.readings.get(r.matricula) ?? [];
          model.readings.set(r.matricula, list);
          const same = list.find((stored) => stored.timestamp === r.timestamp);
          if (same !== undefined) return same.consumo === r.consumo ? 'duplicate' : 'conflito';
          if (list.length >= LATE_WINDOW_READINGS && r.timestamp < (list[list.length - LATE_WINDOW_READINGS] as Reading).timestamp) return 'atrasada';
          // Its quality, judged against the meter's newest LATE_WINDOW_READINGS readings older than it.
          const window = list.slice(-LATE_WINDOW_READINGS);
          const at = window.filter((stored) => stored.timestamp < r.timestamp).length;
          const view = arraysWindow(window.map((w) => w.timestamp), window.map((w) => Number(w.consumo)), window.map((w) => w.quality ?? VALID));
          const quality = assessReading(view, at, r.timestamp, Number(r.consumo), DEFAULT_QUALITY_RULES);
          list.push(quality === VALID ? { matricula: r.matricula, timestamp: r.timestamp, consumo: r.consumo } : { matricula: r.matricula, timestamp: r.timestamp, consumo: r.consumo, quality });
          list.sort((a, b) => a.timestamp - b.timestamp);
          return 'stored';
        });
        const result = await real.store.append(this.batch);
        if (JSON.stringify(result.outcomes) !== JSON.stringify(expected)) throw new Error(`outcomes ${JSON.stringify(result.outcomes)}, model ${JSON.stringify(expected)}`);
        for (const matricula of new Set(this.batch.map((r) => r.matricula))) {
          const list = model.readings.get(matricula) ?? [];
          if (result.newest.get(matricula) !== list[list.length - 1]?.timestamp) throw new Error(`newest of ${matricula} differs`);
        }
      }
      toString(): string {
        return `append(${this.batch.map((r) => `${r.matricula}@${r.timestamp}`).join(',')})`;
      }
    }
    class Recent implements fc.AsyncCommand<Model, Real> {
      constructor(readonly matricula: string, readonly count: number) {}
      check(): boolean {
        return true;
      }
      async run(model: Model, real: Real): Promise<void> {
        const expected = (model.readings.get(this.matricula) ?? []).slice(-this.count).reverse();
        const actual = await real.store.recentReadings(this.matricula, this.count);
        const text = (list: readonly StoredReading[]) => JSON.stringify(list, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
        if (text(actual) !== text(expected)) throw new Error(`recent(${this.matricula}, ${this.count}) differs: ${text(actual)} vs model ${text(expected)}`);
      }
      toString(): string {
        return `recent(${this.matricula},${this.count})`;
      }
    }
    class History implements fc.AsyncCommand<Model, Real> {
      constructor(readonly matricula: string, readonly from: number, readonly to: number) {}
      check(): boolean {
        return true;
      }
      async run(model: Model, real: Real): Promise<void> {
        const expected = (model.readings.get(this.matricula) ?? []).filter((r) => r.timestamp >= this.from && r.timestamp < this.to).reverse();
        const actual: StoredReading[] = [];
        for await (const batch of real.store.history({ matricula: this.matricula, from: this.from, to: this.to })) actual.push(...batch);
        const key = (list: StoredReading[]): string => list.map((r) => `${r.matricula}@${r.timestamp}=${r.consumo}/${r.quality ?? VALID}`).join(',');
        if (key(actual) !== key(expected)) throw new Error(`history(${this.matricula}) differs: ${key(actual)} vs ${key(expected)}`);
      }
      toString(): string {
        return `history(${this.matricula},${this.from},${this.to})`;
      }
    }
    const readingArb = fc.record({
      matricula: fc.constantFrom(...matriculas),
      timestamp: fc.integer({ min: 0, max: 60 }).map(minute),
      consumo: fc.bigInt({ min: 0n, max: 10n ** 6n }),
    });
    const commands = [
      fc.array(readingArb, { minLength: 1, maxLength: 12 }).map((batch) => new Append(batch)),
      fc.tuple(fc.constantFrom(...matriculas), fc.integer({ min: 1, max: RECENT_READINGS_LIMIT })).map(([m, c]) => new Recent(m, c)),
      fc.tuple(fc.constantFrom(...matriculas), fc.integer({ min: -1, max: 42 }), fc.integer({ min: 0, max: 43 })).map(([m, a, n]) => new History(m, minute(a), minute(a + n))),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30 }), async (cmds) => {
        // Each run a subtest of its own, so its store's data is released when the run ends (a backend may hand it to the next run emptied).
        let failure: unknown;
        await t.test('a run on a new store', async (t) => {
          const fixture = await makeStore(t);
          try {
            await fc.asyncModelRun(() => ({ model: { readings: new Map() }, real: { store: fixture.store } }), cmds);
          } catch (error) {
            failure = error;
          } finally {
            await fixture.store.close();
          }
          t.pass('ran');
        });
        // Thrown out here, so fast-check sees it and shrinks.
        if (failure !== undefined) throw failure;
      }),
      { numRuns: 40 },
    );
  });
}
