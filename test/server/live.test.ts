/**
 * Live events and the fleet view over a real server: readings sent over
 * UDP arrive as Server-Sent Events; a client that stops reading is dropped
 * without slowing ingest; the fleet summary counts meters and silence.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import t from 'tap';
import { packLines } from '../../protocol/meter-protocol.js';
import { FleetTracker } from '../../app/fleet.js';
import { MAX_QUEUED_BYTES, Subscriber, SlowClientError } from '../../server/live/live-events.js';
import { WINDOW_READINGS } from '../../server/live/replay-windows.js';

const REPLAY_MAX = 1000;
import { startServer } from '../../server/app.js';
import { call, openEvents, readingLine, recentTimestamps, request, silentLogger, startTestServer, tempDir, testConfig, udpClient, type SseEvent } from '../helpers.js';

t.test('a stored reading reaches the meter\'s subscribers once, in order; the fleet summary arrives each second', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const meter = await udpClient(t, server.udp.port);
  const times = recentTimestamps(6);
  await meter.sendForAck(readingLine('4242', times[0] as string, '100'));
  const stream = await openEvents(port, '/eventos?matricula=4242');
  t.equal(stream.response.status, 200);
  t.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  t.equal(stream.response.headers.get('cache-control'), 'no-cache');
  const other = await openEvents(port, '/eventos?matricula=1');
  for (const [i, time] of times.entries()) await meter.sendForAck(readingLine('4242', time, String(100 + i * 2.5)));
  // Resent copies are not news.
  await meter.sendForAck(readingLine('4242', times[3] as string, '107.5'));
  await meter.sendForAck(readingLine('4242', times[5] as string, '112.5'));
  await stream.waitFor((events) => events.filter((e) => e.event === 'medicao').length >= 5 && events.some((e) => e.event === 'frota'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const readings = stream.events.filter((e) => e.event === 'medicao');
  t.same(
    readings.map((e) => JSON.parse(e.data)),
    times.slice(1).map((time, i) => ({ matricula: '4242', data_hora: time, consumo: 100 + (i + 1) * 2.5 })),
    'the readings after the one stored before subscribing, each once',
  );
  t.same(readings.map((e) => e.id), times.slice(1).map((time) => String(Date.parse(time))), 'id: the reading\'s timestamp');
  t.equal(stream.events[0]?.event, 'retry', 'first tells the browser how soon to reconnect');
  const fleet = JSON.parse((stream.events.find((e) => e.event === 'frota') as SseEvent).data);
  t.equal(fleet.medidores_vistos, 1);
  t.equal(fleet.silencio_apos_s, 45, 'silent after 3 send intervals of 15 s by default');
  t.equal(other.events.filter((e) => e.event === 'medicao').length, 0, 'another meter\'s subscriber hears nothing of it');
  const metrics = (await call(port, 'GET', '/metricas')).body as unknown as string;
  t.match(metrics, /\nconsumo_sse_clientes 2\n/);
  stream.close();
  other.close();
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && !/\nconsumo_sse_clientes 0\n/.test((await call(port, 'GET', '/metricas')).body as unknown as string)) await new Promise((r) => setTimeout(r, 50));
  t.match((await call(port, 'GET', '/metricas')).body, /\nconsumo_sse_clientes 0\n/, 'clients that left are cleaned up');
});

t.test('a client that stops reading is dropped once its queue fills; ingest and other clients go on', async (t) => {
  // Readings 1 ms apart: a flood of events is under test, not the interval rule.
  const server = await startTestServer(t, { env: { UDP_BUFFER_RECEPCAO: '8388608', MEDICAO_INTERVALO_MINIMO_MS: '0' } });
  const port = server.http.port;
  const stalled = connect(port, '127.0.0.1');
  stalled.on('error', () => undefined);
  stalled.write(request('GET', '/eventos?matricula=77'));
  await new Promise<void>((resolve) => stalled.once('data', () => resolve()));
  stalled.pause();
  const reader = await openEvents(port, '/eventos?matricula=77');
  // 100,000 readings of one meter (~11 MB of events) at ~25,000/s: more than the stalled client's socket buffers and queue hold.
  const total = 100_000;
  const start = Date.now() - 10 * 60_000;
  const lines = Array.from({ length: total }, (_, i) => readingLine('77', new Date(start + i).toISOString(), String(i)));
  const sender = createSocket('udp4');
  t.teardown(() => sender.close());
  const datagrams = packLines(lines);
  for (let i = 0; i < datagrams.length; i += 50) {
    for (const datagram of datagrams.slice(i, i + 50)) sender.send(datagram, server.udp.port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  const deadline = Date.now() + 30_000;
  while ((await server.stores.store.stats()).readings < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal((await server.stores.store.stats()).readings, total, 'every reading stored');
  await reader.waitFor((events) => events.filter((e) => e.event === 'medicao').length === total, 30_000);
  t.pass('the client that reads got every reading');
  const metrics = (await call(port, 'GET', '/metricas')).body as unknown as string;
  t.match(metrics, /\nconsumo_sse_clientes_descartados_total 1\n/, 'the stalled client was dropped');
  t.match(metrics, /\nconsumo_sse_clientes 1\n/);
  reader.close();
  stalled.destroy();
});

t.test('a subscriber\'s queue is bounded: past it the stream ends with SlowClientError', async (t) => {
  const subscriber = new Subscriber('1', 0, undefined);
  const event = `${'x'.repeat(1022)}\n\n`;
  for (let i = 0; i < MAX_QUEUED_BYTES / event.length; i++) t.equal(subscriber.push(event), true);
  t.equal(subscriber.push('\n\n'), false, 'one byte too many');
  const controller = new AbortController();
  await t.rejects(async () => {
    for await (const piece of subscriber.stream(controller.signal)) void piece;
  }, SlowClientError);
  const idle = new Subscriber('1', 0, undefined);
  const pieces: string[] = [];
  const done = (async () => {
    for await (const piece of idle.stream(controller.signal)) pieces.push(piece);
  })();
  idle.push('a\n\n');
  idle.push('b\n\n');
  await new Promise((resolve) => setTimeout(resolve, 10));
  controller.abort();
  await done;
  t.same(pieces.join(''), 'a\n\nb\n\n', 'what was queued, then the end when aborted');
});

/** Tells the tracker `count` readings of these meters (in turn) were stored now. */
function hear(fleet: FleetTracker, matriculas: readonly string[], count: number): void {
  const readings = Array.from({ length: count }, (_, i) => ({ matricula: matriculas[i % matriculas.length] as string, timestamp: fleet.now() * 1000 + i, consumo: BigInt(i) }));
  fleet.heard(readings, readings.map(() => 'stored' as const), readings.map(() => 0));
}

