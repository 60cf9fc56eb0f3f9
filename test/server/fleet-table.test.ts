/**
 * The operator's fleet table as a pure function: every sort key in both
 * directions, pages that partition the result, filters; and the fleet
 * tracker that feeds it (late readings, restart seeding).
 */
import fc from 'fast-check';
import t from 'tap';
import { SPIKE } from '../../domain/readings/quality.js';
import type { Reading } from '../../database/store.js';
import { alertOf } from '../../domain/readings/consumption.js';
import { FLEET_SORT_KEYS, fleetTable, type FleetMeter, type FleetRow, type FleetSortKey } from '../../domain/fleet-table.js';
import { FleetTracker } from '../../app/fleet.js';

const NOW_S = 2_000_000_000;

const meterArbitrary = fc.record({
  matricula: fc.stringMatching(/^\d{1,4}$/),
  heardAt: fc.integer({ min: NOW_S - 500, max: NOW_S }),
  periods: fc.array(fc.bigInt({ min: 0n, max: 50n }), { minLength: 0, maxLength: 4 }),
  newestAt: fc.integer({ min: 0, max: 1000 }),
});

function fleetOf(records: Array<{ matricula: string; heardAt: number; periods: bigint[]; newestAt: number }>): FleetMeter[] {
  const seen = new Set<string>();
  const meters: FleetMeter[] = [];
  for (const record of records) {
    if (seen.has(record.matricula)) continue;
    seen.add(record.matricula);
    let register = 1000n;
    const oldestFirst: Reading[] = [{ matricula: record.matricula, timestamp: record.newestAt * 1000 - record.periods.length * 60_000, consumo: register }];
    record.periods.forEach((period, i) => oldestFirst.push({ matricula: record.matricula, timestamp: record.newestAt * 1000 - (record.periods.length - 1 - i) * 60_000, consumo: (register += period) }));
    const recent = oldestFirst.reverse();
    meters.push({ matricula: record.matricula, heardAt: record.heardAt, recent, alert: alertOf(recent) });
  }
  return meters;
}

const value = (row: FleetRow, key: FleetSortKey): number | string | null => {
  switch (key) {
    case 'matricula': return row.matricula;
    case 'cliente': return row.cliente;
    case 'ultima_leitura': return row.newest.timestamp;
    case 'ultimo_contato': return row.heardAt;
    case 'alerta': return row.alert === true ? 2 : row.alert === false ? 1 : 0;
    case 'silencio': return row.silenceS;
  }
};

t.test('every sort key, both directions: ordered, ties by matricula, pages partition the whole', async (t) => {
  fc.assert(
    fc.property(
      fc.array(meterArbitrary, { maxLength: 60 }),
      fc.constantFrom(...FLEET_SORT_KEYS),
      fc.boolean(),
      fc.integer({ min: 1, max: 17 }),
      (records, sortBy, descending, pageSize) => {
        const meters = fleetOf(records);
        const customers = new Map(meters.filter((_, i) => i % 3 !== 0).map((m, i) => [m.matricula, `cliente${(i * 7) % 5}`]));
        const query = { sortBy, descending, page: 1, pageSize: 10_000, silentAfterS: 45 };
        const whole = fleetTable(meters, customers, query, NOW_S);
        if (whole.total !== meters.length) return false;
        for (let i = 1; i < whole.rows.length; i++) {
          const a = whole.rows[i - 1] as FleetRow;
          const b = whole.rows[i] as FleetRow;
          const [va, vb] = [value(a, sortBy), value(b, sortBy)];
          if (sortBy === 'cliente' && (va === null || vb === null)) {
            // Meters of no customer come last in both directions.
            if (va === null && vb !== null) return false;
            continue;
          }
          const order = typeof va === 'string' && typeof vb === 'string' && sortBy === 'cliente' ? va.localeCompare(vb, 'pt-BR') : (va as number | string) < (vb as number | string) ? -1 : (va as number | string) > (vb as number | string) ? 1 : 0;
          if ((descending ? -order : order) > 0) return false;
          if (order === 0 && a.matricula >= b.matricula) return false;
        }
        const paged: FleetRow[] = [];
        for (let page = 1; (page - 1) * pageSize < whole.total; page++) paged.push(...fleetTable(meters, customers, { ...query, page, pageSize }, NOW_S).rows);
        return JSON.stringify(paged.map((r) => r.matricula)) === JSON.stringify(whole.rows.map((r) => r.matricula));
      },
    ),
    { numRuns: 300 },
  );
});

