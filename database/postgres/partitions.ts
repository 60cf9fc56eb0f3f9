/**
 * The monthly partitions of `medicoes` and `ocorrencias` (migration 015):
 * the coming months' partitions created ahead, and with RETENCAO_MESES the
 * months past it detached and dropped — after being written whole as CSV to
 * RETENCAO_EXPORTAR when it names a directory. Whichever server holds the
 * schema's advisory lock does the work; the others skip the pass.
 *
 * Months are calendar months in UTC; a partition is `<table>_YYYY_MM`.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { DAYS_FROM_HOURS_SQL } from './rollup-sql.js';
import { csvText } from '../../protocol/csv.js';
import type { PgDatabase } from './pg-database.js';

/** Months ahead of the current one that always have their partitions. */
export const MONTHS_AHEAD = 3;
/** Rows read per fetch while exporting a partition. */
const EXPORT_FETCH_ROWS = 10_000;
const PARTITION_NAME = /^(medicoes|ocorrencias)_(\d{4})_(\d{2})$/;

export type PartitionedTable = 'medicoes' | 'ocorrencias';
const TABLES: readonly PartitionedTable[] = ['medicoes', 'ocorrencias'];
/** Months back that rows may get a partition of their own (older ones stay in the default partition), as the migration. */
const OLDEST_MONTHS = 120;
/** A row's instant as a UTC timestamp, per table. */
const MONTH_OF_ROW: Readonly<Record<PartitionedTable, string>> = { medicoes: "data_hora AT TIME ZONE 'UTC'", ocorrencias: "to_timestamp(data_hora / 1000.0) AT TIME ZONE 'UTC'" };

/** What each partitioned table is exported as: its columns as text, in the CSV's order. */
const EXPORT_COLUMNS: Readonly<Record<PartitionedTable, string>> = {
  medicoes: `to_char(data_hora AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS data_hora, matricula, consumo::text AS consumo,
    tensao_v::text AS tensao_v, corrente_a::text AS corrente_a, potencia_kw::text AS potencia_kw, fator_potencia::text AS fator_potencia,
    frequencia_hz::text AS frequencia_hz, qualidade`,
  ocorrencias: `to_char(to_timestamp(data_hora / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS data_hora, matricula, tipo, detalhe,
    to_char(to_timestamp(recebido_em / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recebido_em, entrega, tentativas_entrega::text AS tentativas_entrega`,
};
const EXPORT_ORDER: Readonly<Record<PartitionedTable, string>> = { medicoes: 'matricula, data_hora', ocorrencias: 'matricula, data_hora, tipo' };

export interface Partition {
  readonly table: PartitionedTable;
  readonly name: string;
  /** `YYYY-MM`. */
  readonly month: string;
}

export interface MaintenanceResult {
  /** False when another server held the lock: this pass did nothing. */
  readonly ran: boolean;
  readonly created: readonly string[];
  readonly exported: readonly string[];
  readonly dropped: readonly string[];
}

/** `YYYY-MM` of an instant, in UTC, moved by `offset` months. */
export function monthOf(instant: number, offset = 0): string {
  const date = new Date(instant);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1)).toISOString().slice(0, 7);
}

/** The instants (ms) a month's partition spans: [start, end). */
export function monthSpan(month: string): { readonly start: number; readonly end: number } {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return { start: Date.UTC(year, m - 1, 1), end: Date.UTC(year, m, 1) };
}

const partitionName = (table: PartitionedTable, month: string): string => `${table}_${month.replace('-', '_')}`;

/** The bounds of a partition in its table's type: timestamptz for readings, ms for events. */
function bound(table: PartitionedTable, instant: number): string {
  return table === 'medicoes' ? `'${new Date(instant).toISOString()}'` : String(instant);
}

/** The monthly partitions of both tables, oldest first. */
export async function listPartitions(client: pg.ClientBase): Promise<Partition[]> {
  const { rows } = await client.query<{ nome: string }>(
    `SELECT c.relname AS nome FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname IN ('medicoes', 'ocorrencias') AND p.relnamespace = current_schema()::regnamespace ORDER BY c.relname`,
  );
  const partitions: Partition[] = [];
  for (const { nome } of rows) {
    const match = PARTITION_NAME.exec(nome);
    if (match !== null) partitions.push({ table: match[1] as PartitionedTable, name: nome, month: `${match[2]}-${match[3]}` });
  }
  return partitions.sort((a, b) => a.month.localeCompare(b.month) || a.table.localeCompare(b.table));
}