t.test('fleet: meters heard, silence past the threshold (longest first), readings per second over whole seconds', async (t) => {
  let now = 1000;
  const fleet = new FleetTracker(() => now);
  hear(fleet, ['a', 'b'], 20);
  now = 1010;
  hear(fleet, ['c'], 5);
  now = 1030;
  hear(fleet, ['b'], 5);
  const summary = fleet.summary(15);
  t.equal(summary.medidores_vistos, 3);
  t.same(summary.silenciosos, [
    { matricula: 'a', silencio_s: 30 },
    { matricula: 'c', silencio_s: 20 },
  ]);
  t.equal(summary.medidores_silenciosos, 2);
  t.equal(summary.leituras_por_segundo, 0, 'nothing in the 10 whole seconds before now');
  now = 1031;
  t.equal(fleet.summary(15).leituras_por_segundo, 0.5, '5 readings in the last 10 whole seconds');
  const many = new FleetTracker(() => now);
  for (let i = 0; i < 200; i++) {
    now = 2000 + i;
    hear(many, [`m${i}`], 1);
  }
  now = 3000;
  const listed = many.summary(0).silenciosos;
  t.equal(listed.length, 50);
  t.same(listed.map((m) => m.matricula), Array.from({ length: 50 }, (_, i) => `m${i}`), 'the 50 silent longest');
});