t.test('filters: search by matricula prefix or customer name; only alerts; only silent; counts of what passes', async (t) => {
  const meters = fleetOf([
    { matricula: '1001', heardAt: NOW_S - 10, periods: [10n, 10n, 10n, 30n], newestAt: 1 },
    { matricula: '1002', heardAt: NOW_S - 100, periods: [10n, 10n, 10n, 10n], newestAt: 2 },
    { matricula: '2001', heardAt: NOW_S - 200, periods: [10n], newestAt: 3 },
  ]);
  const customers = new Map([['2001', 'Joana Souza']]);
  const base = { sortBy: 'matricula' as const, descending: false, page: 1, pageSize: 50, silentAfterS: 45 };
  const all = fleetTable(meters, customers, base, NOW_S);
  t.same(all.rows.map((r) => [r.matricula, r.alert, r.silent, r.cliente]), [
    ['1001', true, false, null],
    ['1002', false, true, null],
    ['2001', null, true, 'Joana Souza'],
  ]);
  t.same([all.total, all.inAlert, all.silent], [3, 1, 2]);
  t.same(fleetTable(meters, customers, { ...base, search: '10' }, NOW_S).rows.map((r) => r.matricula), ['1001', '1002']);
  t.same(fleetTable(meters, customers, { ...base, search: 'joana' }, NOW_S).rows.map((r) => r.matricula), ['2001'], 'customer name, any case');
  t.same(fleetTable(meters, customers, { ...base, only: 'alertas' }, NOW_S).rows.map((r) => r.matricula), ['1001']);
  t.same(fleetTable(meters, customers, { ...base, only: 'silenciosos' }, NOW_S).rows.map((r) => r.matricula), ['1002', '2001']);
});

t.test('the tracker keeps each meter\'s 5 newest readings in time order, late ones included; a seed never overrides what was heard', async (t) => {
  let now = NOW_S;
  const fleet = new FleetTracker(() => now);
  const r = (matricula: string, minute: number, consumo: bigint): Reading => ({ matricula, timestamp: minute * 60_000, consumo });
  const readings = [r('7', 1, 10n), r('7', 2, 20n), r('7', 4, 40n), r('7', 5, 50n), r('7', 6, 80n), r('7', 3, 30n)];
  fleet.heard(readings, readings.map(() => 'stored' as const), readings.map(() => 0));
  fleet.heard([r('7', 7, 999n)], ['duplicate'], [0]);
  const [seven] = fleet.meters();
  t.same(seven?.recent.map((x) => x.consumo), [80n, 50n, 40n, 30n, 20n], 'the late reading in its place, the oldest dropped, a duplicate ignored');
  fleet.heard([r('7', 8, 99_999n)], ['stored'], [SPIKE]);
  t.same(fleet.meters()[0]?.recent.map((x) => x.consumo), [80n, 50n, 40n, 30n, 20n], 'a reading validation flagged is heard but drives no alert');
  t.equal(seven?.alert, true, 'the alert of the five newest, kept up to date: 30 >= 1.5 x 10');
  t.equal(alertOf(seven?.recent ?? []), true);
  now += 100;
  fleet.seed([[r('7', 0, 0n)], [r('8', 1_000_000, 5n)]]);
  const byMatricula = new Map(fleet.meters().map((m) => [m.matricula, m]));
  t.equal(byMatricula.get('7')?.heardAt, 8 * 60, 'a meter heard since start: last heard when its newest reading was taken (minute 8), which an older seed never takes back');
  t.equal(byMatricula.get('8')?.heardAt, 60_000_000, 'a seeded meter was last heard when its newest reading was taken');
  t.equal(fleet.summary(45).medidores_vistos, 2);
});

t.test('regression (issue 27: "Ler agora" closed a consumo_elevado alert and opened another 4 s later): an on-demand reading does not split an episode; the alert ends after two decisions without it', async (t) => {
  const fleet = new FleetTracker(() => NOW_S);
  const at = (seconds: number, consumo: bigint): Reading => ({ matricula: '7', timestamp: seconds * 1000, consumo });
  const hear = (...readings: Reading[]): Array<{ matricula: string; alert: boolean }> => {
    fleet.heard(readings, readings.map(() => 'stored' as const), readings.map(() => 0));
    return fleet.takeAlertChanges();
  };
  // Every 5 s, 10 kWh a period, then 40: the 1.5x rule fires.
  t.same(hear(at(0, 0n), at(5, 10n), at(10, 20n), at(15, 30n), at(20, 70n)), [{ matricula: '7', alert: true }], 'the alert starts');
  t.same(hear(at(21, 78n)), [], '"Ler agora" a second later: a short period that does not fire, and the alert goes on');
  t.same(hear(at(25, 110n)), [], 'the next regular reading fires again: still the same alert');
  t.same(hear(at(30, 120n)), [], 'back to normal once: not yet over');
  t.same(hear(at(35, 130n)), [{ matricula: '7', alert: false }], 'twice: over');
});
