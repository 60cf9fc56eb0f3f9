/**
 * Shared pieces of the load scripts and the benchmark suite: preloading a
 * store, starting a server (the project's or the node:http baseline) in its
 * own process, and running autocannon in its own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { PostgresStore } from '../database/postgres/postgres-store.js';
import { quoteIdentifier } from '../database/postgres/migrate.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
export const SERVER_MAIN = here('../server/main.js');
export const BASELINE_MAIN = here('./node-http-baseline.js');
export const SKETCH_MAIN = here('./sketch-responder.js');
export const AUTOCANNON = here('../../node_modules/autocannon/autocannon.js');

/** The matricula of the i-th preloaded meter. */
export const meterMatricula = (i: number): string => String(10_000_000 + i);

export interface PreloadShape {
  readonly customers: number;
  readonly readings: number;
  /** Meters the readings are spread over (round robin). */
  readonly meters: number;
}

/** Writes `clientes.txt` and `medicoes.log` straight into a DATA_DIR: fast, and exactly the store's format. */
export async function preloadFiles(dataDir: string, shape: PreloadShape): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await writeLines(join(dataDir, 'clientes.txt'), shape.customers, (i) => `cliente${i};${meterMatricula(i)}\n`);
  const base = Date.now() - shape.readings - 3_600_000;
  await writeLines(join(dataDir, 'medicoes.log'), shape.readings, (i) => {
    const meter = i % shape.meters;
    const round = Math.floor(i / shape.meters);
    // Steady consumption of 10 a period, 25 every 7th, so the alert has work to do.
    return `${new Date(base + i).toISOString()};${meterMatricula(meter)};${round * 10 + Math.floor(round / 7) * 15}\n`;
  });
}

async function writeLines(path: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  const chunk = 50_000;
  for (let start = 0; start < count; start += chunk) {
    let text = '';
    for (let i = start; i < Math.min(count, start + chunk); i++) text += line(i);
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Creates the schema (through the store's own migrations) and fills it with generate_series. */
export async function preloadPostgres(url: string, schema: string, shape: PreloadShape): Promise<void> {
  const store = await PostgresStore.open({ url, schema, poolMax: 1, statementTimeoutMs: 600_000, connectTimeoutMs: 5000, logger: pino({ level: 'silent' }) });
  await store.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const s = quoteIdentifier(schema);
    await client.query(`INSERT INTO ${s}.clientes (username, matricula) SELECT 'cliente' || i, (10000000 + i)::text FROM generate_series(0, $1::int - 1) i ON CONFLICT DO NOTHING`, [shape.customers]);
    await client.query(
      `INSERT INTO ${s}.medicoes (matricula, data_hora, consumo)
       SELECT (10000000 + i % $2::int)::text, now() - interval '1 hour' - make_interval(secs => ($1::int - i) / 1000.0), (i / $2::int) * 10
       FROM generate_series(0, $1::int - 1) i ON CONFLICT DO NOTHING`,
      [shape.readings, shape.meters],
    );
    await client.query(`ANALYZE ${s}.medicoes`);
  } finally {
    await client.end();
  }
}

export interface RunningTarget {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly udpPort: number;
  /** From spawn to the start-up log line. */
  readonly startupMs: number;
  /** Resident memory of the server process, in bytes (Linux /proc). */
  rssBytes(): Promise<number>;
  /** Everything the server logged so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The Node flags `npm start` gives the server of the build `main` belongs to
 * (its package.json's start script, e.g. `--max-semi-space-size=32`): a bench
 * measures the server as users run it.
 */
export function startFlags(main: string): string[] {
  const start = (JSON.parse(readFileSync(resolve(dirname(main), '../../package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  return /^node((?: --\S+)*) build\/server\/main\.js$/.exec(start)?.[1]?.trim().split(' ').filter((flag) => flag !== '') ?? [];
}

/** Servers started by this process: killed if it exits early, so no run leaves one behind. */
const liveTargets = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveTargets) child.kill('SIGKILL');
});

export type TargetKind = 'projeto' | 'node-http' | 'sketch';
const TARGET_MAIN: Readonly<Record<TargetKind, string>> = { projeto: SERVER_MAIN, 'node-http': BASELINE_MAIN, sketch: SKETCH_MAIN };

/** Starts the project's server (this build's, or `main`: another build's), the node:http baseline or the bare sketch in its own process and waits for its start-up line. */
export async function startTarget(kind: TargetKind, env: Record<string, string>, nodeArgs: readonly string[] = [], main = TARGET_MAIN[kind]): Promise<RunningTarget> {
  const started = Date.now();
  const flags = kind === 'projeto' ? startFlags(main) : [];
  const child = spawn(process.execPath, [...flags, ...nodeArgs, main], {
    // info: the start-up line is how the port is learnt; nothing is logged per request at info.
    // The synthetic senders give each meter a reading every few tens of ms at the top rates (far denser than
    // any real meter): the minimum-interval rule is off so that what is measured is throughput, not refusals.
    // The load generators are one address asking the same lookup at full speed: its per-address limit is off here.
    env: { ...process.env, HTTP_PORT: '0', UDP_PORT: '0', MEDICAO_INTERVALO_MINIMO_MS: '0', VALIDACAO_CONSULTAS_POR_MINUTO: '0', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  liveTargets.add(child);
  child.once('exit', () => liveTargets.delete(child));
  let output = '';
  const line = await new Promise<{ http: string; udp: string }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const candidate of output.split('\n')) if (candidate.includes('"consumo-inteligente started"')) resolve(JSON.parse(candidate));
    });
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}: ${output}`)));
  });
  const startupMs = Date.now() - started;
  return {
    child,
    httpPort: Number(line.http.split(':')[1]),
    udpPort: Number(line.udp.split(':')[1] ?? 0),
    startupMs,
    output: () => output,
    async rssBytes() {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface HttpLoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly total: number;
}

/** Runs autocannon in its own process against `url`. */
export async function runAutocannon(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const child = spawn(
    process.execPath,
    [AUTOCANNON, '-j', '-n', '-c', String(options.connections), '-d', String(options.durationS), '-p', String(options.pipelining), options.url],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const result = JSON.parse(output) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number; max: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/** Where Debian's `wrk` is installed (`apt-get install wrk`); the suite uses it when present. */
export const WRK = '/usr/bin/wrk';

export type LoadGenerator = 'autocannon' | 'wrk';

export interface HttpLoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly pipelining: number;
}

/** Runs the named load generator in its own process against `url`. */
export function runHttpLoad(generator: LoadGenerator, options: HttpLoadOptions): Promise<HttpLoadResult> {
  return generator === 'wrk' ? runWrk(options) : runAutocannon(options);
}

/**
 * Runs wrk with one thread (C, so it leaves the server more of the 2 cores
 * than autocannon does). Pipelining sends `pipelining` requests at once on
 * each connection through a Lua script, as wrk's own pipeline example does.
 */
export async function runWrk(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const script = join(tmpdir(), `consumo-wrk-${process.pid}-${options.pipelining}.lua`);
  await writeFile(
    script,
    `init = function(args)\n  local r = {}\n  for i = 1, ${options.pipelining} do r[i] = wrk.format(nil, nil, nil, nil) end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`,
  );
  const child = spawn(WRK, ['-t1', `-c${options.connections}`, `-d${options.durationS}s`, '--latency', '-s', script, options.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${output}`);
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    // wrk times a pipelined batch by its first answer only: its percentiles mean nothing there.
    p50Ms: options.pipelining === 1 ? wrkLatencyMs(output, '50%') : Number.NaN,
    p99Ms: options.pipelining === 1 ? wrkLatencyMs(output, '99%') : Number.NaN,
    maxMs: wrkDurationMs(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(output)?.[1] ?? '0ms'),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
    errors: socketErrors === null ? 0 : socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0),
    total: number(/(\d+) requests in/),
  };
}

