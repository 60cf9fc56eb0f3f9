/**
 * The PostgreSQL backend in operation: the database going away and coming
 * back under meter load, and several servers sharing one database.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { MeterReport } from '../../cli/meter.js';
import type { RunnerStats } from '../../meter/meter-runner.js';
import { call, PLAIN_NODE, readingLine, recentTimestamps, startTestServer, udpClient } from '../helpers.js';
import { testPostgres } from '../postgres.js';

const METER = fileURLToPath(new URL('../../cli/meter.js', import.meta.url));
// A server of our own even when DATABASE_URL is set: this test stops and starts it.
const postgres = await testPostgres(t, { own: true });

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

t.test('PostgreSQL stopped and restarted under meter load: 503 quickly, nothing acknowledged lost, recovery on its own', async (t) => {
  const schema = postgres.schema(t);
  const server = await startTestServer(t, {
    env: { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: schema, PG_CONNECT_TIMEOUT_MS: '500', PG_STATEMENT_TIMEOUT_MS: '1000' },
  });
  const meter = fork(METER, ['--matricula', '13456789', '--porta', String(server.udp.port), '--intervalo-incremento', '0.02', '--intervalo-envio', '0.1', '--log-level', 'silent'], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    ...PLAIN_NODE,
  });
  t.teardown(() => meter.kill('SIGKILL'));
  let stats: RunnerStats | undefined;
  let final: RunnerStats | undefined;
  meter.on('message', (message: MeterReport) => {
    stats = message.stats;
    if (message.final) final = message.stats;
  });
  await waitFor(() => (stats !== undefined && stats.acknowledged >= 10 ? true : undefined), 10_000, 'first acknowledgements');

  await postgres.embedded!.stop();
  const down = await call(server.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789');
  t.same([down.status, down.json().erro.codigo, down.headers.get('retry-after')], [503, 'banco_indisponivel', '5'], 'answered, not hung');
  const acknowledgedWhenDown = stats!.acknowledged;
  await waitFor(() => (stats!.pending >= 15 ? true : undefined), 10_000, 'readings to pile up un-acked');
  t.ok(stats!.acknowledged - acknowledgedWhenDown <= 2, 'nothing new acknowledged while the database is down (bar a batch in flight)');

  await postgres.embedded!.start();
  const up = await waitFor(async () => {
    const response = await call(server.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789');
    return response.status === 200 ? response : undefined;
  }, 15_000, 'routes to recover');
  t.equal(up.json().matricula, '13456789');
  await waitFor(() => (stats!.pending <= 1 ? true : undefined), 15_000, 'the meter to drain its buffer');
  const exited = once(meter, 'exit');
  meter.kill('SIGTERM');
  await exited;
  t.equal(final?.pending, 0);
  t.equal(final?.dropped, 0);
  const { rows } = await postgres.queryIn(schema, "SELECT count(*)::int AS n, count(DISTINCT data_hora)::int AS d FROM medicoes WHERE matricula = '13456789'");
  t.same(rows[0], { n: final!.produced, d: final!.produced }, 'every reading produced is stored, once');
  const { rows: order } = await postgres.queryIn(
    schema,
    "SELECT bool_and(consumo >= prev) AS rising FROM (SELECT consumo, lag(consumo) OVER (ORDER BY data_hora) AS prev FROM medicoes WHERE matricula = '13456789') x",
  );
  t.equal(order[0].rising, true, 'the register only grows');
});

t.test('two servers on one database serve the same data and never store a reading twice', async (t) => {
  const env = { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: postgres.schema(t) };
  const [first, second] = await Promise.all([startTestServer(t, { env }), startTestServer(t, { env })]);
  const toFirst = await udpClient(t, first!.udp.port);
  const toSecond = await udpClient(t, second!.udp.port);
  const times = recentTimestamps(5);
  const lines = times.map((time, i) => readingLine('13456789', time, [100, 110, 120, 130, 160][i]!));
  // The same readings reach both servers (a meter behind a load balancer resending): stored once.
  const [ackFirst, ackSecond] = await Promise.all([toFirst.sendForAck(lines.join('\n')), toSecond.sendForAck(lines.join('\n'))]);
  t.equal(ackFirst, `ACK;13456789;${times[4]}`);
  t.equal(ackSecond, `ACK;13456789;${times[4]}`);
  t.equal((await first!.stores.store.stats()).readings, 5);
  t.equal(first!.readings.ingest.counters.stored + second!.readings.ingest.counters.stored, 5, 'each reading stored by exactly one server');
  const fromSecond = await call(second!.http.port, 'POST', '/alerta-consumo', { matricula: '13456789' });
  const fromFirst = await call(first!.http.port, 'POST', '/alerta-consumo', { matricula: '13456789' });
  t.equal(fromSecond.body, fromFirst.body);
  t.equal(fromSecond.json().alerta, true);
  await toSecond.sendForAck(readingLine('13456789', new Date(Date.now() - 1000).toISOString(), 170));
  t.equal((await call(first!.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789')).json().consumo, 170, 'a reading taken in by one server is answered by the other');
});
