/**
 * Test helpers: temp directories, a server on ephemeral ports, and small
 * real-socket clients (raw HTTP with pipelining, UDP with ACKs).
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../server/config.js';
import { startServer, type RunningServer, type ServerHooks } from '../server/app.js';
import { openApiCheck } from './openapi-check.js';

export const silentLogger: Logger = pino({ level: 'silent' });

export async function tempDir(t: Test, prefix = 'consumo-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The operator's token of test servers (API_TOKEN_ADMIN), unless a test sets its own. */
/**
 * Simulated meters a test starts do not ask port 50000 for their registers
 * (some other server may listen there): a test that wants them to resume
 * gives `--porta-http` its server's port.
 */
process.env.MEDIDOR_PORTA_HTTP ??= '0';

export const TEST_OPERATOR_TOKEN = 'operador-de-teste-0123456789abcdefghijklmnop';
/** Headers that make a request the operator's. */
export const AS_OPERATOR: Readonly<Record<string, string>> = Object.freeze({ Authorization: `Bearer ${TEST_OPERATOR_TOKEN}` });

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({ HTTP_PORT: '0', UDP_PORT: '0', DATA_DIR: dataDir, TZ_LEGADO: 'America/Sao_Paulo', UDP_BUFFER_RECEPCAO: '1048576', CLIENTES_EXEMPLO: 'sim', API_TOKEN_ADMIN: TEST_OPERATOR_TOKEN, ...env }, []);
}

/** Starts a server on ephemeral ports in `dataDir` (a new temp dir by default), closed at teardown. */
export async function startTestServer(t: Test, options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? (await tempDir(t));
  const { hooks, verify } = documentedAnswers();
  const server = await startServer(testConfig(dataDir, options.env), silentLogger, hooks);
  t.teardown(async () => {
    await server.close();
    verify();
  });
  return server;
}

/**
 * Hooks that check every answer against resources/openapi.json
 * (openapi-check.ts), and what throws, at the test's end, when one was not
 * as the document says.
 */
