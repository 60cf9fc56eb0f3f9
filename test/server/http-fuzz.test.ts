/**
 * Fuzzing the HTTP server over real sockets: random and mutated requests,
 * split at random boundaries, each on its own connection that the client
 * then half-closes. Whatever arrives, the server answers only complete,
 * well-formed responses and closes; it never crashes, never keeps a
 * connection it should have let go, and keeps answering a well-behaved
 * client on another connection correctly throughout.
 *
 * FUZZ_CASES sets how many cases run (default 2000).
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { connectRaw, exchange, request, splitAt, startTestServer } from '../helpers.js';
import { REJECTED } from '../protocol/rejected-requests.js';

const CASES = Number(process.env.FUZZ_CASES ?? 2000);
/** A connection the client has half-closed must be closed by the server well within this. */
const CLOSE_DEADLINE_MS = 5000;

const server = await startTestServer(t);
const port = server.http.port;
const minute = (n: number): number => Date.UTC(2026, 0, 1, 0, n);
await server.stores.store.append([0, 1, 2, 3, 4].map((n) => ({ matricula: '13456789', timestamp: minute(n), consumo: BigInt(n * n * 1000) })));

const routes = ['/validacao-usuario', '/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo', '/nada', '*'];
/** Requests a client might send (no HEAD: a response to HEAD cannot be framed without knowing its request). */
const plausibleRequest = fc
  .record({
    route: fc.constantFrom(...routes),
    method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'PUT', 'DELETE'),
    matricula: fc.oneof(fc.constant('13456789'), fc.stringMatching(/^\d{1,22}$/), fc.string({ maxLength: 8 })),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
    framing: fc.constantFrom('none', 'length', 'chunked', 'both', 'double-length'),
    extraHeaders: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.stringMatching(/^[\x20-\x7e]{0,20}$/)), { maxLength: 4 }),
  })
  .map(({ route, method, matricula, version, framing, extraHeaders }) => {
    const body = JSON.stringify({ matricula });
    const lines = [`${method} ${route === '*' ? '*' : `${route}?matricula=${encodeURIComponent(matricula)}`} ${version}`, 'Host: localhost'];
    for (const [name, value] of extraHeaders) lines.push(`${name}: ${value}`);
    if (framing === 'length' || framing === 'both') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    if (framing === 'double-length') lines.push(`Content-Length: ${Buffer.byteLength(body)}`, `Content-Length: ${Buffer.byteLength(body) + 1}`);
    if (framing === 'chunked' || framing === 'both') lines.push('Transfer-Encoding: chunked');
    const payload = framing === 'none' ? '' : framing === 'chunked' || framing === 'both' ? `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n` : body;
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${payload}`, 'latin1');
  });

/** Pieces that matter to framing, spliced into requests by the mutator. */
const NASTY = ['\r\n', '\n', '\r', '\0', ' ', '\t', ':', ',', '\r\n ', 'Content-Length: 7\r\n', 'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip\r\n', '0\r\n\r\n', 'ffffffff\r\n', '\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...NASTY) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let current = Buffer.from(bytes);
  for (const m of mutations) {
    const at = m.at % (current.length + 1);
    if (m.kind === 'flip') {
      if (current.length > 0) current[at % current.length] = m.value;
    } else if (m.kind === 'insert') current = Buffer.concat([current.subarray(0, at), Buffer.from(m.text, 'latin1'), current.subarray(at)]);
    else current = Buffer.concat([current.subarray(0, at), current.subarray(at + m.length)]);
  }
  return current;
}

const hostileInput = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 400 }).map((a) => Buffer.from(a)) },
  { weight: 2, arbitrary: fc.array(plausibleRequest, { minLength: 1, maxLength: 3 }).map((parts) => Buffer.concat(parts)) },
  { weight: 4, arbitrary: fc.tuple(fc.array(plausibleRequest, { minLength: 1, maxLength: 3 }), fc.array(mutation, { minLength: 1, maxLength: 5 })).map(([parts, mutations]) => mutate(Buffer.concat(parts), mutations)) },
);

/**
 * Reads `bytes` as a sequence of complete responses, strictly: a status line,
 * CRLF-terminated header fields, a Content-Length (unless 1xx or 204) and
 * exactly that many body bytes; nothing left over. Returns the statuses or
 * why the bytes are not well-formed.
 */
function strictResponses(bytes: Buffer): { statuses: number[] } | { problem: string } {
  const statuses: number[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', offset, 'latin1');
    if (end === -1) return { problem: `incomplete head at ${offset}` };
    const [statusLine = '', ...fields] = bytes.toString('latin1', offset, end).split('\r\n');
    const status = /^HTTP\/1\.1 ([1-5]\d\d) [\x20-\x7e]+$/.exec(statusLine);
    if (status === null) return { problem: `bad status line ${JSON.stringify(statusLine)}` };
    const code = Number(status[1]);
    let length: number | undefined;
    for (const field of fields) {
      const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ([\x20-\x7e]*)$/.exec(field);
      if (match === null) return { problem: `bad header ${JSON.stringify(field)}` };
      if ((match[1] as string).toLowerCase() === 'content-length') length = Number(match[2]);
    }
    offset = end + 4;
    if (code < 200) continue;
    if (code === 204) {
      if (length !== undefined) return { problem: '204 with Content-Length' };
    } else {
      if (length === undefined) return { problem: `${code} without Content-Length` };
      if (bytes.length < offset + length) return { problem: `body shorter than ${length}` };
      const body = bytes.toString('utf8', offset, offset + length);
      if (code >= 400) {
        const parsed = JSON.parse(body) as { erro?: { codigo?: unknown; mensagem?: unknown } };
        if (typeof parsed.erro?.codigo !== 'string' || typeof parsed.erro.mensagem !== 'string') return { problem: `error body without erro.codigo: ${body}` };
      }
      offset += length;
    }
    statuses.push(code);
  }
  return { statuses };
}

/** Sends `parts` on a new connection, half-closes, and collects everything until the server closes. */
async function hostileExchange(parts: readonly Buffer[]): Promise<{ bytes: Buffer; closedInTime: boolean }> {
  const socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), CLOSE_DEADLINE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const part of parts) {
    if (socket.destroyed) break;
    socket.write(part);
    await new Promise((resolve) => setImmediate(resolve));
  }
  socket.end();
  const closedInTime = await closed;
  socket.destroy();
  return { bytes: Buffer.concat(received), closedInTime };
}

/** A keep-alive client that asks the same question throughout and must always get the same answer. */
async function wellBehavedClient(): Promise<{ ask(): Promise<string>; close(): void }> {
  const socket = await connectRaw(port);
  let buffered = Buffer.alloc(0);
  let waiting: ((body: string) => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    const length = Number(/content-length: (\d+)/i.exec(buffered.toString('latin1', 0, end))?.[1]);
    if (buffered.length < end + 4 + length) return;
    const text = buffered.toString('latin1', 0, end + 4 + length);
    buffered = buffered.subarray(end + 4 + length);
    waiting?.(text.replace(/Date: [^\r]*\r\n/, ''));
  });
  const question = request('GET', '/alerta-consumo?matricula=13456789');
  return {
    ask: () =>
      new Promise<string>((resolve) => {
        waiting = resolve;
        socket.write(question);
      }),
    close: () => socket.destroy(),
  };
}

t.test('every ambiguous or malformed framing (the parser table) gets its status over a socket, as JSON, and the connection closed', async (t) => {
  for (const [name, text, , status] of REJECTED) {
    // The client does not half-close: the server must close by itself (RFC 9112 §9.6 after a framing error).
    const result = await exchange(port, [Buffer.from(text, 'latin1')], { count: 1, waitForClose: true, timeoutMs: 3000 });
    t.equal(result.responses[0]?.status, status, name);
    t.type(result.responses[0]?.json().erro.codigo, 'string', `${name}: JSON error`);
    t.equal(result.responses[0]?.headers.get('connection'), 'close', `${name}: Connection: close`);
    t.ok(result.closed, `${name}: closed by the server`);
  }
});

t.test(`${CASES} random and mutated requests, split anywhere: well-formed answers, closed connections, no leaks`, async (t) => {
  const control = await wellBehavedClient();
  const reference = await control.ask();
  t.match(reference, /^HTTP\/1\.1 200 OK/);
  let answered = 0;
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(hostileInput, fc.array(fc.nat(), { maxLength: 8 }), async (bytes, offsets) => {
      const [{ bytes: received, closedInTime }, controlAnswer] = await Promise.all([hostileExchange(splitAt(bytes, offsets)), control.ask()]);
      const result = strictResponses(received);
      checked++;
      if ('problem' in result) throw new Error(`malformed answer (${result.problem}) to ${JSON.stringify(bytes.toString('latin1'))}`);
      if (!closedInTime) throw new Error(`connection not closed after the client half-closed: ${JSON.stringify(bytes.toString('latin1'))}`);
      if (controlAnswer !== reference) throw new Error(`the well-behaved client got a different answer: ${controlAnswer}`);
      answered += result.statuses.length;
    }),
    { numRuns: CASES },
  );
  t.equal(checked, CASES, 'every case ran');
  t.ok(answered > 0, `${answered} responses checked`);
  // Only the control connection may remain once the hostile clients are gone.
  const deadline = Date.now() + CLOSE_DEADLINE_MS;
  while (server.httpConnections() > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(server.httpConnections(), 1, 'no connection leaked');
  control.close();
});
