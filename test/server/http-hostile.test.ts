/**
 * Clients that do not read, over real sockets: each attack that once
 * exhausted memory or held requests, as a regression test named after it.
 */
import { connect, type Socket } from 'node:net';
import t from 'tap';
import type { Reading } from '../../database/store.js';
import { HttpServer } from '../../server/http/http-server.js';
import { MAX_HEAVY_PER_SOURCE, Responder } from '../../server/http/responder.js';
import { Router } from '../../server/http/router.js';
import { call, parseResponses, request, silentLogger, startTestServer, until, type RawResponse } from '../helpers.js';

const READINGS = 2000;

async function serverWithHistory(t: Parameters<typeof startTestServer>[0], env: Record<string, string> = {}) {
  const server = await startTestServer(t, { env: { MEDICAO_INTERVALO_MINIMO_MS: '0', ...env } });
  // Readings every 4 hours through 2026 (2,000 of them), then the rest of the history a minute apart up to now.
  const start = Date.UTC(2026, 0, 1);
  await server.stores.store.append(Array.from({ length: READINGS }, (_, i): Reading => ({ matricula: '13456789', timestamp: Math.min(start + i * 4 * 3_600_000, Date.now() - (READINGS - i) * 60_000), consumo: BigInt(i * 1000) })));
  return server;
}

function openSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const answered = async (port: number, route: string): Promise<number> => {
  const metrics = (await call(port, 'GET', '/metricas')).body;
  const pattern = new RegExp(`consumo_http_requisicoes_total\\{rota="${route}",status="200"\\} (\\d+)`);
  return Number(pattern.exec(metrics)?.[1] ?? 0);
};

const gauge = async (port: number, name: string): Promise<number> => Number(new RegExp(`\n${name} (\\d+)`).exec((await call(port, 'GET', '/metricas')).body)?.[1] ?? NaN);

