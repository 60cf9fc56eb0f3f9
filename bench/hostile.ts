/**
 * `npm run bench:hostil`: the two figures of the trust work, each against a
 * baseline taken in the same run.
 *
 * 1. Clients that do not read: C connections (from C loopback addresses, so
 *    that the per-address limit on heavy work is not what bounds them) each
 *    pipeline 32 of the heaviest request (a year of hourly consumption,
 *    ~1 MB of JSON) and never read. Server RSS before and after, the bytes
 *    held for them (`consumo_http_bytes_aguardando_clientes`), and the
 *    latency of /saude for another client meanwhile.
 * 2. UDP ACK round trip while 20 clients loop on that request: p50/p99 of
 *    one meter's reading-to-ACK time alone (baseline), with the 20 clients on
 *    one address (the per-address limit answers most with 429), and on 20
 *    addresses (all of them served).
 *
 * Options: --conexoes 200 --segundos 10
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ackRoundTrips, median, parseCli, percentile, startTarget, type RunningTarget } from './lib.js';

const values = parseCli('bench:hostil', 'Memory held for clients that never read, and UDP ACK latency while clients loop on the heaviest request.', {
  conexoes: { default: '200', help: 'connections that pipeline 32 heavy requests and never read (1 to 250)' },
  segundos: { default: '10', help: 'seconds each measurement lasts' },
});
const CONNECTIONS = Number(values.conexoes);
const SECONDS = Number(values.segundos);
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 1 || CONNECTIONS > 250 || !Number.isInteger(SECONDS) || SECONDS < 1) {
  process.stderr.write('bench:hostil: --conexoes 1 to 250, --segundos at least 1\n');
  process.exit(1);
}

const METER = '10000000';
const HEAVY = `/consumo?matricula=${METER}&agrupar=hora&fuso=America/Sao_Paulo&inicio=${new Date(Date.now() - 364 * 86_400_000).toISOString().slice(0, 10)}`;
const heavyRequest = `GET ${HEAVY} HTTP/1.1\r\nHost: bench\r\n\r\n`;

/** A year of readings every 30 minutes for one meter, written as the log's own lines. */
async function preload(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const start = Date.now() - 365 * 86_400_000;
  const lines: string[] = [];
  for (let i = 0; i < 2 * 24 * 365; i++) lines.push(`${new Date(start + i * 1_800_000).toISOString()};${METER};${i * 2}\n`);
  await writeFile(join(dataDir, 'clientes.txt'), `bench;${METER}\n`);
  await writeFile(join(dataDir, 'medicoes.log'), lines.join(''));
}

function openSocket(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function get(port: number, path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started };
}

const gauge = (metrics: string, name: string): number => Number(new RegExp(`\\n${name} (\\d+)`).exec(metrics)?.[1] ?? NaN);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

async function slowReaders(server: RunningTarget): Promise<void> {
  const answerBytes = Buffer.byteLength((await get(server.httpPort, HEAVY)).body);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = await server.rssBytes();
  const sockets: Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const socket = await openSocket(server.httpPort, `127.0.1.${1 + i}`);
    socket.on('error', () => undefined);
    socket.pause();
    socket.write(heavyRequest.repeat(32));
    sockets.push(socket);
  }
  let peak = idle;
  const saude: number[] = [];
  const until = Date.now() + SECONDS * 1000;
  while (Date.now() < until) {
    peak = Math.max(peak, await server.rssBytes());
    saude.push((await get(server.httpPort, '/saude')).ms);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const metrics = (await get(server.httpPort, '/metricas')).body;
  const held = gauge(metrics, 'consumo_http_bytes_aguardando_clientes');
  const made = Number(/consumo_http_requisicoes_total\{rota="\/consumo",status="200"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  const unbounded = CONNECTIONS * 32 * answerBytes;
  process.stdout.write(
    `1. ${CONNECTIONS} connections x 32 pipelined ${HEAVY.split('?')[0]} (a year of hours, ${mib(answerBytes)} MiB each), never read, ${SECONDS} s\n` +
      `   server RSS idle ${mib(idle)} MiB -> peak ${mib(peak)} MiB: +${mib(peak - idle)} MiB (bound: under 300 MiB above idle)\n` +
      `   answers made ${made} of ${CONNECTIONS * 32} asked; bytes held for the clients ${mib(held)} MiB; all 32 answers held would be ${mib(unbounded)} MiB (ratio held/unbounded ${(held / unbounded).toFixed(3)})\n` +
      `   /saude meanwhile: median ${median(saude).toFixed(1)} ms, max ${Math.max(...saude).toFixed(1)} ms over ${saude.length} requests\n`,
  );
  for (const socket of sockets) socket.destroy();
}

/** Keep-alive clients that ask for HEAVY again as soon as each answer is in; returns a stop function and the statuses seen. */
function heavyLoop(port: number, addresses: readonly string[]): { stop(): void; statuses: Map<number, number> } {
  const statuses = new Map<number, number>();
  const sockets: Socket[] = [];
  let stopped = false;
  for (const address of addresses) {
    void openSocket(port, address).then((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      let buffered = '';
      const ask = (): void => void (stopped || socket.write(heavyRequest));
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        for (;;) {
          const headEnd = buffered.indexOf('\r\n\r\n');
          if (headEnd === -1) return;
          const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
          if (buffered.length < headEnd + 4 + length) return;
          const status = Number(buffered.slice(9, 12));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          buffered = buffered.slice(headEnd + 4 + length);
          ask();
        }
      });
      ask();
    });
  }
  return {
    statuses,
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

async function ackUnderLoad(server: RunningTarget): Promise<void> {
  const base = Date.now() - 3_600_000;
  const runs: Array<{ name: string; addresses: string[] }> = [
    { name: 'alone (baseline)', addresses: [] },
    { name: '20 clients, one address', addresses: Array.from({ length: 20 }, () => '127.0.0.1') },
    { name: '20 clients, 20 addresses', addresses: Array.from({ length: 20 }, (_, i) => `127.0.2.${1 + i}`) },
  ];
  let baselineP99 = NaN;
  process.stdout.write(`2. UDP ACK round trip of one meter (a reading every 20 ms) while clients loop on ${HEAVY.split('?')[0]} (a year of hours), ${SECONDS} s each\n`);
  for (const [i, run] of runs.entries()) {
    const load = heavyLoop(server.httpPort, run.addresses);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rtts = await ackRoundTrips(server.udpPort, '20000000', SECONDS, base + i * 10_000_000);
    load.stop();
    const p99 = percentile(rtts, 99);
    if (i === 0) baselineP99 = p99;
    const answers = [...load.statuses].map(([status, count]) => `${status}: ${count}`).join(', ');
    process.stdout.write(
      `   ${run.name.padEnd(26)} p50 ${percentile(rtts, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${(rtts[rtts.length - 1] ?? NaN).toFixed(1)} ms` +
        `${i === 0 ? '' : ` (p99 ${(p99 / baselineP99).toFixed(1)}x alone)`}${answers === '' ? '' : `; HTTP answers ${answers}`}\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const dir = await mkdtemp(join(tmpdir(), 'consumo-hostil-'));
try {
  const dataDir = join(dir, 'data');
  await preload(dataDir);
  const server = await startTarget('projeto', { DATA_DIR: dataDir, HTTP_MAX_CONEXOES: '20000' });
  try {
    await slowReaders(server);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await ackUnderLoad(server);
  } finally {
    await server.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
