/**
 * The PostgreSQL backend, through `pg`. Stateless: several server processes
 * can share one database. Readings are group-committed (one INSERT per
 * batch, durable when it returns); routes read only the few newest rows of
 * one meter through the primary-key index.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { parseCustomerFile } from '../../protocol/customer-format.js';
import { formatDecimal, formatRegister, parseDecimal, REGISTER_SCALE } from '../../protocol/decimal.js';
import { QUANTITIES, QUANTITY_SCALE } from '../../protocol/quantities.js';
import type { Reading } from '../../protocol/meter-protocol.js';
import { formatIsoTimestamp, localDay, wallClockInstant } from '../../protocol/timestamp.js';
import { nextPeriodStart, periodStart } from '../../domain/readings/periods.js';
import { GroupCommit } from '../group-commit.js';
import { LATE_WINDOW_READINGS, MeterWindow, OPEN_ADMISSION, registerNumber, tallyOutcomes, type AdmissionRules, type ReadingOutcome } from '../../domain/readings/admission.js';
import { formatQuality, parseQuality, VALID, type QualityMask } from '../../domain/readings/quality.js';
import {
  checkRecentCount,
  FLEET_BATCH_METERS,
  StoreError,
  type AddCustomersResult,
  type AppendResult,
  type Customer,
  type CustomerQuery,
  type DayRollup,
  type HistoryQuery,
  type HourRollup,
  type Store,
  type StoreStats,
  type StoredReading,
} from '../store.js';
import { PgDatabase, prepared, toStoreError, type PgDatabaseOptions, type PreparedStatement } from './pg-database.js';
import { monthOf, monthSpan } from './partitions.js';
import { DAY_OF_HOUR_SQL, DAYS_FROM_HOURS_SQL, mergeRollupSql, ROLLUP_OF_READINGS_SQL } from './rollup-sql.js';
import type { CredentialStore } from '../credential-store.js';

export interface PostgresStoreOptions extends PgDatabaseOptions {
  /** Copied into `clientes` when this start created the schema. */
  readonly seedCustomersFile?: string | undefined;
  /** Which readings are admitted (domain/readings/admission.ts); all but copies and too-late ones when absent. */
  readonly admission?: AdmissionRules | undefined;
  /** The time zone of the daily rollups' days (Store.dayZone; UTC when absent). */
  readonly dayZone?: string | undefined;
}

/** The columns of a reading as text (exact decimals), in the shape {@link readingOfRow} reads. */
const READING_COLUMNS = readingColumns('');
/**
 * The query behind every route: the newest rows of one meter since `$3`, by
 * backward scans of the primary key of the monthly partitions from `$3` on
 * (the older ones are pruned, so the cost does not grow with the months
 * kept); `RECENT_READINGS_ANY_SQL` when a meter has too few since then.
 */
export const RECENT_READINGS_SQL = `SELECT data_hora, ${READING_COLUMNS} FROM medicoes WHERE matricula = $1 AND data_hora >= $3 ORDER BY data_hora DESC LIMIT $2`;
const RECENT_READINGS_ANY_SQL = prepared(`SELECT data_hora, ${READING_COLUMNS} FROM medicoes WHERE matricula = $1 ORDER BY data_hora DESC LIMIT $2`);
/** A route's question about one meter, asked per request: prepared (planning it over the partitions cost more than running it); the batch statements below are planned per batch, for the batch's size. */
const RECENT_READINGS = prepared(RECENT_READINGS_SQL);

/**
 * Where the queries for a meter's newest rows look first: the start of the
 * previous calendar month (UTC), so they read this month's and last month's
 * partitions (and the ones ahead and the default, empty or nearly) whatever
 * the months kept; a meter with fewer rows since then is read again over all.
 */
export function recentSince(now: number): Date {
  return new Date(monthSpan(monthOf(now, -1)).start);
}

