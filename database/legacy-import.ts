/**
 * Converts the original system's files into a Store:
 * - `dados_clientes.txt`: `username;matricula` per line;
 * - `medicoes.txt`: `dd-mm-yyyy HH:MM:SS;matricula;consumo` per line, NEWEST first,
 *   times in the original's local time zone.
 */
import { parseRegister } from '../protocol/decimal.js';
import { isMatricula, type Reading } from '../protocol/meter-protocol.js';
import { parseLegacyTimestamp } from '../protocol/timestamp.js';
import { parseCustomerFile } from '../protocol/customer-format.js';
import type { Customer, Store } from './store.js';

/** Readings handed to the store per call, to bound memory and commit size. */
const IMPORT_BATCH = 10_000;

export interface LegacyReadings {
  /** Oldest first. */
  readonly readings: Reading[];
  /** 1-based numbers of lines that could not be read. */
  readonly badLines: number[];
}

/** Parses the original's `medicoes.txt` and returns its readings oldest first. */
export function parseLegacyReadings(text: string, timeZone: string): LegacyReadings {
  const readings: Reading[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line.length === 0) return;
    const fields = line.split(';').map((field) => field.trim());
    const timestamp = fields.length === 3 ? parseLegacyTimestamp(fields[0] as string, timeZone) : undefined;
    const consumo = fields.length === 3 ? parseRegister(fields[2] as string) : undefined;
    const matricula = fields[1] ?? '';
    if (timestamp === undefined || consumo === undefined || !isMatricula(matricula)) badLines.push(index + 1);
    else readings.push({ matricula, timestamp, consumo });
  });
  // The file is newest first; a stable sort also mends lines slightly out of order.
  readings.reverse();
  readings.sort((a, b) => a.timestamp - b.timestamp);
  return { readings, badLines };
}

export interface ImportSummary {
  readonly customersAdded: number;
  readonly customersSkipped: readonly Customer[];
  readonly customerBadLines: readonly number[];
  readonly readingsStored: number;
  readonly readingsDuplicate: number;
  readonly readingBadLines: readonly number[];
}

export async function importLegacy(
  store: Store,
  input: { readonly customersText?: string | undefined; readonly readingsText?: string | undefined; readonly timeZone: string },
): Promise<ImportSummary> {
  const customers = parseCustomerFile(input.customersText ?? '');
  const added = await store.addCustomers(customers.customers);
  const { readings, badLines } = parseLegacyReadings(input.readingsText ?? '', input.timeZone);
  let stored = 0;
  let duplicates = 0;
  for (let start = 0; start < readings.length; start += IMPORT_BATCH) {
    const result = await store.append(readings.slice(start, start + IMPORT_BATCH));
    stored += result.stored;
    duplicates += result.duplicates;
  }
  return {
    customersAdded: added.added,
    customersSkipped: added.skipped,
    customerBadLines: customers.badLines,
    readingsStored: stored,
    readingsDuplicate: duplicates,
    readingBadLines: badLines,
  };
}