export function documentedAnswers(): { hooks: ServerHooks; verify: () => void } {
  const problems: string[] = [];
  const check = openApiCheck();
  const hooks: ServerHooks = {
    observe: (exchange) => {
      const problem = check.problem(exchange);
      if (problem !== undefined && problems.length < 20) problems.push(problem);
    },
  };
  const verify = (): void => {
    if (problems.length > 0) throw new Error(`answers not as resources/openapi.json says:\n${[...new Set(problems)].join('\n')}`);
  };
  return { hooks, verify };
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** Like startTestServer, keeping every log line (info and up) for the test to read. */
export async function startLoggedServer(t: Test, options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<{ server: RunningServer; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const { hooks, verify } = documentedAnswers();
  const server = await startServer(testConfig(options.dataDir ?? (await tempDir(t)), options.env), pino({ level: 'info' }, sink), hooks);
  t.teardown(async () => {
    await server.close();
    verify();
  });
  return { server, lines };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test convenience: bodies are checked field by field
  json(): any;
}

/**
 * Reads HTTP/1.1 responses off a byte stream (Content-Length framing only,
 * which is all this server sends). `headOnly` marks responses to HEAD.
 */
export function parseResponses(bytes: Buffer, headOnly: readonly boolean[] = []): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let offset = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', offset, 'latin1');
    if (end === -1) break;
    const lines = bytes.toString('latin1', offset, end).split('\r\n');
    const status = Number((lines[0] ?? '').split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const interim = status >= 100 && status < 200;
    const length = interim || headOnly[responses.length] === true ? 0 : Number(headers.get('content-length') ?? 0);
    if (bytes.length < end + 4 + length) break;
    const body = bytes.toString('utf8', end + 4, end + 4 + length);
    offset = end + 4 + length;
    if (interim) continue;
    responses.push({ status, headers, body, json: () => JSON.parse(body) });
  }
  return { responses, rest: bytes.subarray(offset) };
}

export interface Exchange {
  readonly responses: RawResponse[];
  /** Whether the server closed the connection. */
  readonly closed: boolean;
  readonly raw: Buffer;
}

/**
 * Writes `chunks` (each a separate write, with a short pause between) to a
 * new connection and collects responses until `count` arrived and, when
 * `waitForClose`, the server closed; or until `timeoutMs`.
 */
export async function exchange(
  port: number,
  chunks: ReadonlyArray<string | Buffer>,
  options: { count?: number; waitForClose?: boolean; timeoutMs?: number; headOnly?: boolean[]; pauseMs?: number } = {},
): Promise<Exchange> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.timeoutMs ?? 3000);
    const check = (): void => {
      const { responses } = parseResponses(Buffer.concat(received), options.headOnly);
      const enough = options.count === undefined || responses.length >= options.count;
      if ((enough && !options.waitForClose && options.count !== undefined) || (enough && closed)) {
        clearTimeout(timer);
        resolve();
      }
    };
    socket.on('data', (chunk) => {
      received.push(chunk);
      check();
    });
    socket.on('close', () => {
      closed = true;
      check();
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    if (options.pauseMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  await done;
  const raw = Buffer.concat(received);
  socket.destroy();
  return { responses: parseResponses(raw, options.headOnly).responses, closed, raw };
}

/**
 * An answer's body without what differs between two servers answering the
 * same data: the token /validacao-usuario issues (each server signs its own).
 */
export function comparableBody(body: string): string {
  const json = JSON.parse(body) as Record<string, unknown>;
  delete json.token;
  delete json.expira_em;
  return JSON.stringify(json);
}

/** A request with CRLF line ends; `body` sets Content-Length. */
export function request(method: string, target: string, options: { headers?: Record<string, string>; body?: string } = {}): string {
  const headers: Record<string, string> = { Host: 'localhost', ...options.headers };
  if (options.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'transfer-encoding')) {
    headers['Content-Length'] = String(Buffer.byteLength(options.body));
  }
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `${method} ${target} HTTP/1.1\r\n${head}\r\n${options.body ?? ''}`;
}

/**
 * How long `call` waits for its one response: a bound on a hung test, not a
 * timing assertion. Requests that hash a password (scrypt, on a worker) can
 * queue behind the other test files' on a loaded 2-core machine: the 3 s
 * `exchange` default once cut a login off in CI ("no response to POST
 * /sessao/operador"), so `call` waits longer; it returns as soon as the
 * response arrives.
 */
const CALL_TIMEOUT_MS = 20_000;

/** Sends one request (with `extraHeaders`, e.g. AS_OPERATOR) and returns its response. */
export async function call(port: number, method: string, target: string, body?: unknown, extraHeaders: Readonly<Record<string, string>> = {}): Promise<RawResponse> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { ...(text === undefined ? {} : { 'Content-Type': 'application/json' }), ...extraHeaders };
  const result = await exchange(port, [request(method, target, { headers, ...(text === undefined ? {} : { body: text }) })], { count: 1, headOnly: [method === 'HEAD'], timeoutMs: CALL_TIMEOUT_MS });
  const [response] = result.responses;
  if (response === undefined) throw new Error(`no response to ${method} ${target}: ${result.raw.toString('latin1')}`);
  return response;
}

export interface UdpClient {
  /** Sends a datagram; resolves with the ACK datagrams received within `waitMs`. */
  send(payload: string | Buffer, waitMs?: number): Promise<string[]>;
  /** Sends and resolves on the first reply (rejects after `timeoutMs`). */
  sendForAck(payload: string | Buffer, timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function udpClient(t: Test, port: number): Promise<UdpClient> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const inbox: string[] = [];
  let waiter: (() => void) | undefined;
  socket.on('message', (message) => {
    inbox.push(message.toString('latin1'));
    waiter?.();
  });
  const client: UdpClient = {
    async send(payload, waitMs = 300) {
      inbox.length = 0;
      socket.send(payload, port, '127.0.0.1');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      return [...inbox];
    },
    async sendForAck(payload, timeoutMs = 3000) {
      inbox.length = 0;
      const reply = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no ACK')), timeoutMs);
        waiter = () => {
          clearTimeout(timer);
          waiter = undefined;
          resolve(inbox.join('\n'));
        };
      });
      socket.send(payload, port, '127.0.0.1');
      return reply;
    },
    close: () => socket.close(),
  };
  t.teardown(() => {
    try {
      socket.close();
    } catch {
      // already closed
    }
  });
  return client;
}