/**
 * The next meters after $1 (in matricula order; at most $2) with their $3
 * newest readings. The meters are found by a skip scan of the primary key (a
 * recursive query that jumps from one matricula to the next), so the cost
 * follows the number of meters, not of readings.
 */
const EVERY_METER_RECENT_SQL = `
WITH RECURSIVE meters(matricula) AS (
  (SELECT matricula FROM medicoes WHERE matricula > $1 ORDER BY matricula LIMIT 1)
  UNION ALL
  SELECT (SELECT m.matricula FROM medicoes m WHERE m.matricula > meters.matricula ORDER BY m.matricula LIMIT 1)
  FROM meters WHERE meters.matricula IS NOT NULL
)
SELECT page.matricula, recent.data_hora, ${readingColumns('recent.')}
FROM (SELECT matricula FROM meters WHERE matricula IS NOT NULL LIMIT $2) page
CROSS JOIN LATERAL (
  SELECT * FROM medicoes WHERE medicoes.matricula = page.matricula ORDER BY data_hora DESC LIMIT $3
) recent
ORDER BY page.matricula, recent.data_hora DESC`;

/** One page of a meter's history, newest first, through the primary key; the next page starts below its oldest row. */
const HISTORY_PAGE_SQL = `SELECT data_hora, ${READING_COLUMNS} FROM medicoes WHERE matricula = $1 AND data_hora >= $2 AND data_hora < $3 ORDER BY data_hora DESC LIMIT $4`;
/** Every reading after a key, by meter then instant: `scan`'s pages (keyset pagination over the primary key). */
const SCAN_PAGE_SQL = `SELECT matricula, data_hora, ${READING_COLUMNS} FROM medicoes WHERE (matricula, data_hora) > ($1::varchar, $2::timestamptz) ORDER BY matricula, data_hora LIMIT $3`;
/** The latest instant a JavaScript Date holds. */
const MAX_DATE_MILLIS = 8.64e15;
/** Rows per history page: big enough to amortise a round trip, small enough to keep memory flat. */
export const HISTORY_PAGE_ROWS = 5000;

/**
 * The newest `$2` rows of each meter of a batch, newest first (a backward
 * scan of the primary key each), and whether a customer has the matricula.
 * A meter without rows gives one row of NULLs.
 */
const WINDOWS_SQL = `
SELECT d.matricula, w.data_hora, w.consumo::text AS consumo, w.qualidade, EXISTS (SELECT 1 FROM clientes c WHERE c.matricula = d.matricula) AS cadastrado
FROM unnest($1::varchar[]) AS d(matricula)
LEFT JOIN LATERAL (SELECT data_hora, consumo, qualidade FROM medicoes m WHERE m.matricula = d.matricula AND data_hora >= $3 ORDER BY data_hora DESC LIMIT $2) w ON true`;

/** A row of medicoes is usable (domain/readings/quality.ts isUsable): not `pico`, not `regressiva`. */
const USABLE_SQL = "(qualidade IS NULL OR NOT string_to_array(qualidade, ',') && '{pico,regressiva}'::text[])";

/**
 * Inserts the admitted readings (the primary key stops a copy another
 * server stored meanwhile) and, in the same statement, adds them to their
 * hours' and days' rollups (migrations 021 and 022): both or neither. Rows
 * are upserted in key order, so two servers storing the same meters never
 * wait on each other in a cycle.
 */
const INSERT_SQL = `
WITH inseridas AS (
  INSERT INTO medicoes (matricula, data_hora, consumo, tensao_v, corrente_a, potencia_kw, fator_potencia, frequencia_hz, qualidade)
  SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::text[])
  ON CONFLICT DO NOTHING
  RETURNING matricula, data_hora, consumo, qualidade
), horas AS (
  INSERT INTO consumo_horas AS h
  SELECT matricula, date_trunc('hour', data_hora, 'UTC'), ${ROLLUP_OF_READINGS_SQL}
  FROM (SELECT *, ${USABLE_SQL} AS util FROM inseridas) r
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (matricula, hora) DO UPDATE SET${mergeRollupSql('h')}
), dias AS (
  INSERT INTO consumo_dias AS d
  SELECT matricula, ${DAY_OF_HOUR_SQL("date_trunc('hour', data_hora, 'UTC')")}, ${ROLLUP_OF_READINGS_SQL}
  FROM (SELECT *, ${USABLE_SQL} AS util FROM inseridas) r CROSS JOIN consumo_dias_fuso z
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (matricula, dia) DO UPDATE SET${mergeRollupSql('d')}
)
SELECT matricula, data_hora FROM inseridas`;

