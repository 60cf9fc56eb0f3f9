/**
 * Moves a whole installation from one backend to another (flat files to
 * PostgreSQL or back), aggregate by aggregate, keeping every record as the
 * source holds it: numbers, states, dates, hashes, qualities. Afterwards
 * each aggregate of both sides is read back whole and summed up as a count
 * and a SHA-256 over its records in a canonical form (the readings: a sum
 * of their SHA-256s, so one pass in any order gives it), so a copy that
 * lost or changed anything shows, and says where.
 *
 * Only the stores' ports are used: this module knows neither files nor SQL.
 */
import { createHash } from 'node:crypto';
import type { OpenedStore } from './open-store.js';
import type { StoredReading } from './store.js';
import { isOpen } from './alert-store.js';

/** The aggregates moved, in the order they are copied (customers before what refers to them). */
export const AGGREGATES = [
  'clientes',
  'senhas',
  'perfis',
  'operadores',
  'geracoes_token',
  'tarifas',
  'parametros_faturamento',
  'bandeiras',
  'pis_cofins',
  'distribuidoras',
  'fatores_emissao',
  'faturas',
  'comandos',
  'alertas',
  'ocorrencias',
  'previsoes',
  'contadores_medidores',
  'auditoria',
  'medicoes',
] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export interface Digest {
  readonly count: number;
  /** SHA-256 (hex) of the canonical records, one per line, in their canonical order. */
  readonly sha256: string;
}

export interface AggregateReport {
  readonly aggregate: Aggregate;
  readonly source: Digest;
  readonly target: Digest;
  /** Records the target took from the source (the others were there already, or refused). */
  readonly copied: number;
  /** Source records the target does not hold as the source does (a merge that met other data). */
  readonly missing: number;
}

/** Months and instants that cover everything a store can hold. */
const ALL_MONTHS = ['0000-01', '9999-12'] as const;
const EVENT_RANGE = { from: -8.64e15, to: 8.64e15 } as const;
const HISTORY_RANGE = { from: 0, to: 8.64e15 } as const;
/** Records read or written per call (bounds memory and statement sizes). */
const PAGE = 10_000;

/** JSON with sorted keys, bigints as decimal strings, undefined left out: the same text for the same record from either backend. */
export function canonical(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Map) return canonical(Object.fromEntries(value));
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** A digest of records given in any order: their canonical lines sorted. */
function digestOf(records: readonly unknown[]): { digest: Digest; lines: Set<string> } {
  const lines = records.map(canonical).sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return { digest: { count: lines.length, sha256: hash.digest('hex') }, lines: new Set(lines) };
}

async function everyPage<T>(page: (offset: number, limit: number) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const rows = await page(offset, PAGE);
    all.push(...rows);
    if (rows.length < PAGE) return all;
  }
}

/** Every record of one aggregate but the readings (which are read meter by meter). */
async function recordsOf(opened: OpenedStore, aggregate: Exclude<Aggregate, 'medicoes'>): Promise<unknown[]> {
  switch (aggregate) {
    case 'clientes':
      return everyPage((offset, limit) => opened.store.findCustomers({ offset, limit }));
    case 'senhas': {
      const customers = await everyPage((offset, limit) => opened.store.findCustomers({ offset, limit }));
      const hashes: { matricula: string; hash: string }[] = [];
      for (const { matricula } of customers) {
        const hash = await opened.store.passwordHash(matricula);
        if (hash !== undefined) hashes.push({ matricula, hash });
      }
      return hashes;
    }
    case 'perfis':
      return opened.profiles.profiles();
    case 'operadores':
      return opened.accessStore.operators();
    case 'geracoes_token':
      return [...(await opened.accessStore.generations())].map(([principal, generation]) => ({ principal, generation }));
    case 'tarifas':
      return opened.tariffs.all();
    case 'parametros_faturamento':
      return opened.billingRules.listParameters();
    case 'bandeiras':
      return opened.billingRules.listFlags(...ALL_MONTHS);
    case 'pis_cofins':
      return opened.billingRules.listPisCofins(...ALL_MONTHS);
    case 'distribuidoras':
      return opened.billingRules.distributors();
    case 'fatores_emissao':
      return opened.billingRules.listEmissionFactors(...ALL_MONTHS);
    case 'faturas':
      return opened.invoices.all();
    case 'comandos':
      return opened.commands.all();
    case 'alertas':
      return everyPage((offset, limit) => opened.alerts.list({}, offset, limit));
    case 'ocorrencias':
      return everyPage((offset, limit) => opened.events.list(EVENT_RANGE, offset, limit));
    case 'previsoes':
      return opened.forecasts.all();
    case 'contadores_medidores':
      return [...(await opened.meterCounters.all())].map(([matricula, counter]) => ({ matricula, counter }));
    case 'auditoria':
      // Ids are the order of appending: a merge gives the source's entries new ones, so they are not part of the record.
      return (await everyPage((offset, limit) => opened.audit.list({}, offset, limit))).map(({ id: _id, ...record }) => record);
  }
}

