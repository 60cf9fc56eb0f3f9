/**
 * The rollups' contract (Store.hourly, Store.daily): whatever readings a
 * store took — in any order, late ones, flagged ones, copies, conflicts,
 * across restarts and changes of its days' zone — its rollups equal a
 * recomputation from its own raw readings (domain/readings/rollups.ts
 * rollUp of Store.history, by hour and by local day). One suite, run
 * unchanged by every backend.
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import { GAP_BEFORE, PROLONGED_ZERO, REGRESSIVE, SPIKE, VALID } from '../../domain/readings/quality.js';
import { rollUp, rollUpDays, type DayRollup, type HourRollup } from '../../domain/readings/rollups.js';
import type { Reading, Store, StoredReading } from '../../database/store.js';

/** A new store whose days are local days of `dayZone`, and how to open it again (with another zone: its days change zone). */
export interface RollupContractOptions {
  makeStore(t: Test, dayZone: string): Promise<{ store: Store; reopen: (dayZone: string) => Promise<Store> }>;
}

/** Two hours behind UTC all year: its days start at 02:00 UTC, so the model-based test's six hours cross a local day, a UTC day and a UTC month. */
const ZONE = 'America/Noronha';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 31, 20);
const minute = (n: number): number => START + n * 60_000;

async function history(store: Store, matricula: string, from: number, to: number): Promise<StoredReading[]> {
  const all: StoredReading[] = [];
  for await (const batch of store.history({ matricula, from, to })) all.push(...batch);
  return all;
}

const text = (rollups: unknown): string => JSON.stringify(rollups, (_, value) => (typeof value === 'bigint' ? `${value}n` : value));

/** The store's rollups of [from, to) against rollUp of its history over the same whole hours (`all`: its whole history, when read already). */
async function expectRecomputed(store: Store, matricula: string, from: number, to: number, all?: StoredReading[]): Promise<{ actual: string; expected: string }> {
  const firstHour = Math.ceil(from / HOUR) * HOUR;
  const actual = await store.hourly({ matricula, from, to });
  const expected = rollUp(all ?? (await history(store, matricula, firstHour, Math.ceil(to / HOUR) * HOUR))).filter((rollup) => rollup.start >= firstHour && rollup.start < to);
  return { actual: text(actual), expected: text(expected) };
}

/** The store's days starting in [from, to) against its history (all of it, unless given) rolled up by hour, then by local day of its zone. */
async function expectDaysRecomputed(store: Store, matricula: string, from: number, to: number, all?: StoredReading[]): Promise<{ actual: string; expected: string }> {
  const actual = await store.daily({ matricula, from, to });
  const expected = rollUpDays(rollUp(all ?? (await history(store, matricula, 0, Date.UTC(9999, 0)))), store.dayZone).filter((day) => day.start >= from && day.start < to);
  return { actual: text(actual), expected: text(expected) };
}