/** A meter's daily rollups in a range of local dates, oldest first (primary key). */
const DAILY_SQL = prepared(`
SELECT to_char(dia, 'YYYY-MM-DD') AS dia, leituras, sinalizadas, utilizaveis, primeira_em, primeira_consumo::text AS primeira_consumo, ultima_em, ultima_consumo::text AS ultima_consumo
FROM consumo_dias WHERE matricula = $1 AND dia >= $2::date AND dia < $3::date ORDER BY dia`);

/** A meter's hourly rollups in a range of hours, oldest first (primary key). */
const HOURLY_SQL = prepared(`
SELECT hora, leituras, sinalizadas, utilizaveis, primeira_em, primeira_consumo::text AS primeira_consumo, ultima_em, ultima_consumo::text AS ultima_consumo
FROM consumo_horas WHERE matricula = $1 AND hora >= $2 AND hora < $3 ORDER BY hora`);

interface HourRow {
  hora: Date;
  leituras: number;
  sinalizadas: number;
  utilizaveis: number;
  primeira_em: Date | null;
  primeira_consumo: string | null;
  ultima_em: Date | null;
  ultima_consumo: string | null;
}

/** The end of the range `daily` looks at: no reading is stamped after year 9999 (protocol/timestamp.ts). */
const LAST_DAY_MILLIS = Date.UTC(9999, 11, 31);

/** A row of consumo_horas or consumo_dias as a rollup, but for its start. */
function rollupOfRow(row: Omit<HourRow, 'hora'>): Omit<HourRollup, 'start'> {
  const point = (at: Date | null, register: string | null) => (at === null || register === null ? undefined : { timestamp: at.getTime(), register: parseDecimal(register, NUMERIC_LIMITS) as bigint });
  return { readings: row.leituras, flagged: row.sinalizadas, usable: row.utilizaveis, oldest: point(row.primeira_em, row.primeira_consumo), newest: point(row.ultima_em, row.ultima_consumo) };
}

/** The first instant of a local date (`AAAA-MM-DD`) in `timeZone`, as periods.ts's periodStart gives it. */
function dayStart(date: string, timeZone: string): number {
  return periodStart(wallClockInstant(Date.parse(`${date}T00:00:00Z`), timeZone), 'dia', timeZone);
}

/** The stored registers at given instants: what readings that lost a race to another server met. */
const EXISTING_SQL = `
SELECT m.matricula, m.data_hora, m.consumo::text AS consumo
FROM unnest($1::varchar[], $2::timestamptz[]) AS k(matricula, data_hora)
JOIN medicoes m ON m.matricula = k.matricula AND m.data_hora = k.data_hora`;

/** `consumo`, the quantities' columns and `qualidade` (named as their JSON fields, resources/migrations/009), as text. */
function readingColumns(prefix: string): string {
  return ['consumo', ...QUANTITIES.map((spec) => spec.json), 'qualidade'].map((column) => `${prefix}${column}::text AS ${column}`).join(', ');
}

type ReadingRow = { data_hora: Date; consumo: string } & Record<string, string | null | Date>;

