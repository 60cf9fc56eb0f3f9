/**
 * PROCESSOS=N (issue 18): workers sharing the HTTP and UDP ports over one
 * PostgreSQL; /metricas gathers every worker's figures; the file store
 * refuses more than one process; the primary stops its workers cleanly.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import t from 'tap';
import fc from 'fast-check';
import { mergeExpositions } from '../../server/cluster.js';
import { call, readingLine, tempDir, until } from '../helpers.js';
import { testPostgres } from '../postgres.js';
import { MAIN, spawnServer } from './server-process.js';

const postgres = await testPostgres(t);

t.test('the file store refuses PROCESSOS above 1 with one line naming it', async (t) => {
  const result = spawnSync(process.execPath, [MAIN], { env: { ...process.env, NODE_OPTIONS: '', DATA_DIR: await tempDir(t), PROCESSOS: '2' }, encoding: 'utf8', timeout: 20_000 });
  t.equal(result.status, 1);
  t.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  t.match(result.stderr, /PROCESSOS.*STORAGE=postgres/);
});

t.test('expositions merge: one HELP and TYPE per family, every sample labelled with its process', async (t) => {
  const exposition = (value: number) =>
    ['# HELP a_total A.', '# TYPE a_total counter', `a_total ${value}`, '# HELP b Bs.', '# TYPE b histogram', `b_bucket{le="1"} ${value}`, `b_bucket{le="+Inf"} ${value}`, `b_sum ${value}`, `b_count ${value}`, '# HELP c C.', '# TYPE c gauge', `c{estado="x y",z="}"} ${value}`, ''].join('\n');
  t.equal(
    mergeExpositions([{ processo: '1', text: exposition(3) }, { processo: '2', text: exposition(4) }]),
    [
      '# HELP a_total A.', '# TYPE a_total counter', 'a_total{processo="1"} 3', 'a_total{processo="2"} 4',
      '# HELP b Bs.', '# TYPE b histogram', 'b_bucket{processo="1",le="1"} 3', 'b_bucket{processo="1",le="+Inf"} 3', 'b_sum{processo="1"} 3', 'b_count{processo="1"} 3',
      'b_bucket{processo="2",le="1"} 4', 'b_bucket{processo="2",le="+Inf"} 4', 'b_sum{processo="2"} 4', 'b_count{processo="2"} 4',
      '# HELP c C.', '# TYPE c gauge', 'c{processo="1",estado="x y",z="}"} 3', 'c{processo="2",estado="x y",z="}"} 4', '',
    ].join('\n'),
  );
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 6 }), (values) => {
      const merged = mergeExpositions(values.map((value, i) => ({ processo: String(i + 1), text: exposition(value) })));
      const lines = merged.trim().split('\n');
      return lines.filter((line) => line.startsWith('# HELP')).length === 3 && lines.filter((line) => !line.startsWith('#')).length === 6 * values.length && lines.filter((line) => !line.startsWith('#')).every((line) => /\{processo="\d+"/.test(line));
    }),
  );
});

t.test('PROCESSOS=2 on PostgreSQL: both workers take HTTP requests and ingest, each reports in /metricas; SIGTERM stops them all', async (t) => {
  const env = { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: postgres.schema(t), PG_POOL_MAX: '3', PROCESSOS: '2', NODE_OPTIONS: '' };
  const server = await spawnServer(t, await tempDir(t), env);
  await until('both workers started', async () => (server.logs().split('"consumo-inteligente started"').length - 1 >= 2 ? true : undefined), 30_000);
  const udpPorts = new Set([...server.logs().matchAll(/"udp":"127\.0\.0\.1:(\d+)"/g)].map((match) => match[1]));
  t.equal(udpPorts.size, 1, 'one UDP port for both');

  // Many meters, each from a socket of its own: the kernel gives each datagram to one worker.
  const sockets = await Promise.all(Array.from({ length: 20 }, async () => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    t.teardown(() => socket.close());
    return socket;
  }));
  let round = 0;
  const stored = (text: string, processo: string) => Number(new RegExp(`consumo_leituras_armazenadas_total\\{processo="${processo}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  const requests = (text: string, processo: string) => [...text.matchAll(new RegExp(`consumo_http_requisicoes_total\\{processo="${processo}",[^}]*\\} (\\d+)`, 'g'))].reduce((sum, match) => sum + Number(match[1]), 0);
  const metrics = await until('readings stored and requests answered by both workers', async () => {
    round++;
    const at = new Date(Date.now() - 60_000 + round * 200).toISOString();
    sockets.forEach((socket, i) => socket.send(readingLine(String(80_000_000 + i), at, round), server.udpPort, '127.0.0.1'));
    const text = (await call(server.httpPort, 'GET', '/metricas')).body;
    return ['1', '2'].every((p) => stored(text, p) > 0 && requests(text, p) > 0) ? text : undefined;
  }, 30_000);
  t.match(metrics, /# TYPE consumo_leituras_armazenadas_total counter\nconsumo_leituras_armazenadas_total\{processo="1"\} \d+\nconsumo_leituras_armazenadas_total\{processo="2"\} \d+/, 'one family, a sample per worker');
  // Once nothing is in flight: what the workers say they stored is what the database holds.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const settled = (await call(server.httpPort, 'GET', '/metricas')).body;
  const { rows } = await postgres.queryIn(env.PG_SCHEMA, 'SELECT count(*)::int AS n FROM medicoes');
  t.equal(rows[0].n, stored(settled, '1') + stored(settled, '2'), 'the workers\' counts add up to the rows stored');
  // The fleet is shared: whichever worker answers knows all 20 meters.
  for (let i = 0; i < 4; i++) t.equal((await call(server.httpPort, 'GET', '/frota')).json().medidores_vistos, 20);

  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, 'the primary exits 0 once its workers stopped');
  t.equal(server.logs().split('"stopped"').length - 1, 2, 'each worker stopped gracefully');
});