export function rollupContract(t: Test, { makeStore }: RollupContractOptions): void {
  t.test('hourly: per UTC hour, readings, flagged, usable, oldest and newest usable; late readings and restarts included', async (t) => {
    const fixture = await makeStore(t, ZONE);
    const at = (h: number, m: number): number => START + h * HOUR + m * 60_000;
    const stored: StoredReading[] = [
      { matricula: '7', timestamp: at(0, 10), consumo: 1000n },
      { matricula: '7', timestamp: at(0, 40), consumo: 1500n },
      { matricula: '7', timestamp: at(0, 50), consumo: 99_000n, quality: SPIKE },
      { matricula: '7', timestamp: at(1, 5), consumo: 1700n, quality: GAP_BEFORE },
      { matricula: '7', timestamp: at(3, 0), consumo: 1400n, quality: REGRESSIVE },
      { matricula: '7', timestamp: at(6, 30), consumo: 1800n },
      { matricula: '8', timestamp: at(0, 15), consumo: 5n },
    ];
    await fixture.store.restore(stored);
    // A late reading in the first hour, older than its oldest: it becomes the oldest.
    await fixture.store.restore([{ matricula: '7', timestamp: at(0, 1), consumo: 900n }]);
    const expected: HourRollup[] = [
      { start: at(0, 0), readings: 4, flagged: 1, usable: 3, oldest: { timestamp: at(0, 1), register: 900n }, newest: { timestamp: at(0, 40), register: 1500n } },
      { start: at(1, 0), readings: 1, flagged: 1, usable: 1, oldest: { timestamp: at(1, 5), register: 1700n }, newest: { timestamp: at(1, 5), register: 1700n } },
      { start: at(3, 0), readings: 1, flagged: 1, usable: 0, oldest: undefined, newest: undefined },
      { start: at(6, 0), readings: 1, flagged: 0, usable: 1, oldest: { timestamp: at(6, 30), register: 1800n }, newest: { timestamp: at(6, 30), register: 1800n } },
    ];
    t.same(text(await fixture.store.hourly({ matricula: '7', from: 0, to: at(10, 0) })), text(expected), 'every hour with a reading, oldest first');
    t.same(text(await fixture.store.hourly({ matricula: '7', from: at(0, 30), to: at(3, 0) })), text(expected.slice(1, 2)), 'hours that start in [from, to)');
    t.same(await fixture.store.hourly({ matricula: '9', from: 0, to: at(10, 0) }), [], 'a meter without readings has none');
    t.same(await fixture.store.hourly({ matricula: '7', from: at(5, 0), to: at(5, 0) }), [], 'an empty range has none');
    // Local days of America/Noronha (UTC-2): 31 January until 02:00 UTC on 1 February (at(6, 0)), then 1 February.
    const days: DayRollup[] = [
      { start: Date.UTC(2026, 0, 31, 2), readings: 6, flagged: 3, usable: 4, oldest: { timestamp: at(0, 1), register: 900n }, newest: { timestamp: at(1, 5), register: 1700n } },
      { start: Date.UTC(2026, 1, 1, 2), readings: 1, flagged: 0, usable: 1, oldest: { timestamp: at(6, 30), register: 1800n }, newest: { timestamp: at(6, 30), register: 1800n } },
    ];
    t.equal(fixture.store.dayZone, ZONE, 'the zone it was opened with');
    t.same(text(await fixture.store.daily({ matricula: '7', from: 0, to: at(48, 0) })), text(days), 'every local day with a reading, oldest first');
    t.same(text(await fixture.store.daily({ matricula: '7', from: Date.UTC(2026, 0, 31, 2, 1), to: at(48, 0) })), text(days.slice(1)), 'days that start in [from, to)');
    t.same(await fixture.store.daily({ matricula: '9', from: 0, to: at(48, 0) }), [], 'a meter without readings has none');
    // Regression (daily over every day to Number.MAX_SAFE_INTEGER walked every day of that range): bounded by the data.
    t.same(text(await fixture.store.daily({ matricula: '7', from: 0, to: Number.MAX_SAFE_INTEGER })), text(days), 'a range of centuries costs what the data covers');
    await fixture.store.close();
    const reopened = await fixture.reopen(ZONE);
    t.same(text(await reopened.hourly({ matricula: '7', from: 0, to: at(10, 0) })), text(expected), 'the same after a restart');
    t.same(text(await reopened.daily({ matricula: '7', from: 0, to: at(48, 0) })), text(days), 'and the same days');
    await reopened.restore([{ matricula: '7', timestamp: at(0, 55), consumo: 1600n }]);
    t.same(text((await reopened.hourly({ matricula: '7', from: 0, to: at(1, 0) }))[0]?.newest), text({ timestamp: at(0, 55), register: 1600n }), 'a late reading after a restart moves the newest');
    const lateDay = { ...days[0], readings: 7, usable: 5 };
    t.same(text(await reopened.daily({ matricula: '7', from: 0, to: at(48, 0) })), text([lateDay, days[1]]), 'and counts in its day');
    await reopened.close();
    // Opened in another zone, the days are that zone's: UTC days split the readings at midnight UTC instead.
    const inUtc = await fixture.reopen('UTC');
    t.equal(inUtc.dayZone, 'UTC');
    const { actual, expected: recomputed } = await expectDaysRecomputed(inUtc, '7', 0, at(48, 0));
    t.equal(actual, recomputed, 'days of the new zone, from the same readings');
    t.same((await inUtc.daily({ matricula: '7', from: 0, to: at(48, 0) })).map((day) => new Date(day.start).toISOString()), ['2026-01-31T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
    await inUtc.close();
    const back = await fixture.reopen(ZONE);
    t.same(text(await back.daily({ matricula: '7', from: 0, to: at(48, 0) })), text([lateDay, days[1]]), 'and back');
    await back.close();
  });

  t.test('hourly equals rollUp of history for random readings, appends and restores, copies, conflicts and restarts (model-based)', async (t) => {
    const matriculas = ['1', '22', '333'];
    interface Real {
      store: Store;
      readonly reopen: (dayZone: string) => Promise<Store>;
    }
    type Model = Record<string, never>;
    const check = async (real: Real, matricula: string, from: number, to: number): Promise<void> => {
      // One read of the meter's whole history serves both checks.
      const all = await history(real.store, matricula, 0, Date.UTC(9999, 0));
      const { actual, expected } = await expectRecomputed(real.store, matricula, from, to, all);
      if (actual !== expected) throw new Error(`hourly(${matricula}, ${from}, ${to}) = ${actual}, recomputed ${expected}`);
      const days = await expectDaysRecomputed(real.store, matricula, from, to, all);
      if (days.actual !== days.expected) throw new Error(`daily(${matricula}, ${from}, ${to}) = ${days.actual}, recomputed ${days.expected}`);
    };
    class Append implements fc.AsyncCommand<Model, Real> {
      constructor(readonly batch: StoredReading[], readonly restoring: boolean) {}
      check(): boolean {
        return true;
      }
      async run(_model: Model, real: Real): Promise<void> {
        if (this.restoring) await real.store.restore(this.batch);
        else await real.store.append(this.batch.map(({ quality: _quality, ...reading }): Reading => reading));
        for (const matricula of new Set(this.batch.map((reading) => reading.matricula))) await check(real, matricula, 0, minute(24 * 60));
      }
      toString(): string {
        return `${this.restoring ? 'restore' : 'append'}(${this.batch.map((r) => `${r.matricula}@${(r.timestamp - START) / 60_000}=${r.consumo}/${r.quality ?? 0}`).join(',')})`;
      }
    }
    class Restart implements fc.AsyncCommand<Model, Real> {
      check(): boolean {
        return true;
      }
      async run(_model: Model, real: Real): Promise<void> {
        await real.store.close();
        real.store = await real.reopen(ZONE);
        for (const matricula of matriculas) await check(real, matricula, 0, minute(24 * 60));
      }
      toString(): string {
        return 'restart';
      }
    }
    class Hourly implements fc.AsyncCommand<Model, Real> {
      constructor(readonly matricula: string, readonly from: number, readonly to: number) {}
      check(): boolean {
        return true;
      }
      async run(_model: Model, real: Real): Promise<void> {
        await check(real, this.matricula, this.from, this.to);
      }
      toString(): string {
        return `hourly(${this.matricula},${(this.from - START) / 60_000},${(this.to - START) / 60_000})`;
      }
    }
    // Over six hours (across a month's end: START is 20:00 UTC on 31 January), registers small enough to repeat.
    const readingArb = fc.record({
      matricula: fc.constantFrom(...matriculas),
      timestamp: fc.integer({ min: 0, max: 360 }).map(minute),
      consumo: fc.bigInt({ min: 0n, max: 500n }),
      quality: fc.constantFrom(VALID, VALID, SPIKE, REGRESSIVE, GAP_BEFORE, PROLONGED_ZERO, SPIKE | GAP_BEFORE),
    });
    const commands = [
      fc.tuple(fc.array(readingArb, { minLength: 1, maxLength: 15 }), fc.boolean()).map(([batch, restoring]) => new Append(batch, restoring)),
      fc.constant(new Restart()),
      fc.tuple(fc.constantFrom(...matriculas), fc.integer({ min: -30, max: 400 }), fc.integer({ min: 0, max: 400 })).map(([m, a, n]) => new Hourly(m, minute(a), minute(a + n))),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 20 }), async (cmds) => {
        let failure: unknown;
        await t.test('a run on a new store', async (t) => {
          const fixture = await makeStore(t, ZONE);
          const real: Real = { store: fixture.store, reopen: fixture.reopen };
          try {
            await fc.asyncModelRun(() => ({ model: {}, real }), cmds);
          } catch (error) {
            failure = error;
          } finally {
            await real.store.close();
          }
          t.pass('ran');
        });
        if (failure !== undefined) throw failure;
      }),
      { numRuns: 25 },
    );
  });
}
