/**
 * Fills a Store from the original system's files (`importLegacy`). A
 * whole installation of ours moves with migration.ts.
 *
 * The original system's files:
 * - `dados_clientes.txt`: `username;matricula` per line;
 * - `medicoes.txt`: `dd-mm-yyyy HH:MM:SS;matricula;consumo` per line, NEWEST first,
 *   times in the original's local time zone.
 */
import type { ReadingOutcome } from '../domain/readings/admission.js';
import { parseRegister } from '../protocol/decimal.js';
import { isMatricula, type Reading } from '../protocol/meter-protocol.js';
import { parseLegacyTimestamp } from '../protocol/timestamp.js';
import { parseCustomerFile } from '../protocol/customer-format.js';
import type { Customer, Store } from './store.js';

/** Readings handed to the store per call, to bound memory and commit size. */
const IMPORT_BATCH = 10_000;

/** What became of imported readings. */
export interface ReadingTotals {
  stored: number;
  /** Already stored, identical. */
  duplicates: number;
  /** Older than the meter's newest stored readings (domain/readings/admission.ts: `atrasada`). */
  older: number;
  /** Refused by another rule, by reason. */
  refused: Partial<Record<ReadingOutcome, number>>;
}

export const emptyTotals = (): ReadingTotals => ({ stored: 0, duplicates: 0, older: 0, refused: {} });

/** Appends readings (oldest first) in batches of IMPORT_BATCH, adding what became of them to `totals`. */
async function appendInBatches(store: Store, readings: readonly Reading[], totals: ReadingTotals): Promise<void> {
  for (let start = 0; start < readings.length; start += IMPORT_BATCH) {
    const result = await store.append(readings.slice(start, start + IMPORT_BATCH));
    for (const outcome of result.outcomes) {
      if (outcome === 'stored') totals.stored++;
      else if (outcome === 'duplicate') totals.duplicates++;
      else if (outcome === 'atrasada') totals.older++;
      else totals.refused[outcome] = (totals.refused[outcome] ?? 0) + 1;
    }
  }
}

/** `S stored, D already stored, O older than what is stored[, R refused (reason: n, ...)]` */
export function describeTotals(totals: ReadingTotals): string {
  const refused = Object.entries(totals.refused);
  const refusedText = refused.length === 0 ? '' : `, ${refused.reduce((sum, [, n]) => sum + (n ?? 0), 0)} refused (${refused.map(([reason, n]) => `${reason}: ${n}`).join(', ')})`;
  return `${totals.stored} stored, ${totals.duplicates} already stored, ${totals.older} older than what is stored${refusedText}`;
}

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

/** Why an imported customer was not registered: who already holds its username or matricula. */
export interface CustomerConflict {
  readonly customer: Customer;
  readonly usernameHolder?: Customer | undefined;
  readonly matriculaHolder?: Customer | undefined;
}

/** A meter whose register goes down somewhere in the imported readings (a reset, a swapped meter, or bad data). */
export interface RegisterDrop {
  readonly matricula: string;
  readonly drops: number;
  /** The first reading lower than the one before it. */
  readonly firstAt: number;
}

/** Meters whose register goes down between consecutive readings (oldest first). Pure. */
export function registerDrops(readings: readonly Reading[]): RegisterDrop[] {
  const last = new Map<string, bigint>();
  const drops = new Map<string, { drops: number; firstAt: number }>();
  for (const reading of readings) {
    const previous = last.get(reading.matricula);
    if (previous !== undefined && reading.consumo < previous) {
      const entry = drops.get(reading.matricula);
      if (entry === undefined) drops.set(reading.matricula, { drops: 1, firstAt: reading.timestamp });
      else entry.drops++;
    }
    last.set(reading.matricula, reading.consumo);
  }
  return [...drops].map(([matricula, entry]) => ({ matricula, ...entry }));
}

export interface ImportSummary {
  readonly customersAdded: number;
  readonly customersSkipped: readonly Customer[];
  /** For each skipped customer, who holds what it asked for. */
  readonly customerConflicts: readonly CustomerConflict[];
  /** Meters whose register goes down in the imported file. */
  readonly registerDrops: readonly RegisterDrop[];
  readonly customerBadLines: readonly number[];
  readonly readings: ReadingTotals;
  readonly readingBadLines: readonly number[];
}

export async function importLegacy(
  store: Store,
  input: { readonly customersText?: string | undefined; readonly readingsText?: string | undefined; readonly timeZone: string },
): Promise<ImportSummary> {
  const customers = parseCustomerFile(input.customersText ?? '');
  const added = await store.addCustomers(customers.customers);
  const { readings, badLines } = parseLegacyReadings(input.readingsText ?? '', input.timeZone);
  const totals = emptyTotals();
  await appendInBatches(store, readings, totals);
  const customerConflicts: CustomerConflict[] = [];
  for (const customer of added.skipped) {
    const [[usernameHolder], [matriculaHolder]] = await Promise.all([store.findCustomers({ username: customer.username }), store.findCustomers({ matricula: customer.matricula })]);
    customerConflicts.push({ customer, usernameHolder, matriculaHolder });
  }
  return {
    customersAdded: added.added,
    customersSkipped: added.skipped,
    customerConflicts,
    registerDrops: registerDrops(readings),
    customerBadLines: customers.badLines,
    readings: totals,
    readingBadLines: badLines,
  };
}