t.test('non-reading pipelined clients: heavy requests run one at a time, only while the client reads; memory held stays bounded; others are served', async (t) => {
  const server = await serverWithHistory(t);
  const port = server.http.port;
  // A year of hours: ~1 MB of JSON an answer, 32 of them asked by each client.
  const heavy = request('GET', '/consumo?matricula=13456789&agrupar=hora&inicio=2026-01-01&fim=2026-12-31&fuso=UTC');
  const first = await call(port, 'GET', '/consumo?matricula=13456789&agrupar=hora&inicio=2026-01-01&fim=2026-12-31&fuso=UTC');
  const answerBytes = Buffer.byteLength(first.body);
  t.ok(answerBytes > 500_000, `a heavy answer is ${answerBytes} bytes`);
  const sockets: Socket[] = [];
  const CLIENTS = 10;
  for (let i = 0; i < CLIENTS; i++) {
    // Two addresses: the per-address limit on heavy work (4 at once) is not what is under test here.
    const socket = await openSocket(port, `127.0.0.${2 + (i % 5)}`);
    socket.on('error', () => undefined);
    socket.pause();
    socket.write(heavy.repeat(32));
    sockets.push(socket);
  }
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  await new Promise((resolve) => setTimeout(resolve, 4000));
  t.equal((await call(port, 'GET', '/saude')).status, 200, 'another client is answered');
  const held = await gauge(port, 'consumo_http_bytes_aguardando_clientes');
  const bound = CLIENTS * (256 * 1024 + 2 * answerBytes);
  t.ok(held <= bound, `${(held / 2 ** 20).toFixed(1)} MiB held for ${CLIENTS} clients that read nothing (bound ${(bound / 2 ** 20).toFixed(1)} MiB; unbounded it would be ${((CLIENTS * 32 * answerBytes) / 2 ** 20).toFixed(0)} MiB)`);
  const made = await answered(port, '/consumo');
  t.ok(made < CLIENTS * 32, `${made} of ${CLIENTS * 32} heavy answers made: the rest wait for their clients to read`);
  // Once a client reads, its remaining requests are answered, in order.
  const reader = sockets[0] as Socket;
  let bytes = 0;
  reader.on('data', (chunk: Buffer) => (bytes += chunk.length));
  reader.resume();
  const deadline = Date.now() + 30_000;
  while (bytes < 32 * answerBytes && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(bytes >= 32 * answerBytes, `the client that started reading got all 32 answers (${bytes} bytes)`);
});

t.test('percent-encoded path of a heavy route: still run one at a time for a client that does not read (traits once came from the raw path)', async (t) => {
  const server = await serverWithHistory(t);
  const port = server.http.port;
  // `/%63onsumo` is `/consumo`: the route is found on the decoded path, and so must its traits be.
  const heavy = request('GET', '/%63onsumo?matricula=13456789&agrupar=hora&inicio=2026-01-01&fim=2026-12-31&fuso=UTC');
  const socket = await openSocket(port);
  socket.on('error', () => undefined);
  t.teardown(() => socket.destroy());
  socket.pause();
  socket.write(heavy.repeat(8));
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const metrics = (await call(port, 'GET', '/metricas')).body;
  const count = (status: number): number => Number(new RegExp(`consumo_http_requisicoes_total\\{rota="/consumo",status="${status}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  t.equal(count(429), 0, 'none refused: they were never run at once (raw-path traits let all 8 in, and the 5th to 8th got 429)');
  t.ok(count(200) >= 1 && count(200) < 8, `${count(200)} of 8 answered while the client reads nothing (what the kernel's socket buffers took): the rest wait for the client`);
  let bytes = '';
  socket.on('data', (chunk: Buffer) => (bytes += chunk.toString('latin1')));
  socket.resume();
  const answers = (): number => (bytes.match(/HTTP\/1\.1 200 /g) ?? []).length;
  await until(async () => `8 answers (got ${answers()})`, async () => (answers() === 8 ? true : undefined), 30_000);
  t.pass('all 8 answered, in turn, once the client reads');
});

t.test('more than 4 heavy requests at once from one address get 429 muitas_requisicoes; another address is not refused', async (t) => {
  // A heavy route that holds each request until released: how many run at once is then exact.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const router = new Router([{ path: '/pesada', handlers: { GET: async () => (await gate, { status: 200, body: { ok: true } }) }, traits: { heavy: true } }]);
  const http = new HttpServer({ responder: new Responder({ router, logger: silentLogger, corsOrigins: [] }), logger: silentLogger });
  const { port } = await http.listen(0, '127.0.0.1');
  t.teardown(() => http.close());
  const ask = async (localAddress: string): Promise<RawResponse> => {
    const socket = await openSocket(port, localAddress);
    t.teardown(() => socket.destroy());
    return new Promise<RawResponse>((resolve) => {
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const [response] = parseResponses(received).responses;
        if (response !== undefined) resolve(response);
      });
      socket.write(request('GET', '/pesada'));
    });
  };
  const waiting = Array.from({ length: MAX_HEAVY_PER_SOURCE }, () => ask('127.0.0.1'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const refused = await ask('127.0.0.1');
  t.same([refused.status, refused.json().erro.codigo, refused.headers.get('retry-after')], [429, 'muitas_requisicoes', '1']);
  const other = ask('127.0.0.2');
  release();
  t.same((await Promise.all([...waiting, other])).map((answer) => answer.status), [200, 200, 200, 200, 200], 'the four running and another address are served');
});

t.test('a client that reads nothing for HTTP_TEMPO_ESCRITA_MS is closed, a stalled CSV download included', async (t) => {
  const server = await startTestServer(t, { env: { HTTP_TEMPO_ESCRITA_MS: '1500', MEDICAO_INTERVALO_MINIMO_MS: '0' } });
  const port = server.http.port;
  // 300,000 readings: a CSV of ~13 MB, more than the kernel's socket buffers hold for a client that reads nothing.
  const start = Date.now() - 300_000 * 1000;
  for (let batch = 0; batch < 30; batch++) {
    await server.stores.store.append(Array.from({ length: 10_000 }, (_, i): Reading => ({ matricula: '13456789', timestamp: start + (batch * 10_000 + i) * 1000, consumo: BigInt(batch * 10_000 + i) })));
  }
  const sockets: Socket[] = [];
  for (const target of ['/medicoes?matricula=13456789&formato=csv', `/medicoes?matricula=13456789&formato=csv&inicio=2000-01-01`]) {
    const socket = await openSocket(port);
    socket.on('error', () => undefined);
    socket.pause();
    socket.write(request('GET', target));
    sockets.push(socket);
  }
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  const started = Date.now();
  // A paused client cannot see the close until it reads: watch the server's side.
  while (server.httpConnections() > 0 && Date.now() - started < 8000) await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(server.httpConnections(), 0, 'both stalled downloads were cut');
  // What the client finally reads is cut short: never the chunked body's end, so it cannot pass for complete.
  // Regression (issue 26): the cut was a FIN after 3.8 MB of unsent answer, held by the kernel in FIN-WAIT-1 for 40 s; a reset drops them at once.
  const { execFileSync } = await import('node:child_process');
  const lingering = execFileSync('ss', ['-tan', 'state', 'fin-wait-1', `( sport = :${port} )`], { encoding: 'utf8' }).split('\n').slice(1).filter((line) => line.trim() !== '');
  t.same(lingering, [], 'no socket of the server lingers in FIN-WAIT-1 holding unsent bytes (ss)');
  const reader = sockets[0] as Socket;
  let text = '';
  reader.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  reader.resume();
  await new Promise<void>((resolve) => reader.once('close', () => resolve()));
  t.notOk(text.endsWith('\r\n0\r\n\r\n'), 'the cut body is not ended as if complete');
});

t.test('a request after /eventos on the same connection is never dispatched', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const socket = await openSocket(port);
  t.teardown(() => socket.destroy());
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const body = JSON.stringify({ username: 'depois-do-fluxo', matricula: '424242' });
  socket.write(request('GET', '/eventos?matricula=13456789') + request('POST', '/clientes', { headers: { 'Content-Type': 'application/json' }, body }));
  await new Promise((resolve) => setTimeout(resolve, 800));
  t.match(received, /^HTTP\/1\.1 200 OK\r\n/);
  t.notMatch(received, /HTTP\/1\.1 201/, 'no answer to the request behind the stream');
  t.same(await server.stores.store.findCustomers({ matricula: '424242' }), [], 'and it was never run');
});

t.test('one address cannot take every connection slot (HTTP_MAX_CONEXOES_POR_ORIGEM)', async (t) => {
  const server = await startTestServer(t, { env: { HTTP_MAX_CONEXOES_POR_ORIGEM: '5' } });
  const port = server.http.port;
  const held = await Promise.all(Array.from({ length: 5 }, () => openSocket(port)));
  t.teardown(() => held.forEach((socket) => socket.destroy()));
  const sixth = await openSocket(port);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    sixth.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    sixth.on('close', () => resolve(text));
  });
  t.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  t.match(answer, /"servidor_ocupado"/);
  const other = await openSocket(port, '127.0.0.2');
  other.write(request('GET', '/saude'));
  const fromOther = await new Promise<string>((resolve) => other.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
  other.destroy();
  t.match(fromOther, /^HTTP\/1\.1 200 OK\r\n/, 'another address still gets in');
});

t.test('a refused /eventos closes its connection after the answer; HEAD of it leaves the connection open', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const { exchange } = await import('../helpers.js');
  const refused = await exchange(port, [request('GET', '/eventos?matricula=abc') + request('GET', '/saude')], { waitForClose: true });
  t.same(refused.responses.map((r) => r.status), [422], 'the request behind it is not answered');
  t.equal(refused.responses[0]?.headers.get('connection'), 'close');
  t.ok(refused.closed);
  const head = await exchange(port, [request('HEAD', '/eventos?matricula=13456789') + request('GET', '/saude')], { count: 2, headOnly: [true, false] });
  t.same(head.responses.map((r) => r.status), [200, 200]);
});

/** Resolves the whole text a socket receives, when the server closes it. */
const untilClosed = (socket: Socket): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });

t.test('idle connections from a few addresses, each under its own limit, took every slot (regression, issue 26): room is kept for small holders, and a silent connection is closed', async (t) => {
  const server = await startTestServer(t, { env: { HTTP_MAX_CONEXOES: '40', HTTP_MAX_CONEXOES_POR_ORIGEM: '30', HTTP_TEMPO_CABECALHOS_MS: '1500' } });
  const port = server.http.port;
  // Two addresses open connections and send nothing, as 12 addresses under the 1,000-per-address limit once did to 10,000 slots.
  const idle: Socket[] = [];
  t.teardown(() => idle.forEach((socket) => socket.destroy()));
  const refusedAnswers: Array<Promise<string>> = [];
  for (const address of ['127.0.0.2', '127.0.0.3']) {
    for (let i = 0; i < 30; i++) {
      const socket = await openSocket(port, address);
      idle.push(socket);
      refusedAnswers.push(untilClosed(socket));
    }
  }
  await until('the flood to be refused past the shared slots', async () => (server.httpConnections() <= 36 + 2 * 7 ? true : undefined));
  const real = await openSocket(port, '127.0.0.9');
  real.write(request('GET', '/saude'));
  const answer = await new Promise<string>((resolve) => real.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
  real.destroy();
  t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, 'a client of an address with no connections still gets in');
  // The silent ones are closed once their first request is overdue: 408 tempo_esgotado, then closed.
  const texts = await Promise.all(refusedAnswers);
  t.ok(texts.every((text) => /^HTTP\/1\.1 (408 Request Timeout|503 Service Unavailable)\r\n/.test(text)), 'each silent connection was refused (503) or timed out (408)');
  t.ok(texts.some((text) => text.includes('"tempo_esgotado"')), 'the ones let in were closed when their first request was overdue');
  t.ok(texts.some((text) => text.includes('"servidor_ocupado"')), 'and past the shared slots the big holders were refused');
  await until('every slot to be free again', async () => (server.httpConnections() === 0 ? true : undefined));
});

