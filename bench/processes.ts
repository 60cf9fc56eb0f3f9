/**
 * `npm run bench:processos [-- --rodadas 2 --duracao 8 --taxa 20000]`
 * PROCESSOS=1 against PROCESSOS=2 on PostgreSQL (DATABASE_URL, or an
 * embedded one), in the same run, alternating: HTTP requests/s on
 * `/medicoes/ultima-medicao` (autocannon, 50 connections) and UDP ingest
 * (the rate acknowledged while sending, and readings lost), then the
 * medians side by side with their ratio.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../database/postgres/embedded.js';
import { median, parseCli, preloadPostgres, routeTarget, runAutocannon, startTarget } from './lib.js';
import { runUdpLoad } from './udp-load.js';

const values = parseCli('bench:processos', 'HTTP and UDP ingest with PROCESSOS=1 and 2 on PostgreSQL, alternating, with ratios.', {
  rodadas: { default: '2', help: 'rounds (each runs both settings)' },
  duracao: { default: '8', help: 'seconds of load per measurement' },
  taxa: { default: '20000', help: 'UDP readings per second offered' },
  conexoes: { default: '50', help: 'HTTP keep-alive connections' },
});
const rounds = Number(values.rodadas);
const durationS = Number(values.duracao);
const rate = Number(values.taxa);
const connections = Number(values.conexoes);

/** Waits until `count` workers logged their start-up line. */
async function workersStarted(output: () => string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (output().split('"consumo-inteligente started"').length - 1 < count) {
    if (Date.now() > deadline) throw new Error(`${count} workers did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const work = await mkdtemp(join(tmpdir(), 'bench-processos-'));
await chmod(work, 0o755);
const embedded = process.env.DATABASE_URL === undefined ? await startEmbeddedPostgres(join(work, 'pg')) : undefined;
const url = process.env.DATABASE_URL ?? (embedded?.url as string);
const results = new Map<number, { http: number[]; p99: number[]; ingest: number[]; lost: number[] }>([
  [1, { http: [], p99: [], ingest: [], lost: [] }],
  [2, { http: [], p99: [], ingest: [], lost: [] }],
]);
try {
  const schema = `processos_${process.pid}`;
  await preloadPostgres(url, schema, { customers: 1000, readings: 50_000, meters: 1000 });
  for (let round = 0; round < rounds; round++) {
    for (const processes of round % 2 === 0 ? [1, 2] : [2, 1]) {
      const figures = results.get(processes)!;
      const target = await startTarget('projeto', { DATA_DIR: join(work, `dados-${round}-${processes}`), STORAGE: 'postgres', DATABASE_URL: url, PG_SCHEMA: schema, PROCESSOS: String(processes) });
      try {
        await workersStarted(target.output, processes);
        const http = await runAutocannon({ url: `http://127.0.0.1:${target.httpPort}${routeTarget('/medicoes/ultima-medicao')}`, connections, durationS, pipelining: 1 });
        figures.http.push(http.requestsPerSecond);
        figures.p99.push(http.p99Ms);
        process.stdout.write(`round ${round + 1}, PROCESSOS=${processes}: HTTP ${Math.round(http.requestsPerSecond)} requests/s, p99 ${http.p99Ms} ms, non-2xx ${http.non2xx}\n`);
      } finally {
        await target.stop();
      }
      const udp = await runUdpLoad({
        dataDir: join(work, `udp-${round}-${processes}`),
        storage: 'postgres',
        databaseUrl: url,
        meters: 10_000,
        rate,
        durationS,
        drainS: 10,
        senders: 1,
        receiveBuffer: 8 * 1024 * 1024,
        serverEnv: { PROCESSOS: String(processes) },
      });
      figures.ingest.push(udp.keptUpRate);
      figures.lost.push(udp.lost);
      process.stdout.write(`round ${round + 1}, PROCESSOS=${processes}: UDP offered ${rate}/s, acknowledged while sending ${Math.round(udp.keptUpRate)}/s, lost ${udp.lost}, acknowledged but missing ${udp.acknowledgedMissing}\n`);
    }
  }
  const one = results.get(1)!;
  const two = results.get(2)!;
  const row = (what: string, a: number, b: number) => `| ${what} | ${Math.round(a)} | ${Math.round(b)} | ${a === 0 ? (b === 0 ? 'equal' : '—') : (b / a).toFixed(2)} |`;
  process.stdout.write(
    [
      '',
      `| medians of ${rounds} | PROCESSOS=1 | PROCESSOS=2 | ratio 2/1 |`,
      '| --- | --- | --- | --- |',
      row('HTTP /medicoes/ultima-medicao, requests/s', median(one.http), median(two.http)),
      row('HTTP p99 latency, ms', median(one.p99), median(two.p99)),
      row(`UDP ingest acknowledged while sending (${rate}/s offered), readings/s`, median(one.ingest), median(two.ingest)),
      row('UDP readings lost', median(one.lost), median(two.lost)),
      '',
    ].join('\n'),
  );
} finally {
  await embedded?.stop();
  await rm(work, { recursive: true, force: true });
}