/** A row of READING_COLUMNS as a reading; a quantity is present only when its column is not NULL. */
function readingOfRow(matricula: string, row: ReadingRow): StoredReading {
  let reading: StoredReading = { matricula, timestamp: row.data_hora.getTime(), consumo: parseDecimal(row.consumo, NUMERIC_LIMITS) as bigint };
  if (typeof row.qualidade === 'string') reading = { ...reading, quality: parseQuality(row.qualidade) ?? VALID };
  let quantities: Record<string, number> | undefined;
  for (const spec of QUANTITIES) {
    const text = row[spec.json];
    if (typeof text === 'string') (quantities ??= {})[spec.name] = Number(parseDecimal(text, QUANTITY_LIMITS));
  }
  return quantities === undefined ? reading : { ...reading, quantities };
}

/** recentReadings gives the quantities of the newest reading only (Store's contract: what the file store keeps in memory). */
function withoutOlderQuantities(reading: StoredReading, index: number): StoredReading {
  if (index === 0 || reading.quantities === undefined) return reading;
  const { quantities: _dropped, ...rest } = reading;
  return rest;
}

function quantityText(thousandths: number | undefined): string | null {
  return thousandths === undefined ? null : formatDecimal(BigInt(thousandths), QUANTITY_SCALE);
}

const QUANTITY_LIMITS = { scale: QUANTITY_SCALE, maxSignificantDigits: 13 };
/** Meters whose admission window a store keeps between batches (about 0.9 KB each with 32 readings). */
export const WINDOW_CACHE_METERS = 100_000;
/** What the `consumo numeric(18, 3)` column can hold. */
const NUMERIC_LIMITS = { scale: REGISTER_SCALE, maxSignificantDigits: 18 };

/** A reading waiting in the group commit, and what became of it once its batch ran. */
interface Pending {
  readonly reading: Reading;
  outcome?: ReadingOutcome;
  /** The quality it was judged to have when admitted. */
  quality?: QualityMask;
  /** Restored from another store (Store.restore): the quality it had there. */
  readonly restored?: QualityMask;
}

const key = (matricula: string, timestamp: number): string => `${matricula}@${timestamp}`;

/** A row of a meter's newest readings: what its window is made of. */
interface WindowRow {
  matricula: string;
  data_hora: Date | null;
  consumo: string | null;
  qualidade: string | null;
}

/** Windows from rows of several meters, each meter's newest first (complete when a meter has fewer than `limit` rows). */
function windowsOfRows(rows: readonly WindowRow[], limit: number): Map<string, MeterWindow> {
  const found = new Map<string, { window: MeterWindow; count: number }>();
  for (const row of rows) {
    let entry = found.get(row.matricula);
    if (entry === undefined) found.set(row.matricula, (entry = { window: new MeterWindow(), count: 0 }));
    if (row.data_hora === null || row.consumo === null) continue;
    entry.count++;
    // Newest first: each row goes in front of the window.
    if (entry.count <= LATE_WINDOW_READINGS) entry.window.add(row.data_hora.getTime(), registerNumber(parseDecimal(row.consumo, NUMERIC_LIMITS) as bigint), row.qualidade === null ? VALID : (parseQuality(row.qualidade) ?? VALID));
  }
  const windows = new Map<string, MeterWindow>();
  for (const [matricula, entry] of found) {
    entry.window.complete = entry.count < limit;
    windows.set(matricula, entry.window);
  }
  return windows;
}

export class PostgresStore implements Store, CredentialStore {
  /** The database this store and the other aggregates' PostgreSQL stores share (pool, migrations, change feed). */
  readonly db: PgDatabase;
  private readonly writer: GroupCommit<Pending, Map<string, number>>;
  private closing: Promise<void> | undefined;
  private readonly admission: AdmissionRules;
  readonly dayZone: string;
  /** Meters' windows kept between batches, least recently used first (at most WINDOW_CACHE_METERS). */
  private readonly windowCache = new Map<string, MeterWindow>();

  constructor(db: PgDatabase, admission: AdmissionRules = OPEN_ADMISSION, dayZone = 'UTC') {
    this.db = db;
    this.admission = admission;
    this.dayZone = dayZone;
    this.writer = new GroupCommit<Pending, Map<string, number>>({
      commit: (items) => this.insertBatch(items),
      onFailure: (_readings, error) => toStoreError(error),
    });
  }

