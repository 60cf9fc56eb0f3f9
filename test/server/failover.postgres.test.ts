/**
 * Meters that fail over (issue 18): three server processes on one
 * PostgreSQL, 50 meter processes spread over them with `--servidores`;
 * one server is killed with SIGKILL mid-ingest. Its meters move on, and
 * every reading any meter produced is stored exactly once.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { MeterReport } from '../../cli/meter.js';
import type { RunnerStats } from '../../meter/meter-runner.js';
import { call, openEvents, PLAIN_NODE, tempDir, until } from '../helpers.js';
import { testPostgres } from '../postgres.js';
import { spawnServer } from './server-process.js';

const METER = fileURLToPath(new URL('../../cli/meter.js', import.meta.url));
// Four meter processes per server: enough for each to fail over while the others carry on (every process costs the run a Node start, ~0.4 s of CPU).
const METERS = 12;
const postgres = await testPostgres(t);

t.test('a server killed mid-ingest: its meters fail over, and every reading produced is stored exactly once', async (t) => {
  const schema = postgres.schema(t);
  const env = { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: schema, PG_POOL_MAX: '4', LOG_LEVEL: 'info' };
  // One server first, so it alone creates the schema; then the other two.
  const servers = [await spawnServer(t, await tempDir(t), env)];
  servers.push(...(await Promise.all([spawnServer(t, await tempDir(t), env), spawnServer(t, await tempDir(t), env)])));
  const addresses = servers.map((server) => `127.0.0.1:${server.udpPort}`);

  const meters: Array<{ child: ChildProcess; matricula: string; stats?: RunnerStats; final?: RunnerStats }> = [];
  for (let i = 0; i < METERS; i++) {
    // Meter i starts on server i mod 3 and fails over to the next ones in turn.
    const order = [0, 1, 2].map((k) => addresses[(i + k) % 3] as string);
    const matricula = String(70_000_000 + i);
    const child = fork(METER, ['--matricula', matricula, '--servidores', order.join(','), '--intervalo-incremento', '0.05', '--intervalo-envio', '0.25', '--log-level', 'silent'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], ...PLAIN_NODE });
    const meter: (typeof meters)[number] = { child, matricula };
    child.on('message', (message: MeterReport) => {
      meter.stats = message.stats;
      if (message.final) meter.final = message.stats;
    });
    t.teardown(() => void child.kill('SIGKILL'));
    meters.push(meter);
  }
  const progress = async () => `every meter acknowledged (reporting ${meters.filter((m) => m.stats !== undefined).length}, acknowledged ${meters.map((m) => m.stats?.acknowledged ?? '-').join(' ')})`;
  await until(progress, async () => (meters.every((m) => (m.stats?.acknowledged ?? 0) >= 3) ? true : undefined), 60_000);

  // A reading taken in by one server reaches another's /eventos within a second of the meter stamping it.
  const watched = meters[1]!.matricula; // starts on server 1
  const stream = await openEvents(servers[2]!.httpPort, `/eventos?matricula=${watched}`);
  t.teardown(() => stream.close());
  await stream.waitFor((events) => events.filter((e) => e.event === 'medicao').length >= 3, 10_000);
  const lags = stream.events.filter((e) => e.event === 'medicao').slice(-3).map((e) => e.receivedAt - Date.parse((JSON.parse(e.data) as { data_hora: string }).data_hora));
  t.ok(lags.every((lag) => lag < 1000), `stamped by the meter, stored by server 1, on server 2's stream after ${lags.join(', ')} ms (a meter stamps on its schedule, up to half an interval ahead of sending)`);
  stream.close();

  // SIGKILL: no graceful stop, readings in flight on that server are lost to it, not to the meters.
  const victim = servers[0]!;
  const killed = once(victim.child, 'exit');
  victim.child.kill('SIGKILL');
  await killed;
  const acknowledgedAtKill = new Map(meters.map((m) => [m.matricula, m.stats?.acknowledged ?? 0]));
  await until(progress, async () => (meters.every((m) => (m.stats?.acknowledged ?? 0) >= (acknowledgedAtKill.get(m.matricula) ?? 0) + 4) ? true : undefined), 60_000);
  const movedOver = meters.filter((m, i) => i % 3 === 0);
  t.ok(movedOver.every((m) => (m.stats?.failovers ?? 0) >= 1 && m.stats?.server !== addresses[0]), `the ${movedOver.length} meters of the killed server moved to another`);
  t.ok(meters.every((m) => m.stats?.server !== addresses[0]), 'no meter is left on the dead server');

  // Stop every meter gracefully: each sends what it still holds and reports what it produced.
  await Promise.all(meters.map(async (m) => {
    const exited = once(m.child, 'exit');
    m.child.kill('SIGTERM');
    await exited;
  }));
  const { rows } = await postgres.queryIn(schema, 'SELECT matricula, count(*)::int AS n, count(DISTINCT data_hora)::int AS d FROM medicoes GROUP BY matricula');
  const stored = new Map(rows.map((row: { matricula: string; n: number; d: number }) => [row.matricula, row]));
  let produced = 0;
  for (const meter of meters) {
    const final = meter.final;
    t.ok(final !== undefined, `${meter.matricula} reported at its end`);
    if (final === undefined) continue;
    t.same([final.pending, final.dropped], [0, 0], `${meter.matricula} holds nothing unacknowledged`);
    t.same(stored.get(meter.matricula), { matricula: meter.matricula, n: final.produced, d: final.produced }, `${meter.matricula}: each of its ${final.produced} readings stored once`);
    produced += final.produced;
  }
  t.comment(`${produced} readings from ${METERS} meter processes; failovers: ${meters.reduce((sum, m) => sum + (m.final?.failovers ?? 0), 0)}`);
  // The survivors still see every meter in their fleet.
  for (const server of servers.slice(1)) t.equal((await call(server.httpPort, 'GET', '/frota')).json().medidores_vistos, METERS);
});
