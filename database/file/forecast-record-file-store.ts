/** Forecast records in `previsoes.jsonl` (see journal.ts): a snapshot per change (kWh as decimal strings of thousandths), the latest of a meter and month wins. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import type { AccuracySummary, ForecastRecord, ForecastRecordStore, RecordKey } from '../forecast-record-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const FORECASTS_FILE = 'previsoes.jsonl';

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const THOUSANDTHS = /^\d{1,30}$/;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);
const amount = (value: unknown): bigint | undefined => (typeof value === 'string' && THOUSANDTHS.test(value) ? BigInt(value) : undefined);
const amountOrNull = (value: unknown): bigint | null | undefined => (value === null ? null : amount(value));

function parseRecord(value: unknown): ForecastRecord | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || typeof r.matricula !== 'string' || !isMatricula(r.matricula) || typeof r.month !== 'string' || !MONTH.test(r.month)) return undefined;
  if (!isTime(r.madeAt) || !isTime(r.measuredUpTo) || !(r.settledAt === null || isTime(r.settledAt))) return undefined;
  const [projected, low, high, actual, error] = [amount(r.projected), amount(r.low), amount(r.high), amountOrNull(r.actual), amountOrNull(r.error)];
  if (projected === undefined || low === undefined || high === undefined || actual === undefined || error === undefined) return undefined;
  return { matricula: r.matricula, month: r.month, madeAt: r.madeAt, measuredUpTo: r.measuredUpTo, projected, low, high, actual, error, settledAt: r.settledAt as number | null };
}

const serialised = (record: ForecastRecord) => ({
  ...record,
  projected: String(record.projected),
  low: String(record.low),
  high: String(record.high),
  actual: record.actual === null ? null : String(record.actual),
  error: record.error === null ? null : String(record.error),
});

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareKeys = (a: RecordKey, b: RecordKey): number => byText(a.month, b.month) || byText(a.matricula, b.matricula);

const keyOf = (matricula: string, month: string): string => `${matricula}|${month}`;

export class FileForecastRecordStore implements ForecastRecordStore {
  private readonly records = new Map<string, ForecastRecord>();

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileForecastRecordStore> {
    const store = new FileForecastRecordStore(new JournalWriter(join(dataDir, FORECASTS_FILE), FORECASTS_FILE));
    for (const record of await readJournal(store.journal.path, parseRecord, logger)) store.records.set(keyOf(record.matricula, record.month), record);
    return store;
  }

  record(record: ForecastRecord): Promise<ForecastRecord | undefined> {
    return this.journal.serially(async () => {
      const key = keyOf(record.matricula, record.month);
      if (this.records.has(key)) return undefined;
      const stored: ForecastRecord = { ...record, actual: null, error: null, settledAt: null };
      await this.journal.append([serialised(stored)]);
      this.records.set(key, stored);
      return stored;
    });
  }

  settle(matricula: string, month: string, actual: bigint | null, error: bigint | null, at: number): Promise<ForecastRecord | undefined> {
    return this.journal.serially(async () => {
      const key = keyOf(matricula, month);
      const record = this.records.get(key);
      if (record === undefined || record.settledAt !== null) return undefined;
      const settled: ForecastRecord = { ...record, actual, error, settledAt: at };
      await this.journal.append([serialised(settled)]);
      this.records.set(key, settled);
      return settled;
    });
  }

  async get(matricula: string, month: string): Promise<ForecastRecord | undefined> {
    return this.records.get(keyOf(matricula, month));
  }

  async settled(matricula: string, limit: number): Promise<ForecastRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.matricula === matricula && r.settledAt !== null)
      .sort((a, b) => b.month.localeCompare(a.month))
      .slice(0, limit);
  }

  async unsettled(throughMonth: string, after: RecordKey | undefined, limit: number): Promise<ForecastRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.settledAt === null && r.month <= throughMonth && (after === undefined || compareKeys(r, after) > 0))
      .sort(compareKeys)
      .slice(0, limit);
  }

  async all(): Promise<ForecastRecord[]> {
    return [...this.records.values()].sort(compareKeys);
  }

  async summary(fromMonth: string, offset: number, limit: number): Promise<{ meters: AccuracySummary[]; total: AccuracySummary }> {
    const byMeter = new Map<string, { cycles: number; errorSum: bigint; errorCount: number }>();
    const total = { matricula: '', cycles: 0, errorSum: 0n, errorCount: 0 };
    for (const r of this.records.values()) {
      if (r.settledAt === null || r.month < fromMonth) continue;
      const meter = byMeter.get(r.matricula) ?? { cycles: 0, errorSum: 0n, errorCount: 0 };
      byMeter.set(r.matricula, meter);
      for (const sum of [meter, total]) {
        sum.cycles++;
        if (r.error !== null) {
          sum.errorSum += r.error;
          sum.errorCount++;
        }
      }
    }
    const meters = [...byMeter.entries()]
      .sort(([a], [b]) => byText(a, b))
      .slice(offset, offset + limit)
      .map(([matricula, sum]) => ({ matricula, ...sum }));
    return { meters, total };
  }
}
