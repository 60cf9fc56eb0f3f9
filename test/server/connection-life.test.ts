/**
 * A connection's life (server/http/connection-life.ts): its transitions and
 * timeouts on a made-up clock, then the connection itself on a real loopback
 * socket whose clock the test moves: each timeout is seen without waiting
 * for it.
 */
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import pino from 'pino';
import t, { type Test } from 'tap';
import { DEFAULT_PARSER_LIMITS } from '../../protocol/http/request-parser.js';
import * as life from '../../server/http/connection-life.js';
import { HttpConnection, WriteRound } from '../../server/http/connection.js';
import { Responder } from '../../server/http/responder.js';
import { Router } from '../../server/http/router.js';

const LIMITS: life.LifeLimits = { headerTimeoutMs: 10_000, bodyTimeoutMs: 20_000, idleTimeoutMs: 30_000, writeTimeoutMs: 40_000 };
const quiet = { waitingBytes: 0, idle: true };

t.test('a new connection owes its first head from its first moment; the header timeout runs out after it, not at it', async (t) => {
  const start = life.opened(1000);
  t.same(start, { state: 'reading', arriving: { part: 'head', since: 1000 }, lastActivityAt: 1000, write: { at: 1000, waiting: 0 } });
  t.equal(life.tick(start, 1000 + LIMITS.headerTimeoutMs, LIMITS, quiet).timeout, undefined, 'not at the limit');
  const due = life.tick(start, 1001 + LIMITS.headerTimeoutMs, LIMITS, quiet);
  t.equal(due.timeout, 'cabecalhos');
  t.same(due.life.state === 'reading' && due.life.arriving, undefined, 'nothing is on its way any more');
});

t.test('a body on its way has the body timeout, counted from the end of its head', async (t) => {
  let l = life.arriving(life.arrived(life.opened(0)), 'body', 5000);
  t.equal(life.tick(l, 5000 + LIMITS.bodyTimeoutMs, LIMITS, { waitingBytes: 0, idle: false }).timeout, undefined);
  t.equal(life.tick(l, 5001 + LIMITS.bodyTimeoutMs, LIMITS, { waitingBytes: 0, idle: false }).timeout, 'corpo');
  l = life.arrived(l);
  t.equal(life.tick(l, 5001 + LIMITS.bodyTimeoutMs, LIMITS, { waitingBytes: 0, idle: false }).timeout, undefined, 'once whole, no body timeout');
});

t.test('an idle kept-alive connection closes after the idle timeout from its last bytes; one with work owed does not', async (t) => {
  const l = life.bytesArrived(life.arrived(life.opened(0)), 2000);
  t.equal(life.tick(l, 2000 + LIMITS.idleTimeoutMs, LIMITS, quiet).timeout, undefined);
  t.equal(life.tick(l, 2001 + LIMITS.idleTimeoutMs, LIMITS, quiet).timeout, 'ocioso');
  t.equal(life.tick(l, 2001 + LIMITS.idleTimeoutMs, LIMITS, { waitingBytes: 0, idle: false }).timeout, undefined, 'answers owed: not idle');
});

t.test('a client that takes none of the bytes waiting for it is cut, in every state but closed; one that takes some is not', async (t) => {
  for (const start of [life.opened(0), life.stopReading(life.opened(0)), life.drain(life.opened(0))]) {
    // Bytes wait from some moment after 0, the last time the client had none waiting: the clock counts from there.
    let l = life.tick(start, 1, LIMITS, { waitingBytes: 500, idle: false }).life;
    t.equal(life.tick(l, LIMITS.writeTimeoutMs, LIMITS, { waitingBytes: 500, idle: false }).timeout, start.state === 'reading' ? 'cabecalhos' : undefined, `${start.state}: at the limit, no write timeout`);
    t.equal(life.tick(l, 1 + LIMITS.writeTimeoutMs, LIMITS, { waitingBytes: 500, idle: false }).timeout, 'escrita', `${start.state}: past it, cut`);
    l = life.tick(l, LIMITS.writeTimeoutMs, LIMITS, { waitingBytes: 499, idle: false }).life;
    t.not(life.tick(l, 2 * LIMITS.writeTimeoutMs, LIMITS, { waitingBytes: 499, idle: false }).timeout, 'escrita', `${start.state}: it took a byte; the clock starts again`);
    t.equal(life.tick(l, 2 * LIMITS.writeTimeoutMs + 1, LIMITS, { waitingBytes: 499, idle: false }).timeout, 'escrita', `${start.state}: and runs out again`);
    l = life.clientRead(l, 3 * LIMITS.writeTimeoutMs);
    t.not(life.tick(l, 3 * LIMITS.writeTimeoutMs + 1, LIMITS, { waitingBytes: 499, idle: false }).timeout, 'escrita', `${start.state}: a drain is progress`);
  }
  t.same(life.tick(life.close(), 10 ** 12, LIMITS, { waitingBytes: 500, idle: true }), { life: { state: 'closed' }, timeout: undefined });
});

t.test('transitions: reading → finishing → draining → closed, and none leads back', async (t) => {
  const reading = life.opened(0);
  const finishing = life.stopReading(reading);
  t.equal(finishing.state, 'finishing');
  t.equal(life.arriving(finishing, 'head', 5), finishing, 'a finishing connection reads no new request');
  t.equal(life.stopReading(finishing), finishing);
  t.equal(life.drain(finishing).state, 'draining');
  t.equal(life.drain(reading).state, 'draining');
  t.equal(life.stopReading(life.drain(reading)).state, 'draining', 'draining stays draining');
  const closed = life.close();
  for (const step of [life.stopReading, life.drain, life.arrived, (l: life.ConnectionLife) => life.bytesArrived(l, 9), (l: life.ConnectionLife) => life.arriving(l, 'body', 9), (l: life.ConnectionLife) => life.clientRead(l, 9)]) {
    t.same(step(closed), closed, 'closed is the end');
  }
});

