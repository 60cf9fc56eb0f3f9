/**
 * What one page of the operator's fleet table costs (`GET /frota/medidores`:
 * every known meter filtered, its alert decided, sorted, one page cut), for
 * fleets of 10,000 and 100,000 meters, against a baseline in the same run:
 * sorting the same number of plain numbers. `npm run bench:frota`.
 */
import { fleetTable, FLEET_SORT_KEYS } from '../domain/fleet-table.js';
import { FleetTracker } from '../app/fleet.js';
import { median, parseCli } from './lib.js';

const values = parseCli('bench:frota', 'What one page of the fleet table costs for 10,000 and 100,000 meters, against sorting as many numbers.', {
  rodadas: { default: '7', help: 'rounds per measurement (the median is printed)' },
});
const ROUNDS = Math.max(1, Number(values.rodadas) || 7);
const nowS = Math.floor(Date.now() / 1000);

for (const meters of [10_000, 100_000]) {
  const fleet = new FleetTracker(() => nowS);
  const batch = [];
  for (let m = 0; m < meters; m++) {
    const matricula = String(10_000_000 + ((m * 7919) % 90_000_000));
    batch.push(Array.from({ length: 5 }, (_, i) => ({ matricula, timestamp: (nowS - 60 * (i + 1) - (m % 3600)) * 1000, consumo: BigInt(1_000_000 - i * 1000 - (m % 7) * (i === 0 ? 500 : 0)) })));
  }
  fleet.seed(batch);
  const customers = new Map(fleet.meters().filter((_, i) => i % 2 === 0).map((meter, i) => [meter.matricula, `cliente${i}`]));
  const baseline: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const values = fleet.meters().map((meter) => meter.heardAt);
    const started = process.hrtime.bigint();
    values.sort((a, b) => a - b);
    baseline.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const base = median(baseline);
  const parts = [`${meters} meters: baseline sort of ${meters} numbers ${base.toFixed(2)} ms`];
  for (const sortBy of FLEET_SORT_KEYS) {
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = process.hrtime.bigint();
      fleetTable(fleet.meters(), customers, { sortBy, descending: true, page: 1, pageSize: 50, silentAfterS: 45 }, nowS);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const took = median(times);
    parts.push(`${sortBy} ${took.toFixed(1)} ms (${(took / base).toFixed(1)}x)`);
  }
  process.stdout.write(`${parts.join(' | ')}\n`);
}
