import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import { DEFAULT_PARSER_LIMITS } from '../../protocol/http/request-parser.js';
import { HttpServer, type HttpLimits } from '../../server/http/http-server.js';
import { Responder } from '../../server/http/responder.js';
import { Router } from '../../server/http/router.js';
import { connectRaw, exchange, parseResponses, request, silentLogger } from '../helpers.js';

/**
 * The HTTP server's limits over real sockets: header, body and idle
 * timeouts, the connection limit, and back-pressure on clients that do not
 * read their answers.
 */
const router = new Router([
  { path: '/eco', handlers: { GET: async () => ({ status: 200, body: { ok: true } }), POST: async ({ request }) => ({ status: 200, body: { bytes: request.body.length } }) } },
]);
const LIMITS: HttpLimits = { parser: DEFAULT_PARSER_LIMITS, maxPipelined: 4, headerTimeoutMs: 1500, bodyTimeoutMs: 3000, idleTimeoutMs: 2500, writeTimeoutMs: 30_000, maxConnections: 10_000, maxConnectionsPerSource: 10_000 };

async function startHttp(t: Test, limits: Partial<HttpLimits> = {}): Promise<{ server: HttpServer; port: number }> {
  const server = new HttpServer({ responder: new Responder({ router, logger: silentLogger, corsOrigins: [] }), logger: silentLogger, limits: { ...LIMITS, ...limits } });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  return { server, port };
}

const { port } = await startHttp(t);

t.test('a request trickled too slowly (slowloris) gets 408 and is closed', async (t) => {
  const head = request('GET', '/eco');
  const chunks = head.split('').slice(0, 20);
  const result = await exchange(port, chunks, { pauseMs: 150, waitForClose: true, count: 1, timeoutMs: 6000 });
  t.equal(result.responses[0]?.status, 408);
  t.equal(result.responses[0]?.json().erro.codigo, 'tempo_esgotado');
  t.match(result.responses[0]?.json().erro.mensagem, /cabeçalhos/);
  t.ok(result.closed);
});

t.test('a body that stops arriving gets 408 after the body timeout, counted from the end of the head', async (t) => {
  const started = Date.now();
  const head = 'POST /eco HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n';
  const result = await exchange(port, [head, 'abc'], { waitForClose: true, count: 1, timeoutMs: 8000 });
  const elapsed = Date.now() - started;
  t.equal(result.responses[0]?.status, 408);
  t.match(result.responses[0]?.json().erro.mensagem, /corpo/);
  t.ok(result.closed);
  // The body timeout (3 s) applies, not the header timeout (1.5 s); the clock ticks once a second.
  t.ok(elapsed >= 3000 && elapsed < 6000, `answered after ${elapsed} ms`);
});

t.test('past the connection limit new connections get 503 and close; open ones keep being served', async (t) => {
  const { server: small, port: smallPort } = await startHttp(t, { maxConnections: 3 });
  const held = await Promise.all([0, 1, 2].map(() => connectRaw(smallPort)));
  t.teardown(() => held.forEach((socket) => socket.destroy()));
  const refused = await exchange(smallPort, [], { count: 1, waitForClose: true });
  t.equal(refused.responses[0]?.status, 503);
  t.equal(refused.responses[0]?.json().erro.codigo, 'servidor_ocupado');
  t.equal(refused.responses[0]?.headers.get('retry-after'), '1');
  t.ok(refused.closed, 'the refused connection is closed');
  t.equal(small.refusedConnections, 1);
  for (const socket of held) {
    const answer = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    socket.write(request('GET', '/eco'));
    t.match(await answer, /^HTTP\/1\.1 200 OK/, 'an open connection is still served');
  }
  (held.pop() as Socket).destroy();
  const deadline = Date.now() + 2000;
  while (small.openConnections > 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const admitted = await exchange(smallPort, [request('GET', '/eco')], { count: 1 });
  t.equal(admitted.responses[0]?.status, 200, 'a place freed is taken by the next connection');
});

t.test('the answers to a pipelined burst leave in one write', async (t) => {
  const socket = await connectRaw(port);
  t.teardown(() => socket.destroy());
  const chunks: Buffer[] = [];
  const all = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (parseResponses(Buffer.concat(chunks)).responses.length === LIMITS.maxPipelined) resolve();
    });
  });
  socket.write(Array.from({ length: LIMITS.maxPipelined }, () => request('GET', '/eco')).join(''));
  await all;
  t.equal(chunks.length, 1, 'one segment carries every answer');
});

t.test('a client that sends but never reads is no longer read from; its answers arrive in order once it reads', async (t) => {
  const { server: paced, port: pacedPort } = await startHttp(t, { maxPipelined: 4 });
  const socket = await connectRaw(pacedPort);
  socket.on('error', () => undefined);
  t.teardown(() => socket.destroy());
  socket.pause();
  const burst = Buffer.from(request('GET', '/eco').repeat(20_000), 'latin1');
  const rounds = 40;
  for (let i = 0; i < rounds; i++) socket.write(burst);
  const sent = burst.length * rounds;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.ok(socket.writableLength > 0, `the server stopped reading: ${socket.writableLength} of ${sent} bytes still wait in the client`);
  t.equal(paced.openConnections, 1);
  let received = Buffer.alloc(0);
  const wanted = 2000;
  const enough = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseResponses(received).responses.length >= wanted) resolve();
    });
  });
  socket.resume();
  await enough;
  const answers = parseResponses(received).responses.slice(0, wanted);
  t.ok(answers.every((answer) => answer.status === 200 && answer.body === '{"ok":true}'), `the first ${wanted} answers are complete and in order`);
});

t.test('an idle keep-alive connection is closed quietly; a busy one is not', async (t) => {
  const socket = await connectRaw(port);
  const started = Date.now();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.write(request('GET', '/eco'));
  await new Promise((resolve) => socket.once('close', resolve));
  const elapsed = Date.now() - started;
  t.match(received, /^HTTP\/1\.1 200 OK/);
  t.notMatch(received, /408/, 'no error answer to an idle connection');
  t.ok(elapsed >= 2500 && elapsed < 6000, `closed after ${elapsed} ms idle`);
});

t.test('close() lets connections finish, then stops', async (t) => {
  const other = new HttpServer({ responder: new Responder({ router, logger: silentLogger, corsOrigins: [] }), logger: silentLogger });
  const address = await other.listen(0, '127.0.0.1');
  const socket = await connectRaw(address.port);
  await new Promise<void>((resolve) => socket.write(request('GET', '/eco'), () => resolve()));
  await new Promise((resolve) => socket.once('data', resolve));
  t.equal(other.openConnections, 1);
  await other.close();
  t.equal(other.openConnections, 0);
  t.ok(socket.readableEnded || socket.destroyed || (await new Promise((resolve) => socket.once('end', () => resolve(true)))));
  socket.destroy();
});

t.test('regression: close() resolved only if no client reset its connection during shutdown', async (t) => {
  const server = new HttpServer({ responder: new Responder({ router, logger: silentLogger, corsOrigins: [] }), logger: silentLogger, limits: LIMITS });
  const address = await server.listen(0, '127.0.0.1');
  const socket = await connectRaw(address.port);
  socket.on('error', () => undefined);
  socket.pause();
  // Enough unread answers that the server's writes are pending when the client resets.
  for (let i = 0; i < 20; i++) socket.write(request('GET', '/eco').repeat(20_000));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const closing = server.close();
  socket.resetAndDestroy();
  await t.resolves(closing, 'close() resolves');
  t.equal(server.openConnections, 0);
});
