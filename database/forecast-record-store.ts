/**
 * Forecast records: the forecast aggregate. For each meter and billing
 * cycle (its month, `YYYY-MM`), the projection made once the cycle was half
 * over is written down while the cycle is still open, and settled against
 * what the cycle consumed once it is billable. A record is never replaced:
 * what `/previsao/precisao` measures is what was projected at the time, not
 * a forecast recomputed after the fact. The specification both backends
 * pass (test/database/forecast-record-contract.ts).
 */

export interface ForecastRecord {
  readonly matricula: string;
  /** The cycle, by the month it ends in (`YYYY-MM`). */
  readonly month: string;
  /** When the projection was made, and the newest reading it used (ms since the epoch). */
  readonly madeAt: number;
  readonly measuredUpTo: number;
  /** Projected consumption and its band, thousandths of a kWh. */
  readonly projected: bigint;
  readonly low: bigint;
  readonly high: bigint;
  /** What the cycle consumed (thousandths of a kWh), once settled; null before, or when the cycle could not be measured (no reading after it: billed by an estimate). */
  readonly actual: bigint | null;
  /** |projected - actual| / actual, thousandths of a percent; null before settling or when nothing was consumed. */
  readonly error: bigint | null;
  readonly settledAt: number | null;
}

/** Per meter (or over every meter), how many settled records and their errors' sum and count (the MAPE is sum / count). */
export interface AccuracySummary {
  readonly matricula: string;
  readonly cycles: number;
  readonly errorSum: bigint;
  readonly errorCount: number;
}

export interface RecordKey {
  readonly month: string;
  readonly matricula: string;
}

export interface ForecastRecordStore {
  /** Stores `record` (unsettled) unless one of its meter and month exists; resolves it once durable, or undefined (nothing written). */
  record(record: ForecastRecord): Promise<ForecastRecord | undefined>;
  /** Settles the unsettled record of a meter and month (`actual` null: the cycle could not be measured); resolves it settled (durable), or undefined when there is none or it was settled already. */
  settle(matricula: string, month: string, actual: bigint | null, error: bigint | null, at: number): Promise<ForecastRecord | undefined>;
  get(matricula: string, month: string): Promise<ForecastRecord | undefined>;
  /** A meter's settled records, newest month first, at most `limit`. */
  settled(matricula: string, limit: number): Promise<ForecastRecord[]>;
  /** Unsettled records of months up to `throughMonth` (inclusive), by month then matricula (as text), after `after` when given, at most `limit`. */
  unsettled(throughMonth: string, after: RecordKey | undefined, limit: number): Promise<ForecastRecord[]>;
  /**
   * Settled records of months from `fromMonth` (inclusive): per meter in
   * ascending matricula from `offset`, at most `limit` meters, and over all
   * of them (`matricula` ''), counted whatever the page.
   */
  summary(fromMonth: string, offset: number, limit: number): Promise<{ readonly meters: AccuracySummary[]; readonly total: AccuracySummary }>;
  /** Every record, by month then matricula (as text): migration between backends. */
  all(): Promise<ForecastRecord[]>;
}
