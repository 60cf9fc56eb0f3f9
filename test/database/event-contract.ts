/**
 * The EventStore contract, run unchanged by both backends: an event is
 * stored once whatever the copies, listed newest first with filters and
 * pages, durable across a reopen, and each meter's newest event of some
 * types found (what the fleet's supply and power state start from).
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import { newestFirst, type EventStore, type MeterEvent } from '../../database/event-store.js';
import { EVENT_TYPES } from '../../protocol/meter-commands.js';

export interface EventFixture {
  readonly events: EventStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly events: EventStore; close(): Promise<void> }>;
}

const T0 = Date.UTC(2026, 10, 1);
const event = (matricula: string, minute: number, type: MeterEvent['type'], detail = ''): MeterEvent => ({ matricula, timestamp: T0 + minute * 60_000, type, detail, receivedAt: T0 + minute * 60_000 + 5, delivery: 'pendente', deliveryAttempts: 0 });
const ALL = { from: 0, to: Number.MAX_SAFE_INTEGER };

export function eventContract(t: Test, makeStores: (t: Test) => Promise<EventFixture>): void {
  t.test('events: stored once, newest first, filtered, paged, durable', async (t) => {
    const fixture = await makeStores(t);
    const { events } = fixture;
    t.same(await events.append([]), []);
    const first = [event('13456789', 1, 'falta_energia', 'ultimo suspiro'), event('13456789', 3, 'retorno_energia'), event('09812389', 2, 'violacao_tampa')];
    t.same(await events.append(first), [true, true, true]);
    t.same(await events.append([first[0] as MeterEvent, event('13456789', 1, 'violacao_tampa'), event('13456789', 1, 'violacao_tampa')]), [false, true, false], 'a resent copy, and a repeat within one call, are not new');
    t.same(
      (await events.list(ALL, 0, 10)).map((e) => [e.matricula, e.timestamp - T0, e.type]),
      [
        ['13456789', 180_000, 'retorno_energia'],
        ['09812389', 120_000, 'violacao_tampa'],
        ['13456789', 60_000, 'falta_energia'],
        ['13456789', 60_000, 'violacao_tampa'],
      ],
    );
    t.same((await events.list({ ...ALL, matricula: '13456789', type: 'falta_energia' }, 0, 10)).map((e) => e.detail), ['ultimo suspiro'], 'the detail is kept');
    t.same((await events.list({ from: T0 + 120_000, to: T0 + 180_000 }, 0, 10)).length, 2, 'bounds are inclusive');
    t.same((await events.list(ALL, 1, 2)).map((e) => e.type), ['violacao_tampa', 'falta_energia'], 'offset and limit');
    t.same((await events.list({ ...ALL, matricula: '1' }, 0, 10)), [], 'a meter with no events');
    const newest = await events.newestPerMeter(['falta_energia', 'retorno_energia']);
    t.same(newest.map((e) => [e.matricula, e.type]), [['13456789', 'retorno_energia']]);
    await fixture.close();
    const again = await fixture.reopen();
    t.equal((await again.events.list(ALL, 0, 10)).length, 4, 'durable');
    t.same(await again.events.append([first[1] as MeterEvent]), [false], 'still recognised after a reopen');
    await again.close();
  });

  t.test('events: webhook delivery state recorded, pending ones listed oldest first, durable', async (t) => {
    const fixture = await makeStores(t);
    const { events } = fixture;
    const off = { ...event('13456789', 1, 'violacao_tampa'), delivery: 'desativada' as const };
    await events.append([event('13456789', 3, 'falta_energia'), event('09812389', 2, 'retorno_energia'), off]);
    t.same((await events.pendingDeliveries()).map((e) => [e.matricula, e.type]), [['09812389', 'retorno_energia'], ['13456789', 'falta_energia']], 'pending ones, oldest stored first; none without a webhook');
    await events.setDelivery({ matricula: '09812389', timestamp: T0 + 120_000, type: 'retorno_energia' }, 'entregue', 2);
    await events.setDelivery({ matricula: '13456789', timestamp: T0 + 180_000, type: 'falta_energia' }, 'falhou', 8);
    await events.setDelivery({ matricula: '13456789', timestamp: T0, type: 'falta_energia' }, 'entregue', 1);
    t.same(await events.pendingDeliveries(), [], 'an unknown event is ignored');
    const shown = async (store: EventStore) => (await store.list(ALL, 0, 10)).map((e) => [e.type, e.delivery, e.deliveryAttempts]);
    const expected = [['falta_energia', 'falhou', 8], ['retorno_energia', 'entregue', 2], ['violacao_tampa', 'desativada', 0]];
    t.same(await shown(events), expected, 'listed with their delivery');
    t.same((await events.newestPerMeter(['falta_energia']))[0]?.delivery, 'falhou');
    await fixture.close();
    const again = await fixture.reopen();
    t.same(await shown(again.events), expected, 'durable');
    t.same(await again.events.append([event('13456789', 3, 'falta_energia')]), [false], 'a copy stays a copy, whatever its delivery');
    await again.close();
  });

  t.test('events: any sequence of appends lists as a model says', async (t) => {
    const fixture = await makeStores(t);
    const model = new Map<string, MeterEvent>();
    const arbitrary = fc.array(
      fc.record({ matricula: fc.constantFrom('1', '22', '333'), minute: fc.integer({ min: 0, max: 20 }), type: fc.constantFrom(...EVENT_TYPES) }).map((r) => event(r.matricula, r.minute, r.type)),
      { maxLength: 12 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(arbitrary, { minLength: 1, maxLength: 4 }), async (batches) => {
        for (const batch of batches) {
          const fresh = await fixture.events.append(batch);
          const expected = batch.map((e) => {
            const key = `${e.matricula}|${e.timestamp}|${e.type}`;
            if (model.has(key)) return false;
            model.set(key, e);
            return true;
          });
          if (JSON.stringify(fresh) !== JSON.stringify(expected)) return false;
        }
        const listed = await fixture.events.list(ALL, 0, 10_000);
        return JSON.stringify(listed.map((e) => [e.matricula, e.timestamp, e.type])) === JSON.stringify([...model.values()].sort(newestFirst).map((e) => [e.matricula, e.timestamp, e.type]));
      }),
      { numRuns: 25 },
    );
    await fixture.close();
  });
}
