/**
 * `node build/bench/pg-admission.js [--leituras 500000] [--medidores 10000] [--rodadas 6]`
 * The PostgreSQL store's admission cost with history: preloads a schema
 * (readings spread over the meters), then appends one reading per meter per
 * round, in store calls of 1,000 (as ingest batches them), and prints each
 * round's time. The first round reads every meter's window; the others show
 * the steady state (with `--aquecer sim`, after reading the windows ahead as
 * a server does at start; with `--meses N`, over N past months of
 * partitions), and a route's query for 2,000 meters. DATABASE_URL, or an
 * embedded PostgreSQL.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import pg from 'pg';
import { quoteIdentifier } from '../database/postgres/migrate.js';
import { maintainPartitions } from '../database/postgres/partitions.js';
import { PostgresStore } from '../database/postgres/postgres-store.js';
import { startEmbeddedPostgres } from '../database/postgres/embedded.js';
import { meterMatricula, parseCli, preloadPostgres } from './lib.js';

const values = parseCli('node build/bench/pg-admission.js', 'Times store calls into a PostgreSQL schema whose meters already have history.', {
  leituras: { default: '500000', help: 'readings preloaded' },
  medidores: { default: '10000', help: 'meters (each gets one reading per round)' },
  rodadas: { default: '6', help: 'rounds' },
  aquecer: { default: 'nao', help: 'sim: read the windows ahead first (what a server does at start), timed apart' },
  meses: { default: '0', help: 'past months that have partitions (a long-kept history: one reading each, for another meter)' },
});
const readings = Number(values.leituras);
const meters = Number(values.medidores);
const rounds = Number(values.rodadas);
const BATCH = 1000;

const work = await mkdtemp(join(tmpdir(), 'pg-admissao-'));
// The embedded server may run as another user (postgres, when this runs as root): it must reach its directory.
await chmod(work, 0o755);
const embedded = process.env.DATABASE_URL === undefined ? await startEmbeddedPostgres(join(work, 'pg')) : undefined;
const url = process.env.DATABASE_URL ?? (embedded?.url as string);
try {
  const schema = `admissao_${process.pid}`;
  await preloadPostgres(url, schema, { customers: meters, readings, meters });
  const pastMonths = Number(values.meses);
  if (pastMonths > 0) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `INSERT INTO ${quoteIdentifier(schema)}.medicoes (matricula, data_hora, consumo) SELECT '99999999', date_trunc('month', now()) - make_interval(months => m) + interval '1 day', m FROM generate_series(1, $1::int) m`,
      [pastMonths],
    );
    await client.end();
  }
  const store = await PostgresStore.open({ url, schema, poolMax: 10, statementTimeoutMs: 60_000, connectTimeoutMs: 5000, logger: pino({ level: 'silent' }) });
  const { created } = await maintainPartitions(store.db, Date.now(), 0, undefined);
  process.stdout.write(`partitions made by the maintenance pass: ${created.length}\n`);
  if (values.aquecer === 'sim') {
    const began = performance.now();
    const warmed = await store.warmWindows();
    process.stdout.write(`windows read ahead: ${warmed} meters in ${Math.round(performance.now() - began)} ms\n`);
  }
  const start = Date.now();
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const batch = Array.from({ length: meters }, (_, i) => ({ matricula: meterMatricula(i), timestamp: start + round * 1000, consumo: BigInt(10_000_000 + round * 10) }));
    for (let at = 0; at < batch.length; at += BATCH) await store.append(batch.slice(at, at + BATCH));
    process.stdout.write(`round ${round + 1}: ${Math.round(performance.now() - started)} ms for ${meters} readings\n`);
  }
  const began = performance.now();
  for (let i = 0; i < 2000; i++) await store.recentReadings(meterMatricula(i), 5);
  process.stdout.write(`2,000 recentReadings (a route's query): ${Math.round(performance.now() - began)} ms\n`);
  await store.close();
} finally {
  await embedded?.stop();
  await rm(work, { recursive: true, force: true });
}