t.test('fleet summary computed once a second, whatever thresholds clients ask (it walked every meter per distinct intervalo_s)', async (t) => {
  let now = 5000;
  const fleet = new FleetTracker(() => now);
  for (let i = 0; i < 1000; i++) {
    now = 5000 + (i % 100);
    hear(fleet, [`m${i}`], 1);
  }
  now = 5200;
  const before = fleet.builds;
  for (let threshold = 1; threshold <= 300; threshold++) {
    const summary = fleet.summary(threshold);
    // Meters last heard at 5000 + k (k = i % 100, 10 each) are silent when 200 - k > threshold.
    const expected = 10 * Array.from({ length: 100 }, (_, k) => k).filter((k) => 200 - k > threshold).length;
    if (summary.medidores_silenciosos !== expected) t.fail(`threshold ${threshold}: ${summary.medidores_silenciosos} silent, expected ${expected}`);
  }
  t.equal(fleet.builds - before, 1, 'one walk over the meters for 300 thresholds in one second');
  now = 5201;
  fleet.summary(5);
  t.equal(fleet.builds - before, 2, 'the next second, a fresh one');
});

t.test('/frota answers the summary; with tokens required the fleet needs the operator token', async (t) => {
  const open = await startTestServer(t);
  const meter = await udpClient(t, open.udp.port);
  await meter.sendForAck(readingLine('9', (recentTimestamps(1)[0] as string), '1'));
  const answer = await call(open.http.port, 'GET', '/frota?intervalo_s=1&intervalos=2');
  t.equal(answer.status, 200);
  t.equal(JSON.parse(answer.body).medidores_vistos, 1);
  t.equal(JSON.parse(answer.body).silencio_apos_s, 2);
  const closed = await startTestServer(t, { env: { AUTENTICACAO_API: 'obrigatoria', API_SEGREDO: 'ab'.repeat(32), API_TOKEN_ADMIN: 'operador-secreto-0123456789abcdefghijkl' } });
  t.equal((await call(closed.http.port, 'GET', '/frota')).status, 401);
  t.equal((await call(closed.http.port, 'GET', '/eventos')).status, 401);
  t.equal((await call(closed.http.port, 'GET', '/frota?access_token=operador-secreto-0123456789abcdefghijkl')).status, 200);
  t.equal((await call(closed.http.port, 'GET', '/eventos?matricula=9')).status, 401);
});

