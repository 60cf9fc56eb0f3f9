/**
 * `GET /medicoes` (pages and CSV streaming) and `GET /consumo` over a real
 * server: real sockets, a real store in a temp dir, Node's own HTTP client.
 */
import { CSV_HEADER } from '../../server/routes/medicoes.js';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import type { Reading } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { exchange, request, startTestServer } from '../helpers.js';

const MINUTE = 60_000;
const BASE = Date.UTC(2026, 10, 20, 3); // 2026-11-20 00:00 in São Paulo (the test servers' TZ_LEGADO)

async function getJson(port: number, target: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}${target}`);
  return { status: response.status, body: await response.json() };
}

t.test('/medicoes pages newest first; following `proxima` walks the whole range exactly once', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const mine = Array.from({ length: 250 }, (_, i): Reading => ({ matricula: '555', timestamp: BASE + i * MINUTE, consumo: BigInt(i) * 1500n }));
  await server.stores.store.append([...mine, { matricula: '556', timestamp: BASE, consumo: 1n }]);
  const seen: string[] = [];
  let target: string | null = '/medicoes?matricula=555';
  let pages = 0;
  while (target !== null) {
    const { status, body } = await getJson(port, target);
    t.equal(status, 200);
    seen.push(...body.medicoes.map((m: { data_hora: string; consumo: number }) => `${m.data_hora}=${m.consumo}`));
    target = body.proxima;
    pages++;
  }
  t.equal(pages, 3, '100 + 100 + 50');
  t.same(seen, [...mine].reverse().map((r) => `${formatIsoTimestamp(r.timestamp)}=${Number(r.consumo) / 1000}`));

  const ranged = await getJson(port, '/medicoes?matricula=555&inicio=2026-11-20T01:00&fim=2026-11-20T01:05&limite=3');
  t.same(ranged.body.medicoes.map((m: { data_hora: string }) => m.data_hora), ['2026-11-20T04:04:00.000Z', '2026-11-20T04:03:00.000Z', '2026-11-20T04:02:00.000Z'], 'wall clock in São Paulo, end exclusive');
  t.equal(ranged.body.inicio, '2026-11-20T04:00:00.000Z');
  t.equal(ranged.body.limite, 3);
  const rest = await getJson(port, ranged.body.proxima);
  t.same(rest.body.medicoes.map((m: { data_hora: string }) => m.data_hora), ['2026-11-20T04:01:00.000Z', '2026-11-20T04:00:00.000Z']);
  t.equal(rest.body.proxima, null);
  const utc = await getJson(port, '/medicoes?matricula=555&inicio=2026-11-20T04:00:00Z&fim=2026-11-20T04:01:00Z');
  t.same(utc.body.medicoes.map((m: { data_hora: string }) => m.data_hora), ['2026-11-20T04:00:00.000Z']);
  const otherZone = await getJson(port, '/medicoes?matricula=555&inicio=2026-11-20T04:00&fim=2026-11-20T04:01&fuso=UTC');
  t.same(otherZone.body.medicoes.map((m: { data_hora: string }) => m.data_hora), ['2026-11-20T04:00:00.000Z']);
  t.same((await getJson(port, '/medicoes?matricula=999')).body.medicoes, [], 'an unknown meter has an empty history');

  for (const [query, campo] of [
    ['matricula=555&inicio=ontem', 'inicio'],
    ['matricula=555&fim=2026-02-30', 'fim'],
    ['matricula=555&limite=1001', 'limite'],
    ['matricula=555&limite=0', 'limite'],
    ['matricula=555&formato=xml', 'formato'],
    ['matricula=555&fuso=Marte/Olympus', 'fuso'],
    ['inicio=2026-11-20', 'matricula'],
  ] as const) {
    const answer = await getJson(port, `/medicoes?${query}`);
    t.equal(answer.status, 422, query);
    t.equal(answer.body.erro.codigo, 'dados_invalidos');
    t.equal(answer.body.erro.detalhes[0].campo, campo, query);
  }
  const post = await fetch(`http://127.0.0.1:${port}/medicoes`, { method: 'POST', body: '{"matricula":"555"}' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD, OPTIONS');
});

