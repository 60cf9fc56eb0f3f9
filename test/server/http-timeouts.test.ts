import t from 'tap';
import { DEFAULT_PARSER_LIMITS } from '../../protocol/http/request-parser.js';
import { HttpServer } from '../../server/http/http-server.js';
import { Responder } from '../../server/http/responder.js';
import { Router } from '../../server/router.js';
import { connectRaw, exchange, request, silentLogger } from '../helpers.js';

const router = new Router([{ path: '/eco', handlers: { GET: async () => ({ status: 200, body: { ok: true } }) } }]);
const server = new HttpServer({
  responder: new Responder({ router, logger: silentLogger, corsOrigin: '*' }),
  logger: silentLogger,
  limits: { parser: DEFAULT_PARSER_LIMITS, maxPipelined: 4, requestTimeoutMs: 1500, idleTimeoutMs: 2500 },
});
const { port } = await server.listen(0, '127.0.0.1');
t.teardown(() => server.close());

t.test('a request trickled too slowly (slowloris) gets 408 and is closed', async (t) => {
  const head = request('GET', '/eco');
  const chunks = head.split('').slice(0, 20);
  const result = await exchange(port, chunks, { pauseMs: 150, waitForClose: true, count: 1, timeoutMs: 6000 });
  t.equal(result.responses[0]?.status, 408);
  t.equal(result.responses[0]?.json().erro.codigo, 'tempo_esgotado');
  t.ok(result.closed);
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
  const other = new HttpServer({ responder: new Responder({ router, logger: silentLogger, corsOrigin: '*' }), logger: silentLogger });
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
