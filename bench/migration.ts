/**
 * `npm run bench:migracao`: moves a sizeable installation (1,000 customers,
 * 100,000 readings of 1,000 meters, invoices, events, alerts, commands)
 * from flat files to an embedded PostgreSQL and back with migration.ts, and
 * times each way against reading every aggregate of the source once (the
 * floor a copy cannot beat), printing counts, checksums and ratios. Then
 * imports a readings CSV of `--linhas` lines (10 million by default) into an
 * empty file store and reports its rate and the peak heap.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { AGGREGATES, digests, migrate } from '../database/migration.js';
import { openStore, type OpenedStore } from '../database/open-store.js';
import { importReadingsCsv } from '../database/readings-csv-import.js';
import { startEmbeddedPostgres } from '../database/postgres/embedded.js';
import { READINGS_CSV_HEADER } from '../protocol/readings-csv.js';
import { loadConfig } from '../server/config.js';
import { meterMatricula, parseCli, preloadFiles } from './lib.js';

const values = parseCli('bench:migracao', 'Moves an installation files -> PostgreSQL -> files (counts, checksums, times), then imports a large readings CSV (rate, peak heap).', {
  clientes: { default: '1000', help: 'customers (each with a meter)' },
  leituras: { default: '100000', help: 'readings, spread over the customers\' meters' },
  faturas: { default: '1000', help: 'invoices issued (one per customer)' },
  ocorrencias: { default: '10000', help: 'meter events' },
  linhas: { default: '10000000', help: 'lines of the readings CSV imported (0: skip)' },
});
const whole = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`bench:migracao: --${name} must be a whole number (--help shows the options)\n`);
    process.exit(1);
  }
  return n;
};
const customers = whole('clientes');
const readings = whole('leituras');
const invoices = whole('faturas');
const events = whole('ocorrencias');
const csvLines = whole('linhas');

const logger = pino({ level: 'silent' });
const root = await mkdtemp(join(tmpdir(), 'bench-migracao-'));
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

function table(title: string, reports: Awaited<ReturnType<typeof migrate>>): void {
  process.stdout.write(`${title}\n`);
  for (const r of reports) process.stdout.write(`  ${r.aggregate.padEnd(24)} ${String(r.source.count).padStart(8)} ${r.source.sha256.slice(0, 16)}  ${String(r.target.count).padStart(8)} ${r.target.sha256.slice(0, 16)}  ${r.missing === 0 && r.source.sha256 === r.target.sha256 ? 'ok' : 'DIFFERS'}\n`);
}

try {
  // The installation: the preloaded log and customers, then invoices, events, alerts and commands through the stores.
  const filesDir = join(root, 'arquivos');
  await preloadFiles(filesDir, { customers, readings, meters: customers });
  const config = loadConfig({ DATA_DIR: filesDir, LOG_LEVEL: 'silent' }, []);
  const files = await openStore(config, logger);
  const now = Date.now();
  for (let i = 0; i < invoices; i++) await files.invoices.issue(meterMatricula(i % customers), '2026-10', async () => () => `{"total":${(i % 500) + 10.25},"itens":[]}`, new Date(now - 1000 + i));
  const eventTypes = ['falta_energia', 'retorno_energia', 'violacao_tampa'] as const;
  for (let start = 0; start < events; start += 1000) {
    await files.events.append(Array.from({ length: Math.min(1000, events - start) }, (_, k) => {
      const i = start + k;
      return { matricula: meterMatricula(i % customers), timestamp: now - 86_400_000 + i * 1000, type: eventTypes[i % 3] as (typeof eventTypes)[number], detail: 'último suspiro', receivedAt: now - 86_400_000 + i * 1000 + 5, delivery: 'desativada' as const, deliveryAttempts: 0 };
    }));
  }
  for (let i = 0; i < 100; i++) await files.alerts.raise({ id: `alerta-${i}`, matricula: meterMatricula(i), kind: 'falta_energia', key: 'falta_energia', state: 'ativo', detail: 'Falta de energia', raisedAt: now - i * 1000, acknowledgedBy: null, acknowledgedAt: null, closedAt: null, delivery: 'desativada', deliveryAttempts: 0 });
  await files.store.close();

  // A directory of its own: as root, PostgreSQL's user must reach it (startEmbeddedPostgres opens it up).
  const pgRoot = await mkdtemp(join(tmpdir(), 'bench-migracao-pg-'));
  const pg = await startEmbeddedPostgres(pgRoot);
  try {
    const pgConfig = loadConfig({ DATA_DIR: join(root, 'pg-data'), STORAGE: 'postgres', DATABASE_URL: pg.url, PG_SCHEMA: 'destino', LOG_LEVEL: 'silent' }, []);
    const open = (settings: Parameters<typeof openStore>[0]): Promise<OpenedStore> => openStore(settings, logger);

    // The floor: reading every aggregate of the source once.
    const source = await open(config);
    const floor = await timed(() => digests(source));
    const target = await open(pgConfig);
    const there = await timed(() => migrate(source, target, { merge: false }));
    await Promise.all([source.store.close(), target.store.close()]);

    const backConfig = loadConfig({ DATA_DIR: join(root, 'de-volta'), LOG_LEVEL: 'silent' }, []);
    const fromPg = await open(pgConfig);
    const pgFloor = await timed(() => digests(fromPg));
    const back = await open(backConfig);
    const returned = await timed(() => migrate(fromPg, back, { merge: false }));
    await Promise.all([fromPg.store.close(), back.store.close()]);

    const counts = Object.fromEntries(floor.value);
    process.stdout.write(`installation: ${AGGREGATES.map((a) => `${a} ${counts[a]?.count ?? 0}`).join(', ')}\n`);
    table(`files -> PostgreSQL: ${seconds(there.ms)} s (reading the source whole once: ${seconds(floor.ms)} s; ratio ${(there.ms / floor.ms).toFixed(1)})`, there.value);
    table(`PostgreSQL -> files: ${seconds(returned.ms)} s (reading the source whole once: ${seconds(pgFloor.ms)} s; ratio ${(returned.ms / pgFloor.ms).toFixed(1)})`, returned.value);
  } finally {
    await pg.stop();
    await rm(pgRoot, { recursive: true, force: true });
  }

  if (csvLines > 0) {
    const csv = join(root, 'medicoes.csv');
    const out = createWriteStream(csv);
    out.write(`${READINGS_CSV_HEADER}\r\n`);
    const meters = 10_000;
    const perMeter = Math.ceil(csvLines / meters);
    const start = Date.now() - perMeter * 900_000 - 86_400_000;
    let written = 0;
    for (let m = 0; m < meters && written < csvLines; m++) {
      let text = '';
      // Newest first, as the export writes it: the import reads the file from its end.
      for (let i = Math.min(perMeter, csvLines - written) - 1; i >= 0; i--) text += `${new Date(start + i * 900_000).toISOString()},${9_000_000 + m},${(i * 0.25).toFixed(2)},127.4,3.1,0.39,0.93,60.01,valida\r\n`;
      written += Math.min(perMeter, csvLines - written);
      if (!out.write(text)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const bytes = (await stat(csv)).size;
    const store = await openStore(loadConfig({ DATA_DIR: join(root, 'csv-alvo'), LOG_LEVEL: 'silent', MEDICAO_IDADE_MAXIMA_DIAS: '36500' }, []), logger);
    let peakHeap = 0;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
    const imported = await timed(() => importReadingsCsv(store.store, csv, { now: Date.now(), timestampRules: { maxAheadMs: 300_000, maxAgeMs: 36_500 * 86_400_000 } }));
    clearInterval(sampler);
    await store.store.close();
    process.stdout.write(
      `readings CSV: ${written} lines (${(bytes / 2 ** 20).toFixed(0)} MiB, ${meters} meters, newest first) in ${seconds(imported.ms)} s, ${Math.round(written / (imported.ms / 1000))} lines/s; stored ${imported.value.outcomes.stored ?? 0}; peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB\n`,
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
