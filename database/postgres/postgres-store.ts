/**
 * The PostgreSQL backend, through `pg`. Stateless: several server processes
 * can share one database. Readings are group-committed (one INSERT per
 * batch, durable when it returns); routes read only the few newest rows of
 * one meter through the primary-key index.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { parseCustomerFile } from '../../protocol/customer-format.js';
import { formatRegister, parseDecimal, REGISTER_SCALE } from '../../protocol/decimal.js';
import type { Reading } from '../../protocol/meter-protocol.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { GroupCommit } from '../group-commit.js';
import {
  RECENT_READINGS_LIMIT,
  StoreError,
  type AddCustomersResult,
  type AppendResult,
  type Customer,
  type CustomerQuery,
  type HistoryQuery,
  type Store,
  type StoreStats,
} from '../store.js';
import { migrate, quoteIdentifier } from './migrate.js';

export interface PostgresStoreOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** Copied into `clientes` when this start created the schema. */
  readonly seedCustomersFile?: string | undefined;
  /** How long start-up keeps trying to reach the database. */
  readonly startupTimeoutMs?: number;
}

/** The query behind every route: the newest rows of one meter, by backward scan of the primary key. */
export const RECENT_READINGS_SQL = 'SELECT data_hora, consumo::text AS consumo FROM medicoes WHERE matricula = $1 ORDER BY data_hora DESC LIMIT $2';

/** One page of a meter's history, newest first, through the primary key; the next page starts below its oldest row. */
const HISTORY_PAGE_SQL =
  'SELECT data_hora, consumo::text AS consumo FROM medicoes WHERE matricula = $1 AND data_hora >= $2 AND data_hora < $3 ORDER BY data_hora DESC LIMIT $4';
/** The latest instant a JavaScript Date holds. */
const MAX_DATE_MILLIS = 8.64e15;
/** Rows per history page: big enough to amortise a round trip, small enough to keep memory flat. */
export const HISTORY_PAGE_ROWS = 5000;

/**
 * Stores a batch in one statement: only readings newer than the newest
 * stored for their meter (the primary key stops exact copies even across
 * servers), and answers what was inserted and each meter's newest reading.
 */
const INSERT_BATCH_SQL = `
WITH v AS (
  SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::numeric[]) AS v(matricula, data_hora, consumo)
), ins AS (
  INSERT INTO medicoes (matricula, data_hora, consumo)
  SELECT v.matricula, v.data_hora, v.consumo FROM v
  WHERE v.data_hora > COALESCE((SELECT max(m.data_hora) FROM medicoes m WHERE m.matricula = v.matricula), '-infinity')
  ON CONFLICT DO NOTHING
  RETURNING matricula, data_hora
)
SELECT true AS inserted, matricula, data_hora FROM ins
UNION ALL
SELECT false, d.matricula, (SELECT max(m.data_hora) FROM medicoes m WHERE m.matricula = d.matricula) FROM (SELECT DISTINCT matricula FROM v) d`;

/** What the `consumo numeric(18, 3)` column can hold. */
const NUMERIC_LIMITS = { scale: REGISTER_SCALE, maxSignificantDigits: 18 };
const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
const STARTUP_RETRY_MS = 1000;
/** SQLSTATE classes that mean "the database cannot serve now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53', '57'];

interface BatchResult {
  /** `matricula@timestamp` of every row inserted. */
  readonly inserted: ReadonlySet<string>;
  /** Newest stored timestamp per matricula of the batch. */
  readonly newest: ReadonlyMap<string, number>;
}

const key = (matricula: string, timestamp: number): string => `${matricula}@${timestamp}`;