function wrkLatencyMs(output: string, percentile: string): number {
  const match = new RegExp(`^\\s+${percentile}\\s+(\\S+)$`, 'm').exec(output);
  return match === null ? Number.NaN : wrkDurationMs(match[1] as string);
}

/** wrk prints durations as `812.00us`, `1.53ms` or `2.01s`. */
function wrkDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** `median (min-max)` of a series, formatted with `digits` decimals. */
export function spread(values: readonly number[], digits = 0): string {
  const format = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${format(median(values))} (${format(Math.min(...values))}-${format(Math.max(...values))})`;
}

/** The query string a route needs to answer for the preloaded data. */
export function routeTarget(route: string): string {
  return route === '/validacao-usuario' ? `${route}?username=cliente0&matricula=${meterMatricula(0)}` : `${route}?matricula=${meterMatricula(0)}`;
}

/** One option of a bench command: its default and what it means (for `--help`). */
export interface CliOption {
  readonly default: string;
  readonly help: string;
}

/**
 * Parses a bench command's flags (`command`: its npm script, or `node
 * build/bench/<script>.js` for one without): `--help` prints the usage and every
 * option with its default and exits 0; an unknown or malformed flag is one
 * line on stderr and exit 1, never a stack trace.
 */
export function parseCli<K extends string>(command: string, about: string, options: Readonly<Record<K, CliOption>>): Record<K, string> {
  const argv = process.argv.slice(2);
  const names = Object.keys(options) as K[];
  if (argv.includes('--help') || argv.includes('-h')) {
    const width = Math.max(...names.map((name) => name.length)) + 2;
    const rows = names.map((name) => `  --${name.padEnd(width)} ${options[name].help} (default ${options[name].default})`);
    const invocation = command.startsWith('node ') ? command : `npm run ${command} --`;
    process.stdout.write(`usage: ${invocation} [options]\n${about}\n\n${rows.join('\n')}\n`);
    process.exit(0);
  }
  try {
    const spec = Object.fromEntries(names.map((name) => [name, { type: 'string' as const, default: options[name].default }]));
    return parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values as Record<K, string>;
  } catch (error) {
    process.stderr.write(`${command.replace(/^node build\/bench\/(.*)\.js$/, '$1')}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')} (--help shows the options)\n`);
    process.exit(1);
  }
}

/** The `p`-th percentile of sorted values. */
export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/**
 * One meter's reading-to-ACK round trips, a reading every 20 ms for
 * `seconds`, timestamps from `startAt` a millisecond apart; a reading never
 * acknowledged counts as the whole run long. Sorted.
 */
export async function ackRoundTrips(port: number, matricula: string, seconds: number, startAt: number): Promise<number[]> {
  const { createSocket } = await import('node:dgram');
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const sentAt = new Map<string, number>();
  const rtts: number[] = [];
  socket.on('message', (message) => {
    for (const line of message.toString('latin1').split('\n')) {
      const timestamp = line.split(';')[2];
      const at = timestamp === undefined ? undefined : sentAt.get(timestamp);
      if (at !== undefined) {
        rtts.push(performance.now() - at);
        sentAt.delete(timestamp as string);
      }
    }
  });
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const timestamp = new Date(startAt + i).toISOString();
    sentAt.set(timestamp, performance.now());
    socket.send(`MEDICAO;${matricula};${timestamp};${i}`, port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  socket.close();
  for (let i = 0; i < sentAt.size; i++) rtts.push(seconds * 1000);
  return rtts.sort((a, b) => a - b);
}