/** Every meter with a reading, by matricula. */
async function metersOf(opened: OpenedStore): Promise<string[]> {
  const meters: string[] = [];
  for await (const batch of opened.store.recentReadingsOfEveryMeter(1)) for (const [newest] of batch) if (newest !== undefined) meters.push(newest.matricula);
  return meters.sort();
}

/** A meter's readings, oldest first. */
async function readingsOf(opened: OpenedStore, matricula: string): Promise<StoredReading[]> {
  const newestFirst: StoredReading[] = [];
  for await (const batch of opened.store.history({ matricula, ...HISTORY_RANGE })) newestFirst.push(...batch);
  return newestFirst.reverse();
}

const readingRecord = (reading: StoredReading): unknown => ({ ...reading, quality: reading.quality === undefined || reading.quality === 0 ? undefined : reading.quality });

const HASH_MODULUS = 1n << 256n;

/**
 * The readings' digest in one pass over the store (`scan`), whatever order
 * it gives them in: the sum, modulo 2^256, of each reading's SHA-256 (a
 * multiset hash: the same readings give the same sum, however interleaved).
 */
async function readingsDigest(opened: OpenedStore): Promise<Digest> {
  let sum = 0n;
  let count = 0;
  for await (const batch of opened.store.scan()) {
    for (const reading of batch) {
      sum = (sum + BigInt(`0x${createHash('sha256').update(canonical(readingRecord(reading))).digest('hex')}`)) % HASH_MODULUS;
      count++;
    }
  }
  return { count, sha256: sum.toString(16).padStart(64, '0') };
}

/** Count and checksum of every aggregate: what `migrate` compares, and what says whether a target is empty. */
export async function digests(opened: OpenedStore): Promise<Map<Aggregate, Digest>> {
  const result = new Map<Aggregate, Digest>();
  for (const aggregate of AGGREGATES) {
    if (aggregate === 'medicoes') result.set(aggregate, await readingsDigest(opened));
    else result.set(aggregate, digestOf(await recordsOf(opened, aggregate)).digest);
  }
  return result;
}

export interface MigrationOptions {
  /** Copy into a target that already holds data (what it holds is kept; clashes are reported). */
  readonly merge: boolean;
  /** Told after each aggregate, and every PAGE readings. */
  readonly progress?: ((aggregate: Aggregate, done: number) => void) | undefined;
}

/** A target that holds data, and merging was not asked for: nothing was written. */
export class TargetNotEmptyError extends Error {
  constructor(readonly holding: ReadonlyArray<{ readonly aggregate: Aggregate; readonly count: number }>) {
    super(`the target already holds data (${holding.map(({ aggregate, count }) => `${aggregate}: ${count}`).join(', ')})`);
    this.name = 'TargetNotEmptyError';
  }
}

