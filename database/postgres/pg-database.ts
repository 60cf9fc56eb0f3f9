/**
 * One PostgreSQL database as every PostgreSQL store uses it: the pool (with
 * its timeouts and search_path), the migrations applied at open, the change
 * feed to the other servers on the same schema, transactions, and the one
 * mapping of "the database cannot serve now" to StoreError UNAVAILABLE. Each
 * aggregate's store takes this handle; none depends on another store.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { StoreError } from '../store.js';
import { migrate, quoteIdentifier } from './migrate.js';
import { PgChangeFeed } from './pg-change-feed.js';

export interface PgDatabaseOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** How long start-up keeps trying to reach the database. */
  readonly startupTimeoutMs?: number;
}

/** A pool's connections now: its bound, open, in use, and callers waiting for one. */
export interface PoolUsage {
  readonly max: number;
  readonly total: number;
  readonly busy: number;
  readonly waiting: number;
}

const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
const STARTUP_RETRY_MS = 1000;
/** SQLSTATE classes that mean "the database cannot serve now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53', '57'];
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Errors from the network, the pool or an overloaded/restarting server become StoreError UNAVAILABLE; others are bugs. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const sqlstate = typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
  if (sqlstate !== undefined && !UNAVAILABLE_SQLSTATE_CLASSES.includes(sqlstate.slice(0, 2))) return error;
  return new StoreError('UNAVAILABLE', `PostgreSQL unavailable: ${(error as Error).message}`, { cause: error });
}

/**
 * A statement of constant text run on the hot paths (a meter's newest rows,
 * a batch's insert): each pool connection parses and plans it once, then
 * only binds values (`pg`'s named statements). Planning a query over the
 * partitioned `medicoes` cost more CPU than running it (bench/RESULTS.md
 * section 17). Only for constant text: a connection keeps every statement
 * it prepared for as long as it lives.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

let preparedCount = 0;

/** Names a statement of constant text for preparation (see PreparedStatement). */
export function prepared(text: string): PreparedStatement {
  return Object.freeze({ name: `consumo_${++preparedCount}`, text });
}

export class PgDatabase {
  /** What this database's stores write, told to the other servers on the same schema (and theirs to them). */
  readonly changes: PgChangeFeed;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    /** The migrations this open applied (empty when the schema was up to date). */
    readonly appliedMigrations: readonly number[],
    options: PgDatabaseOptions,
  ) {
    this.changes = new PgChangeFeed({ url: options.url, schema: options.schema, connectTimeoutMs: options.connectTimeoutMs, logger: options.logger, run: (text, values) => this.run(text, values) });
  }

  /** Connects (retrying for `startupTimeoutMs` while the database cannot serve) and applies the migrations. */
  static async open(options: PgDatabaseOptions): Promise<PgDatabase> {
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
    // Expected when the server restarts or shuts down (57P01): one line, the code and the message, no stack.
    pool.on('error', (error) => options.logger.warn({ code: (error as { code?: string }).code, reason: error.message }, 'idle PostgreSQL connection lost'));
    const deadline = Date.now() + (options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
    for (;;) {
      try {
        const applied = await migrate(pool, options.schema);
        if (applied.length > 0) options.logger.info({ schema: options.schema, versions: applied }, 'applied database migrations');
        return new PgDatabase(pool, applied, options);
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

  /**
   * Runs `work` in one transaction on one connection of the pool
   * (every PostgreSQL store shares it); errors that mean
   * "the database cannot serve now" become StoreError UNAVAILABLE.
   */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withConnection(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A ROLLBACK that fails throws instead: the connection is then dropped (withConnection).
        await client.query('ROLLBACK');
        throw error;
      }
    });
  }

  /**
   * Runs `work` on one connection of the pool, outside any transaction it
   * does not open itself (errors mapped as in {@link transaction}). The
   * connection goes back to the pool after an error PostgreSQL answered
   * with (it has a SQLSTATE); after any other (a lost connection) it is
   * dropped.
   */
  async withConnection<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
    let broken = false;
    try {
      return await work(client);
    } catch (error) {
      broken = typeof (error as { code?: unknown }).code !== 'string' || !SQLSTATE.test((error as { code: string }).code);
      throw toStoreError(error);
    } finally {
      client.release(broken);
    }
  }

  /** One statement on the pool, with errors mapped as in {@link transaction}; a {@link PreparedStatement} is parsed and planned once per connection. */
  async run<R extends pg.QueryResultRow>(statement: string | PreparedStatement, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    return this.query<R>(statement, values);
  }

  private async query<R extends pg.QueryResultRow>(statement: string | PreparedStatement, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await (typeof statement === 'string' ? this.pool.query<R>(statement, values) : this.pool.query<R>({ name: statement.name, text: statement.text, values }));
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** The pool's connections now. */
  poolUsage(): PoolUsage {
    return { max: this.pool.options.max ?? 10, total: this.pool.totalCount, busy: this.pool.totalCount - this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /** Stops the change feed and ends the pool; later calls fail with StoreError CLOSED. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.changes.close();
      await this.pool.end();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new StoreError('CLOSED', 'the store is closed');
  }
}
