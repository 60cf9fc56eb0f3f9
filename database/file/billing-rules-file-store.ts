/** Billing parameters, bandeiras, PIS/COFINS rates and emission factors in `faturamento.jsonl` (see journal.ts): the latest record of each key wins. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { distributorJson, emissionFactorJson, parametersJson, flagJson, parseDistributorJson, parseEmissionFactorJson, parseFlagJson, parsePisCofinsJson, parseStoredParameters, pisCofinsJson } from '../billing-rules-json.js';
import type { BillingParameters, BillingRulesStore, DistributorRecord, MonthEmissionFactor, MonthFlag, MonthPisCofins } from '../billing-rules-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const BILLING_RULES_FILE = 'faturamento.jsonl';

type Entry =
  | { readonly kind: 'parameters'; readonly value: BillingParameters }
  | { readonly kind: 'flag'; readonly value: MonthFlag }
  | { readonly kind: 'factor'; readonly value: MonthEmissionFactor }
  | { readonly kind: 'pis_cofins'; readonly value: MonthPisCofins }
  | { readonly kind: 'distributor'; readonly value: DistributorRecord };

function parseEntry(value: unknown): Entry | undefined {
  const record = value as { tipo?: unknown } | null;
  if (record?.tipo === 'parametros') {
    const parsed = parseStoredParameters(record);
    return parsed.success ? { kind: 'parameters', value: parsed.data } : undefined;
  }
  if (record?.tipo === 'bandeira') {
    const flag = parseFlagJson(record);
    return flag === undefined ? undefined : { kind: 'flag', value: flag };
  }
  if (record?.tipo === 'distribuidora') {
    const distributor = parseDistributorJson(record);
    return distributor === undefined ? undefined : { kind: 'distributor', value: distributor };
  }
  if (record?.tipo === 'pis_cofins') {
    const rates = parsePisCofinsJson(record);
    return rates === undefined ? undefined : { kind: 'pis_cofins', value: rates };
  }
  if (record?.tipo === 'fator_emissao') {
    const factor = parseEmissionFactorJson(record);
    return factor === undefined ? undefined : { kind: 'factor', value: factor };
  }
  return undefined;
}

export class FileBillingRulesStore implements BillingRulesStore {
  private readonly parameters = new Map<string, BillingParameters>();
  private readonly flags = new Map<string, MonthFlag>();
  private readonly factors = new Map<string, MonthEmissionFactor>();
  private readonly pisCofins = new Map<string, MonthPisCofins>();
  private readonly byDistributor = new Map<string, DistributorRecord>();
  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileBillingRulesStore> {
    const store = new FileBillingRulesStore(new JournalWriter(join(dataDir, BILLING_RULES_FILE), BILLING_RULES_FILE));
    for (const entry of await readJournal(store.journal.path, parseEntry, logger)) {
      if (entry.kind === 'parameters') store.parameters.set(entry.value.vigenciaInicio, entry.value);
      else if (entry.kind === 'flag') store.flags.set(entry.value.month, entry.value);
      else if (entry.kind === 'pis_cofins') store.pisCofins.set(entry.value.month, entry.value);
      else if (entry.kind === 'distributor') store.byDistributor.set(entry.value.sigla, entry.value);
      else store.factors.set(entry.value.month, entry.value);
    }
    return store;
  }

  putParameters(parameters: BillingParameters): Promise<'created' | 'replaced'> {
    return this.put(this.parameters, parameters.vigenciaInicio, parameters, { tipo: 'parametros', ...parametersJson(parameters) });
  }

  async listParameters(): Promise<BillingParameters[]> {
    return [...this.parameters.values()].sort((a, b) => a.vigenciaInicio.localeCompare(b.vigenciaInicio));
  }

  putFlag(flag: MonthFlag): Promise<'created' | 'replaced'> {
    return this.put(this.flags, flag.month, flag, { tipo: 'bandeira', ...flagJson(flag) });
  }

  async listFlags(fromMonth: string, toMonth: string): Promise<MonthFlag[]> {
    return inMonths(this.flags, fromMonth, toMonth);
  }

  putDistributor(record: DistributorRecord): Promise<'created' | 'replaced'> {
    return this.put(this.byDistributor, record.sigla, record, { tipo: 'distribuidora', ...distributorJson(record) });
  }

  async distributor(sigla: string): Promise<DistributorRecord | undefined> {
    return this.byDistributor.get(sigla);
  }

  async distributors(): Promise<DistributorRecord[]> {
    return [...this.byDistributor.values()].sort((a, b) => a.sigla.localeCompare(b.sigla));
  }

  putPisCofins(rates: MonthPisCofins): Promise<'created' | 'replaced'> {
    return this.put(this.pisCofins, rates.month, rates, { tipo: 'pis_cofins', ...pisCofinsJson(rates) });
  }

  async listPisCofins(fromMonth: string, toMonth: string): Promise<MonthPisCofins[]> {
    return inMonths(this.pisCofins, fromMonth, toMonth);
  }

  putEmissionFactor(factor: MonthEmissionFactor): Promise<'created' | 'replaced'> {
    return this.put(this.factors, factor.month, factor, { tipo: 'fator_emissao', ...emissionFactorJson(factor) });
  }

  /** Journals `record` (durable), then keeps `value` under `key`, replacing what was there. */
  private put<T>(map: Map<string, T>, key: string, value: T, record: Record<string, unknown>): Promise<'created' | 'replaced'> {
    return this.journal.serially(async () => {
      await this.journal.append([record]);
      const existed = map.has(key);
      map.set(key, value);
      return existed ? 'replaced' : 'created';
    });
  }

  async listEmissionFactors(fromMonth: string, toMonth: string): Promise<MonthEmissionFactor[]> {
    return inMonths(this.factors, fromMonth, toMonth);
  }
}

/** The values of months from `fromMonth` to `toMonth` (inclusive), in month order. */
function inMonths<T extends { readonly month: string }>(map: ReadonlyMap<string, T>, fromMonth: string, toMonth: string): T[] {
  return [...map.values()].filter((value) => value.month >= fromMonth && value.month <= toMonth).sort((a, b) => a.month.localeCompare(b.month));
}