t.test('/medicoes as CSV: chunked, a download name, the whole range; by formato or by Accept', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const mine = Array.from({ length: 3000 }, (_, i): Reading => ({ matricula: '42', timestamp: BASE + i * MINUTE, consumo: 1_000_000n + BigInt(i) * 7n }));
  await server.stores.store.append(mine);
  const expected = `data_hora,matricula,consumo,tensao_v,corrente_a,potencia_kw,fator_potencia,frequencia_hz,qualidade\r\n${[...mine]
    .reverse()
    .map((r) => `${formatIsoTimestamp(r.timestamp)},42,${(Number(r.consumo) / 1000).toFixed(3).replace(/\.?0+$/, '')},,,,,,valida\r\n`)
    .join('')}`;
  for (const [target, headers] of [
    ['/medicoes?matricula=42&formato=csv', {}],
    ['/medicoes?matricula=42', { Accept: 'text/html;q=0.9, text/csv' }],
  ] as const) {
    const response = await fetch(`http://127.0.0.1:${port}${target}`, { headers });
    t.equal(response.status, 200);
    t.equal(response.headers.get('content-type'), 'text/csv; charset=utf-8');
    t.equal(response.headers.get('content-disposition'), 'attachment; filename="medicoes-42.csv"');
    t.equal(response.headers.get('transfer-encoding'), 'chunked');
    t.equal(response.headers.get('content-length'), null);
    t.equal(await response.text(), expected);
  }
  const refused = await fetch(`http://127.0.0.1:${port}/medicoes?matricula=42`, { headers: { Accept: 'text/csv;q=0, application/json' } });
  t.equal(refused.headers.get('content-type'), 'application/json; charset=utf-8', 'q=0 refuses CSV');
  const limited = await (await fetch(`http://127.0.0.1:${port}/medicoes?matricula=42&formato=csv&limite=2`)).text();
  t.equal(limited, expected.split('\r\n').slice(0, 3).join('\r\n') + '\r\n', 'limite caps the rows');

  // HEAD: the same head, no body; the connection stays usable.
  const head = await exchange(port, [request('HEAD', '/medicoes?matricula=42&formato=csv'), request('GET', '/saude')], { count: 2, headOnly: [true, false] });
  t.equal(head.responses[0]?.headers.get('transfer-encoding'), 'chunked');
  t.equal(head.responses[0]?.body, '');
  t.equal(head.responses[1]?.status, 200, 'the next answer follows the bodiless head');

  // Pipelined behind a stream: answers come in request order, the stream whole first.
  const pipelined = await exchange(port, [request('GET', '/medicoes?matricula=42&formato=csv') + request('GET', '/saude')], { timeoutMs: 1500 });
  const raw = pipelined.raw.toString('latin1');
  const end = raw.indexOf('\r\n0\r\n\r\n');
  t.ok(end > 0, 'the chunked body ends with the last chunk');
  t.match(raw.slice(end + 7), /^HTTP\/1\.1 200 OK\r\n[\s\S]*"status":"ok"/, 'then the next answer');

  // HTTP/1.0 has no chunked coding: the body runs to the close.
  const old = await exchange(port, ['GET /medicoes?matricula=42&formato=csv HTTP/1.0\r\n\r\n'], { waitForClose: true, timeoutMs: 5000 });
  const oldText = old.raw.toString('latin1');
  t.ok(old.closed);
  t.match(oldText, /^HTTP\/1\.1 200 OK\r\n/);
  t.notMatch(oldText, /Transfer-Encoding/i);
  t.match(oldText, /Connection: close/);
  t.equal(oldText.slice(oldText.indexOf('\r\n\r\n') + 4), expected);
});

t.test('a half-million-row CSV streams with flat memory, waits for a client that stops reading, and stops for one that leaves', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  // ~23 MiB of CSV: twice the memory bound below and more than loopback's socket buffers hold (6-9 MB measured).
  const rows = 500_000;
  for (let i = 0; i < rows; i += 100_000) {
    await server.stores.store.append(Array.from({ length: 100_000 }, (_, j): Reading => ({ matricula: '7', timestamp: BASE + (i + j) * 1000, consumo: BigInt(i + j) })));
  }
  // Retained memory after a full collection: what the server holds, not garbage not yet collected.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const memory = (): number => {
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.external;
  };
  const before = memory();
  const socket = connect(port, '127.0.0.1');
  let received = 0;
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    // Keep only the tail, to find the end: the client holds nothing either.
    text = (text + chunk.toString('latin1')).slice(-64);
  });
  socket.write(request('GET', '/medicoes?matricula=7&formato=csv'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  socket.pause();
  await new Promise((resolve) => setTimeout(resolve, 700));
  const whilePaused = received;
  const grown = memory() - before;
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(received, whilePaused, 'nothing arrives while the client does not read');
  t.ok(whilePaused < 16 * 1024 * 1024, `a paused client got only what the socket buffers hold (${whilePaused} bytes of ~23 MB)`);
  t.ok(grown < 12 * 1024 * 1024, `memory grew ${(grown / 1048576).toFixed(1)} MiB while streaming (the CSV is ~23 MiB)`);
  socket.resume();
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (text.endsWith('\r\n0\r\n\r\n')) resolve();
      else setTimeout(check, 50);
    };
    check();
  });
  const expectedBytes = CSV_HEADER.length + rows * '2026-11-20T03:00:00.000Z,7,0.001,,,,,,valida\r\n'.length;
  t.ok(received > expectedBytes, `the whole CSV arrived (${received} bytes with chunk framing, ${expectedBytes} of rows at least)`);
  t.ok(text.includes('2026-11-20T03:00:00.000Z,7,0,,,,,,valida\r\n'), 'the oldest row last');

  // A client that leaves mid-stream: its connection is cleaned up.
  const leaving = connect(port, '127.0.0.1');
  leaving.write(request('GET', '/medicoes?matricula=7&formato=csv'));
  await new Promise<void>((resolve) => leaving.once('data', () => resolve()));
  leaving.destroy();
  const deadline = Date.now() + 5000;
  while (server.httpConnections() > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(server.httpConnections(), 1, 'only the finished keep-alive connection remains');
  socket.destroy();
});

