/**
 * `node build/bench/pg-admission.js [--leituras 500000] [--medidores 10000] [--rodadas 6]`
 * The PostgreSQL store's admission cost with history: preloads a schema
 * (readings spread over the meters), then appends one reading per meter per
 * round, in store calls of 1,000 (as ingest batches them), and prints each
 * round's time. The first round reads every meter's window; the others show
 * the steady state (with `--aquecer sim`, after reading the windows ahead as
 * a server does at start). DATABASE_URL, or an embedded PostgreSQL.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PostgresStore } from '../database/postgres/postgres-store.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { meterMatricula, parseCli, preloadPostgres } from './lib.js';

const values = parseCli('pg-admission', 'Times store calls into a PostgreSQL schema whose meters already have history.', {
  leituras: { default: '500000', help: 'readings preloaded' },
  medidores: { default: '10000', help: 'meters (each gets one reading per round)' },
  rodadas: { default: '6', help: 'rounds' },
  aquecer: { default: 'nao', help: 'sim: read the windows ahead first (what a server does at start), timed apart' },
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
  const store = await PostgresStore.open({ url, schema, poolMax: 10, statementTimeoutMs: 60_000, connectTimeoutMs: 5000, logger: pino({ level: 'silent' }) });
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
  await store.close();
} finally {
  await embedded?.stop();
  await rm(work, { recursive: true, force: true });
}