t.test('/eventos streams the client has closed lingered in CLOSE-WAIT and counted against its address (regression, issue 26): noticed at once', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const socket = await openSocket(port);
  const closed = untilClosed(socket);
  socket.write(request('GET', '/eventos?matricula=13456789'));
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.end();
  await until('the server to close the stream the client ended', async () => (server.httpConnections() === 0 ? true : undefined), 5000);
  t.match(await closed, /^HTTP\/1\.1 200 OK\r\n/);
});

t.test('a streamed answer over Connection: close ended without its last chunk (regression, issue 27): curl and a raw socket get a whole body', async (t) => {
  const server = await serverWithHistory(t);
  const port = server.http.port;
  const target = '/medicoes?matricula=13456789&formato=csv&limite=50';
  const socket = await openSocket(port);
  const text = untilClosed(socket);
  socket.write(request('GET', target, { headers: { Connection: 'close' } }));
  const raw = await text;
  t.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(raw, /\r\nTransfer-Encoding: chunked\r\n/);
  t.match(raw, /\r\nConnection: close\r\n/);
  t.ok(raw.endsWith('\r\n0\r\n\r\n'), 'the chunked body ends with its last chunk before the close');
  const { execFile } = await import('node:child_process');
  const curl = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile('curl', ['-s', '--http1.1', '-H', 'Connection: close', `http://127.0.0.1:${port}${target}`], (error, stdout) => resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), out: stdout }));
  });
  t.equal(curl.code, 0, 'curl exits 0 (18 was a partial file)');
  t.equal(curl.out.split('\r\n').filter((line) => line !== '').length, 51, 'the header and 50 readings');
});