/** Writes a partition whole to `dir/<name>.csv` (a temporary name until it is complete and synced); resolves the rows written. */
async function exportPartition(client: pg.ClientBase, partition: Partition, dir: string): Promise<number> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${partition.name}.csv`);
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  let rows = 0;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`DECLARE exportacao NO SCROLL CURSOR FOR SELECT ${EXPORT_COLUMNS[partition.table]} FROM ${partition.name} ORDER BY ${EXPORT_ORDER[partition.table]}`);
    let header = true;
    for (;;) {
      const page = await client.query<Record<string, string | null>>(`FETCH ${EXPORT_FETCH_ROWS} FROM exportacao`);
      if (header) {
        await file.write(`${page.fields.map((field) => field.name).join(',')}\r\n`);
        header = false;
      }
      if (page.rows.length === 0) break;
      await file.write(page.rows.map((row) => `${page.fields.map((field) => csvText(row[field.name] ?? null)).join(',')}\r\n`).join(''));
      rows += page.rows.length;
    }
    await client.query('COMMIT');
    await file.sync();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    await file.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await file.close();
  await rename(temporary, path);
  return rows;
}

/**
 * One maintenance pass as of `now`: partitions from this month to
 * MONTHS_AHEAD ahead exist (rows the default partition holds for such a
 * month are moved into it); with `retentionMonths` above 0, the monthly
 * partitions of months before the current one minus that many are
 * exported (when `exportDir` is given) and then detached and dropped.
 */
export async function maintainPartitions(db: PgDatabase, now: number, retentionMonths: number, exportDir: string | undefined): Promise<MaintenanceResult> {
  return db.withConnection(async (client) => {
    const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext('consumo-inteligente partitions ' || current_schema())) AS locked");
    if (rows[0]?.locked !== true) return { ran: false, created: [], exported: [], dropped: [] };
    try {
      const created: string[] = [];
      const existing = new Set((await listPartitions(client)).map((p) => p.name));
      const keepFrom = retentionMonths > 0 ? monthOf(now, -retentionMonths) : monthOf(now, -OLDEST_MONTHS);
      const wanted: Array<{ table: PartitionedTable; month: string }> = [];
      for (let offset = 0; offset <= MONTHS_AHEAD; offset++) for (const table of TABLES) wanted.push({ table, month: monthOf(now, offset) });
      // Rows that landed in the default partition (an import of old readings, a month not created in time) get their month's partition.
      for (const table of TABLES) {
        const { rows: strays } = await client.query<{ mes: string }>(`SELECT DISTINCT to_char(date_trunc('month', ${MONTH_OF_ROW[table]}), 'YYYY-MM') AS mes FROM ${table}_padrao`);
        for (const { mes } of strays) if (mes >= keepFrom && mes <= monthOf(now, MONTHS_AHEAD)) wanted.push({ table, month: mes });
      }
      for (const { table, month } of wanted) {
        const name = partitionName(table, month);
        if (existing.has(name)) continue;
        await createPartition(client, table, month);
        existing.add(name);
        created.push(name);
      }
      const exported: string[] = [];
      const dropped: string[] = [];
      if (retentionMonths > 0) {
        for (const partition of await listPartitions(client)) {
          if (partition.month >= keepFrom) continue;
          if (exportDir !== undefined) {
            await exportPartition(client, partition, exportDir);
            exported.push(partition.name);
          }
          await client.query(`ALTER TABLE ${partition.table} DETACH PARTITION ${partition.name}`);
          await client.query(`DROP TABLE ${partition.name}`);
          // The month's hourly rollups (migration 021) go with its readings.
          if (partition.table === 'medicoes') {
            const { start, end } = monthSpan(partition.month);
            await client.query('DELETE FROM consumo_horas WHERE hora >= $1 AND hora < $2', [new Date(start), new Date(end)]);
            // The local days the month touches (migration 022) are written again from the hours left.
            const { rows } = await client.query<{ primeiro: string; depois: string }>(
              "SELECT to_char(($1::timestamptz AT TIME ZONE fuso)::date, 'YYYY-MM-DD') AS primeiro, to_char(($2::timestamptz AT TIME ZONE fuso)::date + 1, 'YYYY-MM-DD') AS depois FROM consumo_dias_fuso",
              [new Date(start), new Date(end)],
            );
            const days = rows[0];
            if (days !== undefined) {
              await client.query('DELETE FROM consumo_dias WHERE dia >= $1::date AND dia < $2::date', [days.primeiro, days.depois]);
              await client.query(DAYS_FROM_HOURS_SQL, [days.primeiro, days.depois]);
            }
          }
          dropped.push(partition.name);
        }
      }
      return { ran: true, created, exported, dropped };
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext('consumo-inteligente partitions ' || current_schema()))");
    }
  });
}

/** Creates a month's partition, first taking out of the default partition the rows it already holds for that month (else PostgreSQL refuses it). */
async function createPartition(client: pg.ClientBase, table: PartitionedTable, month: string): Promise<void> {
  const { start, end } = monthSpan(month);
  const name = partitionName(table, month);
  const [from, to] = [bound(table, start), bound(table, end)];
  await client.query('BEGIN');
  try {
    await client.query(`CREATE TEMPORARY TABLE mudanca ON COMMIT DROP AS WITH tiradas AS (DELETE FROM ${table}_padrao WHERE data_hora >= ${from} AND data_hora < ${to} RETURNING *) SELECT * FROM tiradas`);
    await client.query(`CREATE TABLE ${name} PARTITION OF ${table} FOR VALUES FROM (${from}) TO (${to})`);
    await client.query(`INSERT INTO ${table} SELECT * FROM mudanca`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