/** Errors from the network, the pool or an overloaded/restarting server become StoreError UNAVAILABLE; others are bugs. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (sqlstate !== undefined && !UNAVAILABLE_SQLSTATE_CLASSES.includes(sqlstate.slice(0, 2))) return error;
  return new StoreError('UNAVAILABLE', `PostgreSQL unavailable: ${(error as Error).message}`, { cause: error });
}

export class PostgresStore implements Store {
  readonly appliedMigrations: readonly number[];
  private readonly pool: pg.Pool;
  private readonly writer: GroupCommit<Reading, BatchResult>;
  private closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool, appliedMigrations: number[]) {
    this.pool = pool;
    this.appliedMigrations = appliedMigrations;
    this.writer = new GroupCommit<Reading, BatchResult>({
      commit: (readings) => this.insertBatch(readings),
      onFailure: (_readings, error) => toStoreError(error),
    });
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      // Bounds a query on a connection whose server froze (statement_timeout cannot fire there).
      query_timeout: options.statementTimeoutMs + options.connectTimeoutMs,
      options: `-c search_path=${quoteIdentifier(options.schema)}`,
      application_name: 'consumo-inteligente',
    });
    // An idle client whose connection dies is dropped by the pool; without a listener it would crash the process.
    pool.on('error', (error) => options.logger.warn({ err: error }, 'idle PostgreSQL connection lost'));
    const deadline = Date.now() + (options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
    for (;;) {
      try {
        const applied = await migrate(pool, options.schema);
        const store = new PostgresStore(pool, applied);
        if (applied.includes(1) && options.seedCustomersFile !== undefined) {
          const seeded = await store.addCustomers(parseCustomerFile(await readFile(options.seedCustomersFile, 'utf8')).customers);
          options.logger.info({ customers: seeded.added, from: options.seedCustomersFile }, 'seeded customers table');
        }
        if (applied.length > 0) options.logger.info({ schema: options.schema, versions: applied }, 'applied database migrations');
        return store;
      } catch (error) {
        const mapped = toStoreError(error);
        if (!(mapped instanceof StoreError) || Date.now() + STARTUP_RETRY_MS > deadline) {
          await pool.end().catch(() => undefined);
          throw mapped;
        }
        options.logger.warn({ err: (error as Error).message }, 'PostgreSQL not reachable yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, STARTUP_RETRY_MS));
      }
    }
  }

  async append(readings: readonly Reading[]): Promise<AppendResult> {
    this.assertOpen();
    // PostgreSQL keeps no per-meter state in this process: no meter limit applies, nothing is refused.
    if (readings.length === 0) return { stored: 0, duplicates: 0, refused: 0, newest: new Map() };
    for (const reading of readings) this.writer.enqueue(reading);
    const batch = (await this.writer.flushed()) as BatchResult;
    let stored = 0;
    const counted = new Set<string>();
    const newest = new Map<string, number>();
    for (const reading of readings) {
      const readingKey = key(reading.matricula, reading.timestamp);
      if (batch.inserted.has(readingKey) && !counted.has(readingKey)) {
        counted.add(readingKey);
        stored++;
      }
      const timestamp = batch.newest.get(reading.matricula);
      if (timestamp !== undefined) newest.set(reading.matricula, timestamp);
    }
    return { stored, duplicates: readings.length - stored, refused: 0, newest };
  }

  async recentReadings(matricula: string, count: number): Promise<Reading[]> {
    this.assertOpen();
    if (!Number.isInteger(count) || count < 1 || count > RECENT_READINGS_LIMIT) throw new RangeError(`count must be 1 to ${RECENT_READINGS_LIMIT}`);
    const { rows } = await this.query<{ data_hora: Date; consumo: string }>(RECENT_READINGS_SQL, [matricula, count]);
    return rows.map((row) => ({ matricula, timestamp: row.data_hora.getTime(), consumo: parseDecimal(row.consumo, NUMERIC_LIMITS) as bigint }));
  }

  async *history(query: HistoryQuery): AsyncGenerator<Reading[]> {
    const { matricula } = query;
    // Within what a Date (and timestamptz) holds; no reading is older than 1970.
    const from = Math.max(query.from, 0);
    let to = Math.min(query.to, MAX_DATE_MILLIS);
    for (;;) {
      this.assertOpen();
      const { rows } = await this.query<{ data_hora: Date; consumo: string }>(HISTORY_PAGE_SQL, [matricula, new Date(from), new Date(to), HISTORY_PAGE_ROWS]);
      if (rows.length === 0) return;
      const page = rows.map((row) => ({ matricula, timestamp: row.data_hora.getTime(), consumo: parseDecimal(row.consumo, NUMERIC_LIMITS) as bigint }));
      yield page;
      if (rows.length < HISTORY_PAGE_ROWS) return;
      to = (page[page.length - 1] as Reading).timestamp;
    }
  }

  async findCustomers(query: CustomerQuery): Promise<Customer[]> {
    this.assertOpen();
    const conditions: string[] = [];
    const values: string[] = [];
    for (const column of ['username', 'matricula'] as const) {
      const value = query[column];
      if (value === undefined) continue;
      values.push(value);
      conditions.push(`${column} = $${values.length}`);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const page = `OFFSET ${Math.max(0, Math.floor(query.offset ?? 0))}${query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`}`;
    return (await this.query<Customer>(`SELECT username, matricula FROM clientes ${where} ORDER BY id ${page}`, values)).rows;
  }

  async addCustomers(customers: readonly Customer[]): Promise<AddCustomersResult> {
    this.assertOpen();
    if (customers.length === 0) return { added: 0, skipped: [] };
    const { rows } = await this.query<Customer>(
      `INSERT INTO clientes (username, matricula)
       SELECT c.username, c.matricula FROM unnest($1::text[], $2::varchar[]) WITH ORDINALITY AS c(username, matricula, n) ORDER BY c.n
       ON CONFLICT DO NOTHING RETURNING username, matricula`,
      [customers.map((c) => c.username), customers.map((c) => c.matricula)],
    );
    const inserted = new Set(rows.map((row) => `${row.username};${row.matricula}`));
    const skipped: Customer[] = [];
    for (const customer of customers) {
      const customerKey = `${customer.username};${customer.matricula}`;
      if (inserted.has(customerKey)) inserted.delete(customerKey);
      else skipped.push(customer);
    }
    return { added: customers.length - skipped.length, skipped };
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const { rows } = await this.query<{ customers: string; meters: string; readings: string }>(
      'SELECT (SELECT count(*) FROM clientes) AS customers, (SELECT count(DISTINCT matricula) FROM medicoes) AS meters, (SELECT count(*) FROM medicoes) AS readings',
    );
    const row = rows[0] as { customers: string; meters: string; readings: string };
    return { customers: Number(row.customers), meters: Number(row.meters), readings: Number(row.readings) };
  }

  async health(): Promise<void> {
    this.assertOpen();
    await this.query('SELECT 1');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.writer.flushed().catch(() => undefined);
      await this.pool.end();
    })();
    return this.closing;
  }

  private async insertBatch(readings: readonly Reading[]): Promise<BatchResult> {
    // Within a batch a meter's readings must rise too: later copies and late readings are duplicates.
    const newestInBatch = new Map<string, number>();
    const rising = readings.filter((reading) => {
      const previous = newestInBatch.get(reading.matricula);
      if (previous !== undefined && reading.timestamp <= previous) return false;
      newestInBatch.set(reading.matricula, reading.timestamp);
      return true;
    });
    const { rows } = await this.query<{ inserted: boolean; matricula: string; data_hora: Date | null }>(INSERT_BATCH_SQL, [
      rising.map((r) => r.matricula),
      rising.map((r) => formatIsoTimestamp(r.timestamp)),
      rising.map((r) => formatRegister(r.consumo)),
    ]);
    const inserted = new Set<string>();
    const newest = new Map<string, number>();
    const remember = (matricula: string, timestamp: number): void => {
      if (timestamp > (newest.get(matricula) ?? Number.NEGATIVE_INFINITY)) newest.set(matricula, timestamp);
    };
    for (const row of rows) {
      if (row.data_hora === null) continue;
      if (row.inserted) inserted.add(key(row.matricula, row.data_hora.getTime()));
      remember(row.matricula, row.data_hora.getTime());
    }
    // A reading neither inserted nor covered was inserted meanwhile by another server: ON CONFLICT
    // waited for its commit, which the statement's snapshot cannot see. Ask again, in a new snapshot.
    const unresolved = new Set(rising.filter((r) => !inserted.has(key(r.matricula, r.timestamp)) && r.timestamp > (newest.get(r.matricula) ?? Number.NEGATIVE_INFINITY)).map((r) => r.matricula));
    if (unresolved.size > 0) {
      const { rows: latest } = await this.query<{ matricula: string; data_hora: Date }>(
        'SELECT matricula, max(data_hora) AS data_hora FROM medicoes WHERE matricula = ANY($1::varchar[]) GROUP BY matricula',
        [[...unresolved]],
      );
      for (const row of latest) remember(row.matricula, row.data_hora.getTime());
    }
    return { inserted, newest };
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new StoreError('CLOSED', 'the store is closed');
  }
}