t.test('/consumo: per hour, day or month in a zone; gaps are gaps; the first period after a gap is not complete', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const hour = 60 * MINUTE;
  // Readings every 15 minutes from 00:00 to 05:45 local, except hour 02 (a gap); the register grows 1.000 per reading.
  const readings: Reading[] = [];
  let register = 0n;
  for (let q = 0; q < 24; q++) {
    register += 1000n;
    if (Math.floor(q / 4) !== 2) readings.push({ matricula: '31', timestamp: BASE + q * 15 * MINUTE, consumo: register });
  }
  await server.stores.store.append(readings);
  const { status, body } = await getJson(port, '/consumo?matricula=31&inicio=2026-11-20T00:00&fim=2026-11-20T06:00&agrupar=hora');
  t.equal(status, 200);
  t.equal(body.fuso, 'America/Sao_Paulo');
  t.equal(body.inicio, formatIsoTimestamp(BASE));
  t.equal(body.fim, formatIsoTimestamp(BASE + 6 * hour));
  t.same(
    body.periodos.map((p: { leituras: number; consumo: number | null; completo: boolean }) => [p.leituras, p.consumo, p.completo]),
    [
      [4, 3, false], // nothing before 00:00: only the differences inside the hour
      [4, 4, true],
      [0, null, false], // the gap
      [4, 3, false], // after the gap: what happened during the gap is not attributed
      [4, 4, true],
      [4, 4, true],
    ],
  );
  t.equal(body.lacunas, 1);
  t.equal(body.consumo_total, 18);
  t.equal(body.tarifa, 3, 'the tariff of the costs (TARIFA)');
  t.same(body.periodos.map((p: { valor: number | null }) => p.valor), [9, 12, null, 9, 12, 12], 'each period\'s cost, none for a gap');
  t.equal(body.valor_total, 54);
  const byDay = await getJson(port, '/consumo?matricula=31&inicio=2026-11-19&fim=2026-11-21&agrupar=dia');
  t.same(
    byDay.body.periodos.map((p: { inicio: string; leituras: number; consumo: number | null }) => [p.inicio, p.leituras, p.consumo]),
    [
      ['2026-11-19T03:00:00.000Z', 0, null],
      ['2026-11-20T03:00:00.000Z', 20, 23],
    ],
  );
  // Hours of a zone half an hour off UTC are not whole UTC hours: read from the readings, not the hourly rollups.
  const kolkata = await getJson(port, '/consumo?matricula=31&inicio=2026-11-20T09:00&fim=2026-11-20T11:00&agrupar=hora&fuso=Asia/Kolkata');
  t.same(
    kolkata.body.periodos.map((p: { inicio: string; leituras: number; consumo: number | null; completo: boolean }) => [p.inicio, p.leituras, p.consumo, p.completo]),
    [
      ['2026-11-20T03:30:00.000Z', 4, 4, true], // 03:30-04:15 UTC, from 03:15's register
      ['2026-11-20T04:30:00.000Z', 2, 2, true], // 04:30 and 04:45; 05:00-05:45 is the gap
    ],
  );
  const byMonthUtc = await getJson(port, '/consumo?matricula=31&inicio=2026-11-01&fim=2026-12-01&agrupar=mes&fuso=UTC');
  t.same(byMonthUtc.body.periodos.map((p: { inicio: string; fim: string }) => [p.inicio, p.fim]), [['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']]);
  t.equal((await getJson(port, '/consumo?matricula=31&agrupar=semana')).body.erro.detalhes[0].campo, 'agrupar');
  t.equal((await getJson(port, '/consumo?matricula=31&inicio=2026-11-20&fim=2026-11-19')).body.erro.detalhes[0].campo, 'fim');
  const tooMany = await getJson(port, '/consumo?matricula=31&inicio=2000-01-01&fim=2026-01-01&agrupar=hora');
  t.equal(tooMany.status, 422);
  t.equal(tooMany.body.erro.detalhes[0].campo, 'inicio');
  const none = await getJson(port, '/consumo?matricula=32&agrupar=dia');
  t.equal(none.body.periodos.length >= 30, true, 'the last 30 days by default');
  t.ok(none.body.periodos.every((p: { consumo: null }) => p.consumo === null), 'a meter without readings: all gaps');
});