/** Copies one aggregate's records into the target; resolves how many it took. */
async function copyAggregate(source: OpenedStore, target: OpenedStore, aggregate: Exclude<Aggregate, 'medicoes'>, records: readonly unknown[], held: ReadonlySet<string>): Promise<number> {
  let copied = 0;
  const count = (taken: boolean): void => {
    if (taken) copied++;
  };
  switch (aggregate) {
    case 'clientes':
      return (await target.store.addCustomers(records as Awaited<ReturnType<typeof source.store.findCustomers>>)).added;
    case 'senhas':
      for (const { matricula, hash } of records as { matricula: string; hash: string }[]) {
        if ((await target.store.passwordHash(matricula)) === undefined) count(await target.store.setPasswordHash(matricula, hash));
      }
      return copied;
    case 'perfis':
      for (const profile of records as Awaited<ReturnType<typeof source.profiles.profiles>>) count(await target.profiles.setProfile(profile));
      return copied;
    case 'operadores':
      for (const account of records as Awaited<ReturnType<typeof source.accessStore.operators>>) count(await target.accessStore.createOperator(account));
      return copied;
    case 'geracoes_token':
      // Generations only go up: bumped until the target's is at least the source's, so every token the source refused stays refused.
      for (const { principal, generation } of records as { principal: string; generation: number }[]) {
        let now = await target.accessStore.generation(principal);
        if (now < generation) copied++;
        while (now < generation) now = await target.accessStore.bumpGeneration(principal);
      }
      return copied;
    case 'tarifas':
      return (await target.tariffs.addTariffs(records as Awaited<ReturnType<typeof source.tariffs.all>>)).added.length;
    case 'parametros_faturamento':
      for (const parameters of records as Awaited<ReturnType<typeof source.billingRules.listParameters>>) count((await target.billingRules.putParameters(parameters)) === 'created');
      return copied;
    case 'bandeiras':
      for (const flag of records as Awaited<ReturnType<typeof source.billingRules.listFlags>>) count((await target.billingRules.putFlag(flag)) === 'created');
      return copied;
    case 'distribuidoras':
      for (const record of records as Awaited<ReturnType<typeof source.billingRules.distributors>>) count((await target.billingRules.putDistributor(record)) === 'created');
      return copied;
    case 'pis_cofins':
      for (const rates of records as Awaited<ReturnType<typeof source.billingRules.listPisCofins>>) count((await target.billingRules.putPisCofins(rates)) === 'created');
      return copied;
    case 'fatores_emissao':
      for (const factor of records as Awaited<ReturnType<typeof source.billingRules.listEmissionFactors>>) count((await target.billingRules.putEmissionFactor(factor)) === 'created');
      return copied;
    case 'faturas':
      // By number: a replacement comes after the invoice it replaces.
      for (const invoice of records as Awaited<ReturnType<typeof source.invoices.all>>) count(await target.invoices.restore(invoice));
      return copied;
    case 'comandos':
      for (const command of records as Awaited<ReturnType<typeof source.commands.all>>) {
        if ((await target.commands.get(command.id)) === undefined) count((await target.commands.create(command)).created);
      }
      return copied;
    case 'alertas': {
      // Oldest first, closed ones before open ones of the same meter and key.
      const alerts = [...(records as Awaited<ReturnType<typeof source.alerts.list>>)].sort((a, b) => Number(isOpen(a)) - Number(isOpen(b)) || a.raisedAt - b.raisedAt);
      for (const alert of alerts) count(await target.alerts.restore(alert));
      return copied;
    }
    case 'ocorrencias': {
      const events = [...(records as Awaited<ReturnType<typeof source.events.list>>)].sort((a, b) => a.receivedAt - b.receivedAt || a.timestamp - b.timestamp);
      for (let start = 0; start < events.length; start += PAGE) for (const fresh of await target.events.append(events.slice(start, start + PAGE))) count(fresh);
      return copied;
    }
    case 'previsoes':
      for (const record of records as Awaited<ReturnType<typeof source.forecasts.all>>) {
        if ((await target.forecasts.record(record)) === undefined) continue;
        copied++;
        if (record.settledAt !== null) await target.forecasts.settle(record.matricula, record.month, record.actual, record.error, record.settledAt);
      }
      return copied;
    case 'contadores_medidores':
      for (const { matricula, counter } of records as { matricula: string; counter: bigint }[]) count(await target.meterCounters.advance(matricula, counter));
      return copied;
    case 'auditoria': {
      // Listed newest first: appended oldest first, so an empty target gives each entry the id it had.
      const entries = [...(records as Awaited<ReturnType<typeof source.audit.list>>)].reverse();
      for (const entry of entries) {
        // Merging: an entry the target holds already (a copy made before) is not appended twice.
        if (held.has(canonical(entry))) continue;
        await target.audit.append(entry);
        copied++;
      }
      return copied;
    }
  }
}