t.test('a reconnect with Last-Event-ID replays the readings missed, each once, in order; then live ones', async (t) => {
  const server = await startTestServer(t, { env: { MEDICAO_INTERVALO_MINIMO_MS: '0' } });
  const port = server.http.port;
  const meter = await udpClient(t, server.udp.port);
  const times = recentTimestamps(7);
  const line = (i: number) => readingLine('4343', times[i] as string, String(100 + i));
  await meter.sendForAck(line(0));
  const first = await openEvents(port, '/eventos?matricula=4343');
  await meter.sendForAck(line(1));
  await meter.sendForAck(line(2));
  await first.waitFor((events) => events.filter((e) => e.event === 'medicao').length === 2);
  const lastId = first.events.filter((e) => e.event === 'medicao').at(-1)?.id as string;
  t.equal(lastId, String(Date.parse(times[2] as string)));
  first.close();
  // Missed while disconnected.
  await meter.sendForAck([line(3), line(4)].join('\n'));
  const again = await openEvents(port, '/eventos?matricula=4343', { 'Last-Event-ID': lastId });
  await again.waitFor((events) => events.filter((e) => e.event === 'medicao').length === 2);
  await meter.sendForAck(line(5));
  await again.waitFor((events) => events.filter((e) => e.event === 'medicao').length === 3);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(
    again.events.filter((e) => e.event === 'medicao').map((e) => JSON.parse(e.data).consumo),
    [103, 104, 105],
    'the two missed readings, then the live one: nothing lost, nothing twice',
  );
  again.close();

  const byQuery = await openEvents(port, `/eventos?matricula=4343&ultimo_id=${Date.parse(times[4] as string)}`);
  await byQuery.waitFor((events) => events.some((e) => e.event === 'medicao'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(byQuery.events.filter((e) => e.event === 'medicao').map((e) => JSON.parse(e.data).consumo), [105], 'ultimo_id does the same for a new stream');
  byQuery.close();

  const garbage = await openEvents(port, '/eventos?matricula=4343', { 'Last-Event-ID': 'not-ours' });
  await meter.sendForAck(line(6));
  await garbage.waitFor((events) => events.some((e) => e.event === 'medicao'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(garbage.events.filter((e) => e.event === 'medicao').map((e) => JSON.parse(e.data).consumo), [106], 'an id we never sent is ignored: live readings only');
  garbage.close();
  const bad = await call(port, 'GET', '/eventos?matricula=4343&ultimo_id=abc');
  t.equal(bad.status, 422);
  t.equal(bad.json().erro.codigo, 'dados_invalidos');
});

t.test('a reconnect whose missed readings are not in memory (nobody watched the meter) is told to reload, and goes on live', async (t) => {
  const server = await startTestServer(t, { env: { MEDICAO_INTERVALO_MINIMO_MS: '0' } });
  const port = server.http.port;
  const meter = await udpClient(t, server.udp.port);
  const start = Date.now() - 3_600_000;
  const at = (i: number) => new Date(start + i * 1000).toISOString();
  await meter.sendForAck(readingLine('4444', at(0), '0'));
  for (let i = 1; i <= REPLAY_MAX + 5; i += 20) {
    const lines = [];
    for (let j = i; j < i + 20 && j <= REPLAY_MAX + 5; j++) lines.push(readingLine('4444', at(j), String(j)));
    await meter.sendForAck(lines.join('\n'));
  }
  const stream = await openEvents(port, '/eventos?matricula=4444', { 'Last-Event-ID': String(Date.parse(at(0))) });
  await stream.waitFor((events) => events.some((e) => e.event === 'recarregar'));
  await meter.sendForAck(readingLine('4444', at(REPLAY_MAX + 6), String(REPLAY_MAX + 6)));
  await stream.waitFor((events) => events.some((e) => e.event === 'medicao'));
  t.same(stream.events.filter((e) => e.event === 'medicao').map((e) => JSON.parse(e.data).consumo), [REPLAY_MAX + 6], 'no flood of old readings; the next live one arrives');
  t.equal(stream.events.find((e) => e.event === 'recarregar')?.id, String(Date.parse(at(REPLAY_MAX + 5))), 'its id: the newest stored, where a later reconnect resumes');
  stream.close();
});

t.test(`replays come from memory (regression, issue 26: each cost a store scan of 150-300 ms): a client that missed more than the ${WINDOW_READINGS} readings kept is told to reload`, async (t) => {
  const server = await startTestServer(t, { env: { MEDICAO_INTERVALO_MINIMO_MS: '0' } });
  const port = server.http.port;
  const meter = await udpClient(t, server.udp.port);
  const start = Date.now() - 3_600_000;
  const at = (i: number) => new Date(start + i * 1000).toISOString();
  await meter.sendForAck(readingLine('4545', at(0), '0'));
  const watching = await openEvents(port, '/eventos?matricula=4545');
  await meter.sendForAck(readingLine('4545', at(1), '1'));
  await watching.waitFor((events) => events.some((e) => e.event === 'medicao'));
  const lastId = watching.events.filter((e) => e.event === 'medicao').at(-1)?.id as string;
  watching.close();
  const missed = WINDOW_READINGS + 10;
  for (let i = 2; i < 2 + missed; i += 20) await meter.sendForAck(Array.from({ length: Math.min(20, 2 + missed - i) }, (_, k) => readingLine('4545', at(i + k), String(i + k))).join('\n'));
  const again = await openEvents(port, '/eventos?matricula=4545', { 'Last-Event-ID': lastId });
  await again.waitFor((events) => events.some((e) => e.event === 'recarregar'));
  t.equal(again.events.filter((e) => e.event === 'medicao').length, 0, 'no partial replay');
  t.equal(again.events.find((e) => e.event === 'recarregar')?.id, String(Date.parse(at(1 + missed))), 'from the newest stored on');
  again.close();
  const recent = await openEvents(port, '/eventos?matricula=4545', { 'Last-Event-ID': String(Date.parse(at(missed - 2))) });
  await recent.waitFor((events) => events.filter((e) => e.event === 'medicao').length === 3);
  t.same(recent.events.filter((e) => e.event === 'medicao').map((e) => JSON.parse(e.data).consumo), [missed - 1, missed, missed + 1], 'what the window still holds is replayed');
  recent.close();
});

t.test('the fleet table survives a restart: meters, customers, alerts and silence come from the store', async (t) => {
  const dataDir = await tempDir(t);
  const first = await startServer(testConfig(dataDir), silentLogger);
  const meter = await udpClient(t, first.udp.port);
  const times = recentTimestamps(5, 10);
  const registers = [100, 110, 120, 130, 160];
  await meter.sendForAck(times.map((time, i) => readingLine('13456789', time, String(registers[i]))).join('\n'));
  await meter.sendForAck(times.map((time, i) => readingLine('5550001', time, String(i * 10))).join('\n'));
  await meter.sendForAck(readingLine('5550002', times[4] as string, '7'));
  const before = (await call(first.http.port, 'GET', '/frota/medidores?ordenar=alerta&ordem=desc')).json();
  await first.close();

  const server = await startTestServer(t, { dataDir });
  const after = await call(server.http.port, 'GET', '/frota/medidores?ordenar=alerta&ordem=desc&intervalo_s=1&intervalos=1');
  t.equal(after.status, 200);
  const body = after.json();
  t.same(
    body.medidores.map((m: { matricula: string; cliente: string | null; alerta: boolean | null; silencioso: boolean; ultima_leitura: { consumo: number } }) => [m.matricula, m.cliente, m.alerta, m.silencioso, m.ultima_leitura.consumo]),
    [
      ['13456789', 'amancio123', true, true, 160],
      ['5550001', null, false, true, 40],
      ['5550002', null, null, true, 7],
    ],
    'in alert first; the customer named; silent since the readings were taken (10 minutes ago)',
  );
  t.same([body.total, body.em_alerta, body.silenciosos], [3, 1, 3]);
  t.same(
    before.medidores.map((m: { matricula: string; alerta: boolean | null }) => [m.matricula, m.alerta]),
    body.medidores.map((m: { matricula: string; alerta: boolean | null }) => [m.matricula, m.alerta]),
    'the same meters and alerts as before the restart',
  );
  const summary = (await call(server.http.port, 'GET', '/frota?intervalo_s=1&intervalos=1')).json();
  t.equal(summary.medidores_vistos, 3, 'the summary counts the meters the store knows');
  t.equal(summary.medidores_silenciosos, 3, 'and they are silent, restart or not');
  const page = (await call(server.http.port, 'GET', '/frota/medidores?limite=2&ordenar=matricula')).json();
  t.same(page.medidores.map((m: { matricula: string }) => m.matricula), ['13456789', '5550001']);
  t.equal(page.proxima, '/frota/medidores?limite=2&ordenar=matricula&pagina=2');
  const bad = await call(server.http.port, 'GET', '/frota/medidores?ordenar=consumo');
  t.equal(bad.status, 422);

  const closed = await startTestServer(t, { env: { AUTENTICACAO_API: 'obrigatoria' } });
  t.equal((await call(closed.http.port, 'GET', '/frota/medidores')).status, 401, 'closed to anyone without the operator token when tokens are required');
});
