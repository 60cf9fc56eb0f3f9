/** Forecast records in PostgreSQL (migration 013), through the main store's pool; the primary key keeps one per meter and cycle. */
import type { AccuracySummary, ForecastRecord, ForecastRecordStore, RecordKey } from '../forecast-record-store.js';
import type { PgDatabase } from './pg-database.js';

const COLUMNS = 'matricula, mes, feita_em, medido_ate, previsto, minimo, maximo, real, erro, apurada_em';

interface RecordRow {
  matricula: string;
  mes: string;
  feita_em: string;
  medido_ate: string;
  previsto: string;
  minimo: string;
  maximo: string;
  real: string | null;
  erro: string | null;
  apurada_em: string | null;
}

const orNull = <T>(value: string | null, as: (text: string) => T): T | null => (value === null ? null : as(value));

const fromRow = (row: RecordRow): ForecastRecord => ({
  matricula: row.matricula,
  month: row.mes,
  madeAt: Number(row.feita_em),
  measuredUpTo: Number(row.medido_ate),
  projected: BigInt(row.previsto),
  low: BigInt(row.minimo),
  high: BigInt(row.maximo),
  actual: orNull(row.real, BigInt),
  error: orNull(row.erro, BigInt),
  settledAt: orNull(row.apurada_em, Number),
});

interface SummaryRow {
  matricula: string;
  ciclos: string;
  soma: string | null;
  com_erro: string;
}

const summaryOf = (row: SummaryRow): AccuracySummary => ({ matricula: row.matricula, cycles: Number(row.ciclos), errorSum: BigInt(row.soma ?? 0), errorCount: Number(row.com_erro) });

export class PgForecastRecordStore implements ForecastRecordStore {
  constructor(private readonly db: PgDatabase) {}

  async record(record: ForecastRecord): Promise<ForecastRecord | undefined> {
    const { rows } = await this.db.run<RecordRow>(
      `INSERT INTO previsoes (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL)
       ON CONFLICT (matricula, mes) DO NOTHING RETURNING ${COLUMNS}`,
      [record.matricula, record.month, record.madeAt, record.measuredUpTo, String(record.projected), String(record.low), String(record.high)],
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async settle(matricula: string, month: string, actual: bigint | null, error: bigint | null, at: number): Promise<ForecastRecord | undefined> {
    const { rows } = await this.db.run<RecordRow>(
      `UPDATE previsoes SET real = $3, erro = $4, apurada_em = $5 WHERE matricula = $1 AND mes = $2 AND apurada_em IS NULL RETURNING ${COLUMNS}`,
      [matricula, month, actual === null ? null : String(actual), error === null ? null : String(error), at],
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async get(matricula: string, month: string): Promise<ForecastRecord | undefined> {
    const { rows } = await this.db.run<RecordRow>(`SELECT ${COLUMNS} FROM previsoes WHERE matricula = $1 AND mes = $2`, [matricula, month]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async settled(matricula: string, limit: number): Promise<ForecastRecord[]> {
    const { rows } = await this.db.run<RecordRow>(`SELECT ${COLUMNS} FROM previsoes WHERE matricula = $1 AND apurada_em IS NOT NULL ORDER BY mes DESC LIMIT $2`, [matricula, limit]);
    return rows.map(fromRow);
  }

  async unsettled(throughMonth: string, after: RecordKey | undefined, limit: number): Promise<ForecastRecord[]> {
    const { rows } = await this.db.run<RecordRow>(
      `SELECT ${COLUMNS} FROM previsoes WHERE apurada_em IS NULL AND mes <= $1
         AND ($2::text IS NULL OR mes > $2 OR (mes = $2 AND matricula COLLATE "C" > $3))
       ORDER BY mes, matricula COLLATE "C" LIMIT $4`,
      [throughMonth, after?.month ?? null, after?.matricula ?? null, limit],
    );
    return rows.map(fromRow);
  }

  async all(): Promise<ForecastRecord[]> {
    const { rows } = await this.db.run<RecordRow>(`SELECT ${COLUMNS} FROM previsoes ORDER BY mes, matricula COLLATE "C"`);
    return rows.map(fromRow);
  }

  async summary(fromMonth: string, offset: number, limit: number): Promise<{ meters: AccuracySummary[]; total: AccuracySummary }> {
    const aggregate = `count(*) AS ciclos, sum(erro) AS soma, count(erro) AS com_erro`;
    const [page, all] = await Promise.all([
      this.db.run<SummaryRow>(
        `SELECT matricula, ${aggregate} FROM previsoes WHERE apurada_em IS NOT NULL AND mes >= $1 GROUP BY matricula ORDER BY matricula COLLATE "C" OFFSET $2 LIMIT $3`,
        [fromMonth, offset, limit],
      ),
      this.db.run<SummaryRow>(`SELECT '' AS matricula, ${aggregate} FROM previsoes WHERE apurada_em IS NOT NULL AND mes >= $1`, [fromMonth]),
    ]);
    return { meters: page.rows.map(summaryOf), total: summaryOf(all.rows[0] as SummaryRow) };
  }
}