  /** Opens a database of its own (closed with this store) and, when this start created the schema, seeds its customers. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const db = await PgDatabase.open(options);
    const store = new PostgresStore(db, options.admission ?? OPEN_ADMISSION, options.dayZone);
    try {
      const rebuilt = await store.settleDayZone();
      if (rebuilt) options.logger.info({ fuso: store.dayZone }, 'daily rollups written from the hourly ones for this time zone');
      if (db.appliedMigrations.includes(1) && options.seedCustomersFile !== undefined) {
        const seeded = await store.addCustomers(parseCustomerFile(await readFile(options.seedCustomersFile, 'utf8')).customers);
        options.logger.info({ customers: seeded.added, from: options.seedCustomersFile }, 'seeded customers table');
      }
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  append(readings: readonly Reading[]): Promise<AppendResult> {
    return this.store(readings.map((reading) => ({ reading })));
  }

  restore(readings: readonly StoredReading[]): Promise<AppendResult> {
    return this.store(readings.map((reading) => ({ reading, restored: reading.quality ?? VALID })));
  }

  private async store(items: Pending[]): Promise<AppendResult> {
    this.assertOpen();
    for (const item of items) this.writer.enqueue(item);
    const newestOfBatch = items.length === 0 ? new Map<string, number>() : ((await this.writer.flushed()) as Map<string, number>);
    const outcomes: ReadingOutcome[] = [];
    const qualities: QualityMask[] = [];
    const newest = new Map<string, number>();
    for (const { reading, outcome = 'capacity', quality = VALID } of items) {
      outcomes.push(outcome);
      qualities.push(outcome === 'stored' ? quality : VALID);
      const timestamp = newestOfBatch.get(reading.matricula);
      if (timestamp !== undefined) newest.set(reading.matricula, timestamp);
    }
    return { outcomes, qualities, ...tallyOutcomes(outcomes), newest };
  }

  async recentReadings(matricula: string, count: number): Promise<StoredReading[]> {
    this.assertOpen();
    checkRecentCount(count);
    let { rows } = await this.query<ReadingRow>(RECENT_READINGS, [matricula, count, recentSince(Date.now())]);
    if (rows.length < count) ({ rows } = await this.query<ReadingRow>(RECENT_READINGS_ANY_SQL, [matricula, count]));
    return rows.map((row, index) => withoutOlderQuantities(readingOfRow(matricula, row), index));
  }

  async *recentReadingsOfEveryMeter(count: number): AsyncGenerator<StoredReading[][]> {
    checkRecentCount(count);
    let after = '';
    for (;;) {
      this.assertOpen();
      const { rows } = await this.query<ReadingRow & { matricula: string }>(EVERY_METER_RECENT_SQL, [after, FLEET_BATCH_METERS, count]);
      if (rows.length === 0) return;
      const batch: StoredReading[][] = [];
      for (const row of rows) {
        const reading = readingOfRow(row.matricula, row);
        const last = batch[batch.length - 1];
        if (last !== undefined && (last[0] as Reading).matricula === row.matricula) last.push(withoutOlderQuantities(reading, last.length));
        else batch.push([reading]);
      }
      yield batch;
      after = (rows[rows.length - 1] as { matricula: string }).matricula;
    }
  }

  async *history(query: HistoryQuery): AsyncGenerator<StoredReading[]> {
    const { matricula } = query;
    // Within what a Date (and timestamptz) holds; no reading is older than 1970.
    const from = Math.max(query.from, 0);
    let to = Math.min(query.to, MAX_DATE_MILLIS);
    for (;;) {
      this.assertOpen();
      const { rows } = await this.query<ReadingRow>(HISTORY_PAGE_SQL, [matricula, new Date(from), new Date(to), HISTORY_PAGE_ROWS]);
      if (rows.length === 0) return;
      const page = rows.map((row) => readingOfRow(matricula, row));
      yield page;
      if (rows.length < HISTORY_PAGE_ROWS) return;
      to = (page[page.length - 1] as Reading).timestamp;
    }
  }

  async hourly(query: HistoryQuery): Promise<HourRollup[]> {
    this.assertOpen();
    const from = Math.max(query.from, 0);
    const to = Math.min(query.to, MAX_DATE_MILLIS);
    if (from >= to) return [];
    const { rows } = await this.query<HourRow>(HOURLY_SQL, [query.matricula, new Date(from), new Date(to)]);
    return rows.map((row) => ({ start: row.hora.getTime(), ...rollupOfRow(row) }));
  }

  async daily(query: HistoryQuery): Promise<DayRollup[]> {
    this.assertOpen();
    // Local dates are computed here: within the years the calendar functions handle (and readings can have).
    const from = Math.max(query.from, 0);
    const to = Math.min(query.to, LAST_DAY_MILLIS);
    if (from >= to) return [];
    // Local dates of the first day starting at or after `from` and the first at or after `to`.
    const firstOnOrAfter = (instant: number): string => {
      const start = periodStart(instant, 'dia', this.dayZone);
      return localDay(start < instant ? nextPeriodStart(start, 'dia', this.dayZone) : start, this.dayZone);
    };
    const { rows } = await this.query<HourRow & { dia: string }>(DAILY_SQL, [query.matricula, firstOnOrAfter(from), firstOnOrAfter(to)]);
    return rows.map((row) => ({ start: dayStart(row.dia, this.dayZone), ...rollupOfRow(row) }));
  }

  /**
   * Makes consumo_dias hold the days of this store's zone: when the zone
   * recorded is another (or none), writes every day again from the hours,
   * in one transaction holding the table (ingest of other servers waits).
   * Whether it did.
   */
  private async settleDayZone(): Promise<boolean> {
    return this.db.transaction(async (client) => {
      await client.query('LOCK TABLE consumo_dias_fuso IN EXCLUSIVE MODE');
      const { rows } = await client.query<{ fuso: string }>('SELECT fuso FROM consumo_dias_fuso');
      if (rows[0]?.fuso === this.dayZone) return false;
      await client.query('LOCK TABLE consumo_dias IN EXCLUSIVE MODE');
      await client.query('DELETE FROM consumo_dias');
      await client.query('INSERT INTO consumo_dias_fuso (fuso) VALUES ($1) ON CONFLICT (unica) DO UPDATE SET fuso = EXCLUDED.fuso', [this.dayZone]);
      await client.query(DAYS_FROM_HOURS_SQL, [null, null]);
      return true;
    });
  }