export function readingLine(matricula: string, isoTimestamp: string, consumo: string | number): string {
  return `MEDICAO;${matricula};${isoTimestamp};${consumo}`;
}

/** ISO timestamps a minute apart, ending `minutesAgo` minutes before now, oldest first. */
export function recentTimestamps(count: number, minutesAgo = 1): string[] {
  const base = Math.floor(Date.now() / 1000) * 1000 - minutesAgo * 60_000;
  return Array.from({ length: count }, (_, i) => new Date(base - (count - 1 - i) * 60_000).toISOString());
}

export async function connectRaw(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/** Splits bytes at the given offsets (taken modulo the length, deduplicated, sorted); no empty parts. */
export function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((offset) => offset % (bytes.length + 1))), bytes.length].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    if (cut > start) parts.push(bytes.subarray(start, cut));
    start = cut;
  }
  return parts;
}

/** The sample of ANEEL's tariff file shipped in resources/ (real rows of CEMIG-D; source beside it). */
export const ANEEL_SAMPLE = fileURLToPath(new URL('../../resources/tarifas-homologadas-amostra-cemig-d.csv', import.meta.url));

// Child processes (servers, meters, launchers, npm) run our built JavaScript as users do: tap puts its
// process-tracking hook in NODE_OPTIONS, which would cost every child node most of a second of CPU
// (coverage, which needs it, is off). A test file that imports this module spawns plain children.
delete process.env.NODE_OPTIONS;

/**
 * Options for a forked child Node process: without the test runner's
 * loaders, which fork() passes on in execArgv.
 */
export const PLAIN_NODE = { execArgv: [] as string[], env: { ...process.env, NODE_OPTIONS: '' } };

/** Polls `probe` every 50 ms until it gives a value; rejects naming `what` after `timeoutMs`. */
export async function until<T>(what: string | (() => Promise<string>), probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
  /** When the test read it (ms since the epoch). */
  receivedAt: number;
}

/** Reads a text/event-stream with Node's fetch, parsing events as they arrive. */
export async function openEvents(port: number, target: string, headers: Record<string, string> = {}): Promise<{ response: Response; events: SseEvent[]; waitFor(test: (events: SseEvent[]) => boolean, ms?: number): Promise<void>; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(`http://127.0.0.1:${port}${target}`, { signal: controller.signal, headers });
  const events: SseEvent[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  let notify: (() => void) | undefined;
  void (async () => {
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: '', receivedAt: Date.now() };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'event') event.event = value;
            else if (field === 'id') event.id = value;
            else if (field === 'data') event.data = value;
            else if (field === 'retry') event.event = 'retry';
          }
          if (block.split('\n').every((line) => line.startsWith(':'))) continue;
          events.push(event);
        }
        notify?.();
      }
    } catch {
      // aborted
    }
  })();
  return {
    response,
    events,
    async waitFor(test, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!test(events)) {
        if (Date.now() > deadline) throw new Error(`timed out; events: ${JSON.stringify(events.slice(-5))}`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => controller.abort(),
  };
}

/** A meter's UDP socket on loopback, closed at the end of `t`: every line it received, and a way to send to a port. */
export async function meterSocket(t: Test): Promise<{ readonly received: string[]; send(text: string, port: number): void }> {
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const received: string[] = [];
  socket.on('message', (message) => received.push(...message.toString('latin1').split('\n')));
  return { received, send: (text, port) => void socket.send(text, port, '127.0.0.1') };
}