/** Copies the readings in one pass over the source, each meter's in the order they were admitted, keeping their qualities. */
async function copyReadings(source: OpenedStore, target: OpenedStore, progress: MigrationOptions['progress']): Promise<number> {
  let copied = 0;
  let done = 0;
  for await (const batch of source.store.scan()) {
    for (let start = 0; start < batch.length; start += PAGE) {
      const slice = batch.slice(start, start + PAGE);
      copied += (await target.store.restore(slice)).stored;
      done += slice.length;
      progress?.('medicoes', done);
    }
  }
  return copied;
}

/**
 * Copies every aggregate of `source` into `target` and compares both sides.
 * Refuses (TargetNotEmptyError, nothing written) a target holding data
 * unless `merge`. Resolves one report per aggregate; a copy is whole when
 * every report's `missing` is 0 (and, without merging, both digests match).
 */
export async function migrate(source: OpenedStore, target: OpenedStore, options: MigrationOptions): Promise<AggregateReport[]> {
  const before = await digests(target);
  const holding = [...before].filter(([, digest]) => digest.count > 0).map(([aggregate, digest]) => ({ aggregate, count: digest.count }));
  if (holding.length > 0 && !options.merge) throw new TargetNotEmptyError(holding);
  const reports: AggregateReport[] = [];
  for (const aggregate of AGGREGATES) {
    if (aggregate === 'medicoes') {
      const sourceDigest = await readingsDigest(source);
      const copied = await copyReadings(source, target, options.progress);
      const targetDigest = await readingsDigest(target);
      // Alike, nothing is missing; otherwise (a merge, or a copy that lost something) meter by meter, to say how many.
      const alike = sourceDigest.count === targetDigest.count && sourceDigest.sha256 === targetDigest.sha256;
      const missing = alike ? 0 : await missingReadings(source, target, await metersOf(source));
      reports.push({ aggregate, source: sourceDigest, target: targetDigest, copied, missing });
    } else {
      const records = await recordsOf(source, aggregate);
      const sourceSide = digestOf(records);
      const held = holding.length === 0 ? new Set<string>() : digestOf(await recordsOf(target, aggregate)).lines;
      const copied = await copyAggregate(source, target, aggregate, records, held);
      const targetSide = digestOf(await recordsOf(target, aggregate));
      let missing = 0;
      for (const line of sourceSide.lines) if (!targetSide.lines.has(line)) missing++;
      reports.push({ aggregate, source: sourceSide.digest, target: targetSide.digest, copied, missing });
    }
    options.progress?.(aggregate, reports[reports.length - 1]?.copied ?? 0);
  }
  return reports;
}

/** Source readings the target does not hold as the source does, meter by meter. */
async function missingReadings(source: OpenedStore, target: OpenedStore, meters: readonly string[]): Promise<number> {
  let missing = 0;
  for (const matricula of meters) {
    const held = new Set((await readingsOf(target, matricula)).map((reading) => canonical(readingRecord(reading))));
    for (const reading of await readingsOf(source, matricula)) if (!held.has(canonical(readingRecord(reading)))) missing++;
  }
  return missing;
}

/** Whether the copy is whole: nothing missing, and (without merging) both sides alike. */
export function isWhole(reports: readonly AggregateReport[], merge: boolean): boolean {
  return reports.every((report) => report.missing === 0 && (merge || (report.source.count === report.target.count && report.source.sha256 === report.target.sha256)));
}
