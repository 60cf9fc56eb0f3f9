/** The UDP ingest load run shared by `load:udp` and the benchmark suite. */
import { fork, spawn } from 'node:child_process';
import { cSender } from './c-sender.js';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readLog } from '../database/file/readings-log.js';
import { quoteIdentifier } from '../database/postgres/migrate.js';
import { startTarget } from './lib.js';
import type { SenderReport } from './udp-sender.js';

const SENDER = fileURLToPath(new URL('./udp-sender.js', import.meta.url));

export interface UdpLoadOptions {
  readonly dataDir: string;
  readonly storage: 'arquivos' | 'postgres';
  readonly meters: number;
  /** Readings per second, all senders together. */
  readonly rate: number;
  readonly durationS: number;
  readonly drainS: number;
  readonly senders: number;
  readonly receiveBuffer: number;
  /** PostgreSQL to ingest into; DATABASE_URL when not given. */
  readonly databaseUrl?: string;
  /** An existing schema to ingest into (PostgreSQL), e.g. a preloaded one. */
  readonly schema?: string;
  /** Extra node flags for the server, e.g. `--cpu-prof` to profile it. */
  readonly serverNodeArgs?: readonly string[];
  /** Hostile datagrams per second sent meanwhile by another process (random bytes, malformed readings). */
  readonly garbageRate?: number;
  /** More settings for the server, e.g. PROCESSOS. */
  readonly serverEnv?: Readonly<Record<string, string>>;
  /** Another build's server (its `server/main.js`), for before-and-after runs; this build's when absent. */
  readonly serverMain?: string;
  /** The meters' sender: `c` (bench/udp-sender.c, compiled on first use; the default when a C compiler is installed) or `node`. */
  readonly sender?: 'c' | 'node';
}

export interface UdpLoadResult {
  readonly meters: number;
  readonly targetRate: number;
  readonly durationS: number;
  readonly storage: string;
  readonly receiveBufferBytes: number;
  readonly sent: number;
  readonly sentRate: number;
  readonly acknowledged: number;
  readonly acknowledgedWhileSending: number;
  /** Readings acknowledged during the sending phase, per second: the rate the server kept up with. */
  readonly keptUpRate: number;
  readonly stored: number;
  readonly lost: number;
  readonly acknowledgedMissing: number;
  readonly serverRssBytes: number;
  /** Hostile datagrams sent meanwhile. */
  readonly garbageSent: number;
  /** The server's ingest counters as it logged them when stopped. */
  readonly serverCounters: Record<string, number> | undefined;
  /** Which sender ran: `c` or `node`. */
  readonly sender: 'c' | 'node';
}

/** Runs one sender of meters (C or Node) and resolves with its report. */
function runSender(binary: string | undefined, args: readonly string[]): Promise<SenderReport> {
  if (binary === undefined) {
    const child = fork(SENDER, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return once(child, 'message').then(([report]) => report as SenderReport);
  }
  const child = spawn(binary, [...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  return once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`the C sender exited with ${String(code)}`);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as SenderReport;
  });
}

/** Timestamps stored per matricula. */
async function storedReadings(options: UdpLoadOptions, env: Record<string, string>): Promise<Map<string, Set<number>>> {
  const stored = new Map<string, Set<number>>();
  const add = (matricula: string, timestamp: number): void => {
    let set = stored.get(matricula);
    if (set === undefined) stored.set(matricula, (set = new Set()));
    set.add(timestamp);
  };
  if (options.storage === 'postgres') {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ matricula: string; data_hora: Date }>(`SELECT matricula, data_hora FROM ${quoteIdentifier(env.PG_SCHEMA as string)}.medicoes`);
    for (const row of rows) add(row.matricula, row.data_hora.getTime());
    await client.end();
  } else {
    for await (const entries of readLog(`${options.dataDir}/medicoes.log`)) {
      for (const entry of entries) if (entry.kind === 'reading') add(entry.reading.matricula, entry.reading.timestamp);
    }
  }
  return stored;
}

export async function runUdpLoad(options: UdpLoadOptions): Promise<UdpLoadResult> {
  const env: Record<string, string> = { DATA_DIR: options.dataDir, UDP_BUFFER_RECEPCAO: String(options.receiveBuffer), LOG_LEVEL: 'warn', ...options.serverEnv };
  if (options.storage === 'postgres') {
    const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
    if (databaseUrl === undefined) throw new Error('--storage postgres needs DATABASE_URL');
    Object.assign(env, { STORAGE: 'postgres', DATABASE_URL: databaseUrl, PG_SCHEMA: options.schema ?? `carga_udp_${process.pid}_${Date.now()}` });
  }
  const binary = options.sender === 'node' ? undefined : cSender();
  const target = await startTarget('projeto', env, options.serverNodeArgs, options.serverMain);
  const granted = Number(/"udpReceiveBufferBytes":(\d+)/.exec(target.output())?.[1] ?? 0);
  let reports: SenderReport[];
  let rss = 0;
  try {
    const perSender = Math.ceil(options.meters / options.senders);
    const senders = Array.from({ length: options.senders }, (_, s) => {
      const first = s * perSender;
      const count = Math.min(perSender, options.meters - first);
      return runSender(binary, ['127.0.0.1', String(target.udpPort), String(first), String(count), String(options.rate / options.senders), String(options.durationS), String(options.drainS)]);
    });
    const garbageRate = options.garbageRate ?? 0;
    // Hostile datagrams come from the Node sender (its garbage mode) either way.
    if (garbageRate > 0) senders.push(runSender(undefined, ['127.0.0.1', String(target.udpPort), '0', '1', String(garbageRate), String(options.durationS), '0', 'garbage']));
    const sampler = setInterval(() => void target.rssBytes().then((bytes) => (rss = Math.max(rss, bytes))), 500);
    try {
      reports = await Promise.all(senders);
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await target.stop();
  }
  const garbageReport = (options.garbageRate ?? 0) > 0 ? reports.pop() : undefined;
  const stoppedLine = target.output().split('\n').find((line) => line.includes('"msg":"stopped"'));
  const serverCounters = stoppedLine === undefined ? undefined : (JSON.parse(stoppedLine) as { ingest: Record<string, number> }).ingest;
  const stored = await storedReadings(options, env);
  let produced = 0;
  let storedCount = 0;
  let acknowledgedMissing = 0;
  for (const report of reports) {
    for (const [matricula, timestamps] of Object.entries(report.produced)) {
      const set = stored.get(matricula);
      const acked = report.acks[matricula] ?? Number.NEGATIVE_INFINITY;
      for (const timestamp of timestamps) {
        produced++;
        if (set?.has(timestamp) === true) storedCount++;
        else if (timestamp <= acked) acknowledgedMissing++;
      }
    }
  }
  const sent = reports.reduce((sum, r) => sum + r.sent, 0);
  const acknowledged = reports.reduce((sum, r) => sum + r.acknowledged, 0);
  const acknowledgedWhileSending = reports.reduce((sum, r) => sum + r.acknowledgedWhileSending, 0);
  return {
    meters: options.meters,
    targetRate: options.rate,
    durationS: options.durationS,
    storage: options.storage,
    receiveBufferBytes: granted,
    sent,
    sentRate: sent / options.durationS,
    acknowledged,
    acknowledgedWhileSending,
    keptUpRate: acknowledgedWhileSending / options.durationS,
    stored: storedCount,
    lost: produced - storedCount,
    acknowledgedMissing,
    serverRssBytes: rss,
    garbageSent: garbageReport?.sent ?? 0,
    serverCounters,
    sender: binary === undefined ? 'node' : 'c',
  };
}