t.test('property: whatever happens, a timeout runs out only past its own limit, and closed never comes back', async () => {
  const event = fc.oneof(
    fc.record({ kind: fc.constant('bytes' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('head' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('body' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('arrived' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('stop' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('drain' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('close' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('read' as const), dt: fc.nat(50_000) }),
    fc.record({ kind: fc.constant('tick' as const), dt: fc.nat(50_000), waitingBytes: fc.nat(1000), idle: fc.boolean() }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 40 }), (events) => {
      let now = 0;
      let l = life.opened(now);
      let closed = false;
      for (const e of events) {
        now += e.dt;
        const before = l;
        if (e.kind === 'bytes') l = life.bytesArrived(l, now);
        else if (e.kind === 'head' || e.kind === 'body') l = life.arriving(l, e.kind, now);
        else if (e.kind === 'arrived') l = life.arrived(l);
        else if (e.kind === 'stop') l = life.stopReading(l);
        else if (e.kind === 'drain') l = life.drain(l);
        else if (e.kind === 'close') l = life.close();
        else if (e.kind === 'read') l = life.clientRead(l, now);
        else {
          const { life: next, timeout } = life.tick(l, now, LIMITS, e);
          if (timeout === 'cabecalhos' && !(before.state === 'reading' && before.arriving?.part === 'head' && now - before.arriving.since > LIMITS.headerTimeoutMs)) return false;
          if (timeout === 'corpo' && !(before.state === 'reading' && before.arriving?.part === 'body' && now - before.arriving.since > LIMITS.bodyTimeoutMs)) return false;
          if (timeout === 'ocioso' && !(before.state !== 'closed' && e.idle && now - before.lastActivityAt > LIMITS.idleTimeoutMs)) return false;
          if (timeout === 'escrita' && !(before.state !== 'closed' && now - before.write.at > LIMITS.writeTimeoutMs)) return false;
          l = next;
        }
        if (closed && l.state !== 'closed') return false;
        closed = l.state === 'closed';
      }
      return true;
    }),
  );
});

/** The connection on a real loopback socket, its clock in the test's hands. */
async function connectionOnSocket(t: Test): Promise<{ send: (text: string) => Promise<void>; client: Socket; connection: HttpConnection; clock: { now: number }; received: () => string }> {
  const clock = { now: 1_000_000 };
  const responder = new Responder({ router: new Router([]), logger: pino({ level: 'silent' }), corsOrigins: [] });
  let connection: HttpConnection | undefined;
  let serverSide: Socket | undefined;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    serverSide = socket;
    connection = new HttpConnection(socket, {
      responder,
      logger: pino({ level: 'silent' }),
      limits: { parser: DEFAULT_PARSER_LIMITS, maxPipelined: 8, ...LIMITS },
      now: () => clock.now,
      date: () => 'Mon, 07 Dec 2026 12:00:00 GMT',
      writes: new WriteRound(),
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = createConnection({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  await once(client, 'connect');
  let text = '';
  client.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  while (connection === undefined) await new Promise((resolve) => setImmediate(resolve));
  t.teardown(() => {
    client.destroy();
    server.close();
  });
  // Resolves once the server's side has read what was sent (the connection parsed it in the same turn).
  const send = async (request: string): Promise<void> => {
    const before = (serverSide as Socket).bytesRead;
    client.write(request);
    while ((serverSide as Socket).bytesRead < before + Buffer.byteLength(request)) await new Promise((resolve) => setImmediate(resolve));
  };
  return { send, client, connection, clock, received: () => text };
}

t.test('on a socket: a head that never comes is answered 408 and closed when the clock passes the header timeout, without waiting for it', async (t) => {
  const { send, client, connection, clock, received } = await connectionOnSocket(t);
  await send('GET / HTTP/1.1\r\nHost: x\r\n');
  connection.checkTimeouts(clock.now + LIMITS.headerTimeoutMs);
  t.equal(received(), '', 'nothing at the limit');
  connection.checkTimeouts(clock.now + LIMITS.headerTimeoutMs + 1);
  await once(client, 'end');
  t.match(received(), /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Connection: close\r\n[\s\S]*"codigo":"tempo_esgotado"/);
});

t.test('on a socket: a body that stops coming is answered 408 when the clock passes the body timeout', async (t) => {
  const { send, client, connection, clock, received } = await connectionOnSocket(t);
  await send('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
  connection.checkTimeouts(clock.now + LIMITS.headerTimeoutMs + 1);
  t.equal(received(), '', 'the head came whole: the header timeout no longer applies');
  connection.checkTimeouts(clock.now + LIMITS.bodyTimeoutMs + 1);
  await once(client, 'end');
  t.match(received(), /^HTTP\/1\.1 408 [\s\S]*O corpo da requisição não chegou completo a tempo/);
});

t.test('on a socket: an idle kept-alive connection is ended, quietly, past the idle timeout', async (t) => {
  const { send, client, connection, clock, received } = await connectionOnSocket(t);
  await send('GET /nada HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!received().includes('\r\n\r\n')) await new Promise((resolve) => setImmediate(resolve));
  t.match(received(), /^HTTP\/1\.1 404 /, 'answered, kept alive');
  const answered = received();
  connection.checkTimeouts(clock.now + LIMITS.idleTimeoutMs);
  connection.checkTimeouts(clock.now + LIMITS.idleTimeoutMs + 1);
  await once(client, 'end');
  t.equal(received(), answered, 'closed with nothing more said');
});