  async *scan(): AsyncGenerator<StoredReading[]> {
    let after: [string, Date] = ['', new Date(0)];
    for (;;) {
      this.assertOpen();
      const { rows } = await this.query<ReadingRow & { matricula: string }>(SCAN_PAGE_SQL, [...after, HISTORY_PAGE_ROWS]);
      if (rows.length === 0) return;
      yield rows.map((row) => readingOfRow(row.matricula, row));
      const last = rows[rows.length - 1] as ReadingRow & { matricula: string };
      after = [last.matricula, last.data_hora];
      if (rows.length < HISTORY_PAGE_ROWS) return;
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

  async passwordHash(matricula: string): Promise<string | undefined> {
    this.assertOpen();
    const { rows } = await this.query<{ senha_hash: string }>('SELECT senha_hash FROM credenciais WHERE matricula = $1', [matricula]);
    return rows[0]?.senha_hash;
  }

  async setPasswordHash(matricula: string, hash: string): Promise<boolean> {
    this.assertOpen();
    const { rowCount } = await this.query(
      `INSERT INTO credenciais (matricula, senha_hash) SELECT matricula, $2 FROM clientes WHERE matricula = $1
       ON CONFLICT (matricula) DO UPDATE SET senha_hash = EXCLUDED.senha_hash, atualizada_em = now()`,
      [matricula, hash],
    );
    return rowCount === 1;
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

  /** Stores what is queued, then closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.writer.flushed().catch(() => undefined);
      await this.db.close();
    })();
    return this.closing;
  }

  /**
   * Judges a batch against each meter's window (domain/readings/admission.ts: copies,
   * late readings; domain/readings/quality.ts: the quality) and inserts what is
   * admitted. Each meter's newest row is read every batch (another server
   * may have stored one); its whole window (33 rows) only when the window
   * kept from earlier batches is missing or behind that newest row: the
   * usual case is two statements, as before windows were needed for quality.
   */
  private async insertBatch(items: readonly Pending[]): Promise<Map<string, number>> {
    const matriculas = [...new Set(items.map((item) => item.reading.matricula))];
    const heads = await this.windows(matriculas, 1);
    const windows = new Map<string, { window: MeterWindow; registered: boolean }>();
    const stale: string[] = [];
    for (const matricula of matriculas) {
      const head = heads.get(matricula) as { window: MeterWindow; registered: boolean };
      const cached = this.windowCache.get(matricula);
      if (cached !== undefined && cached.newest === head.window.newest) windows.set(matricula, { window: cached, registered: head.registered });
      else stale.push(matricula);
    }
    if (stale.length > 0) for (const [matricula, entry] of await this.windows(stale, LATE_WINDOW_READINGS + 1)) windows.set(matricula, entry);
    for (const [matricula, { window }] of windows) {
      this.windowCache.delete(matricula);
      this.windowCache.set(matricula, window);
    }
    while (this.windowCache.size > WINDOW_CACHE_METERS) this.windowCache.delete(this.windowCache.keys().next().value as string);
    try {
      return await this.judgeAndInsert(items, windows);
    } catch (error) {
      // The windows now hold readings that may not be stored: read them again next time.
      for (const matricula of matriculas) this.windowCache.delete(matricula);
      throw error;
    }
  }

  private async judgeAndInsert(items: readonly Pending[], windows: Map<string, { window: MeterWindow; registered: boolean }>): Promise<Map<string, number>> {
    const admitted: Pending[] = [];
    for (const item of items) {
      const { reading } = item;
      const { window, registered } = windows.get(reading.matricula) as { window: MeterWindow; registered: boolean };
      const restored = item.restored !== undefined;
      if (this.admission.refuseUnregistered && !registered && !restored) {
        item.outcome = 'nao_cadastrado';
        continue;
      }
      const verdict = window.judge(reading, restored ? OPEN_ADMISSION : this.admission);
      if (verdict !== 'new') {
        item.outcome = verdict;
        continue;
      }
      item.quality = item.restored ?? window.assess(reading, this.admission.quality);
      window.add(reading.timestamp, registerNumber(reading.consumo), item.quality);
      admitted.push(item);
    }
    if (admitted.length > 0) {
      // In key order, as the rollups' upsert: servers storing the same readings at once lock rows in one order (no deadlock).
      const ordered = [...admitted].sort((a, b) => (a.reading.matricula < b.reading.matricula ? -1 : a.reading.matricula > b.reading.matricula ? 1 : a.reading.timestamp - b.reading.timestamp));
      const { rows } = await this.query<{ matricula: string; data_hora: Date }>(INSERT_SQL, [
        ordered.map((item) => item.reading.matricula),
        ordered.map((item) => formatIsoTimestamp(item.reading.timestamp)),
        ordered.map((item) => formatRegister(item.reading.consumo)),
        ...QUANTITIES.map((spec) => ordered.map((item) => quantityText(item.reading.quantities?.[spec.name]))),
        ordered.map((item) => (item.quality === undefined || item.quality === VALID ? null : formatQuality(item.quality))),
      ]);
      const inserted = new Set(rows.map((row) => key(row.matricula, row.data_hora.getTime())));
      const lost = admitted.filter((item) => !inserted.has(key(item.reading.matricula, item.reading.timestamp)));
      for (const item of admitted) item.outcome = 'stored';
      const stored = admitted.filter((item) => inserted.has(key(item.reading.matricula, item.reading.timestamp)));
      if (stored.length > 0) this.db.changes.publish({ kind: 'leituras', readings: stored.map(({ reading, quality }) => (quality === undefined || quality === VALID ? reading : { ...reading, quality })) });
      if (lost.length > 0) {
        // Another server stored a reading at the same instant first: a copy, or a conflict.
        const { rows: existing } = await this.query<{ matricula: string; data_hora: Date; consumo: string }>(EXISTING_SQL, [
          lost.map((item) => item.reading.matricula),
          lost.map((item) => formatIsoTimestamp(item.reading.timestamp)),
        ]);
        const registers = new Map(existing.map((row) => [key(row.matricula, row.data_hora.getTime()), parseDecimal(row.consumo, NUMERIC_LIMITS) as bigint]));
        for (const item of lost) item.outcome = registers.get(key(item.reading.matricula, item.reading.timestamp)) === item.reading.consumo ? 'duplicate' : 'conflito';
      }
    }
    const newest = new Map<string, number>();
    for (const [matricula, { window }] of windows) if (Number.isFinite(window.newest)) newest.set(matricula, window.newest);
    return newest;
  }

  /** Each meter's newest `limit` stored readings as a window (complete when it has fewer), and whether a customer has it. */
  private async windows(matriculas: readonly string[], limit: number): Promise<Map<string, { window: MeterWindow; registered: boolean }>> {
    const recent = await this.query<WindowRow & { cadastrado: boolean }>(WINDOWS_SQL, [matriculas, limit, recentSince(Date.now())]);
    // Meters with fewer rows since then are read again over every month (the epoch as the bound).
    const counts = new Map<string, number>();
    for (const row of recent.rows) counts.set(row.matricula, (counts.get(row.matricula) ?? 0) + (row.data_hora === null ? 0 : 1));
    const sparse = matriculas.filter((matricula) => (counts.get(matricula) ?? 0) < limit);
    const reread = new Set(sparse);
    const rows = recent.rows.filter((row) => !reread.has(row.matricula));
    if (sparse.length > 0) rows.push(...(await this.query<WindowRow & { cadastrado: boolean }>(WINDOWS_SQL, [sparse, limit, new Date(0)])).rows);
    const registered = new Map(rows.map((row) => [row.matricula, row.cadastrado]));
    return new Map([...windowsOfRows(rows, limit)].map(([matricula, window]) => [matricula, { window, registered: registered.get(matricula) === true }]));
  }

  /**
   * Reads the windows of the meters with readings (at most
   * WINDOW_CACHE_METERS), a page of meters at a time, ahead of their first
   * batch: after a start, a fleet's first readings then cost what later ones
   * do. A window a batch cached meanwhile is left as it is; a warmed window
   * that a later row made stale is read again by that batch as always.
   * Resolves the meters warmed; stops when the store closes.
   */
  async warmWindows(): Promise<number> {
    let after = '';
    let warmed = 0;
    while (this.closing === undefined && this.windowCache.size < WINDOW_CACHE_METERS) {
      let rows: WindowRow[];
      try {
        ({ rows } = await this.query<WindowRow>(EVERY_METER_RECENT_SQL, [after, FLEET_BATCH_METERS, LATE_WINDOW_READINGS + 1]));
      } catch (error) {
        if (this.closing !== undefined) break;
        throw error;
      }
      if (rows.length === 0) break;
      for (const [matricula, window] of windowsOfRows(rows, LATE_WINDOW_READINGS + 1)) {
        if (this.windowCache.has(matricula) || this.windowCache.size >= WINDOW_CACHE_METERS) continue;
        this.windowCache.set(matricula, window);
        warmed++;
      }
      after = (rows[rows.length - 1] as WindowRow).matricula;
    }
    return warmed;
  }

  private query<R extends pg.QueryResultRow>(statement: string | PreparedStatement, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.db.run<R>(statement, values);
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new StoreError('CLOSED', 'the store is closed');
  }
}
