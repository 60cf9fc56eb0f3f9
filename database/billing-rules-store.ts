/**
 * The distributor's billing rules, set by its operator: parameter versions
 * (the state's ICMS table, custo de disponibilidade, CIP bands, due days,
 * Tarifa Branca posto hours, tarifa social bands), each in force from its
 * start date until the next one starts, each calendar month's bandeira,
 * each month's effective PIS/COFINS rates, and each month's grid emission
 * factor (the CO2e every consumption carries). This file
 * is the specification both backends pass (test/database/billing-rules-contract.ts).
 */
import type { Connection, Flag, IcmsRule, PisCofins } from '../domain/billing/invoice.js';
import type { DocumentDistributor } from '../domain/billing/document.js';
import type { MinuteSpan } from '../domain/billing/postos.js';

export interface BillingParameters {
  /** First day in force, `YYYY-MM-DD`. */
  readonly vigenciaInicio: string;
  /** The state's ICMS on residential supply (rates in 10^-6). */
  readonly icms: IcmsRule;
  readonly minimumKwh: Readonly<Record<Connection, number>>;
  /** Ascending; the last band's `upToKwh` is null (every consumption above). Amounts in cents. */
  readonly cip: ReadonlyArray<{ readonly upToKwh: number | null; readonly cents: bigint }>;
  readonly dueDays: number;
  readonly postoHours: { readonly ponta: readonly MinuteSpan[]; readonly intermediario: readonly MinuteSpan[] };
  /** Ascending bands; discounts in 10^-6. */
  readonly social: ReadonlyArray<{ readonly upToKwh: number; readonly discount: bigint }>;
}

export interface MonthFlag {
  /** `YYYY-MM`. */
  readonly month: string;
  readonly flag: Flag;
  /** 10^-8 R$ per kWh, without taxes. */
  readonly additional: bigint;
}

/** A month's effective PIS/PASEP and COFINS rates, as the distributor publishes them (10^-6). */
export interface MonthPisCofins extends PisCofins {
  /** `YYYY-MM`. */
  readonly month: string;
}

/**
 * The distributor as its invoices name it (PRODIST Módulo 11; REN 1.000 art.
 * 327) and as customers pay it: FEBRABAN's 4-digit collection code and a PIX
 * key with the payee's city as the BR Code carries them (the entity is the
 * billing domain's; `sigla` is ANEEL's SigAgente, the DISTRIBUIDORA setting).
 */
export type DistributorRecord = DocumentDistributor;

export interface MonthEmissionFactor {
  /** `YYYY-MM`. */
  readonly month: string;
  /** kg CO2e per kWh, in 10^-6. */
  readonly kgPerKwh: bigint;
}

export interface BillingRulesStore {
  /** Stores a parameter version, replacing one with the same start. Resolves `created` or `replaced` once durable. */
  putParameters(parameters: BillingParameters): Promise<'created' | 'replaced'>;
  /** Every version, oldest first. */
  listParameters(): Promise<BillingParameters[]>;
  /** Sets a month's bandeira, replacing what was set. Resolves once durable. */
  putFlag(flag: MonthFlag): Promise<'created' | 'replaced'>;
  /** The bandeiras set from `fromMonth` to `toMonth` (inclusive, `YYYY-MM`), in month order. */
  listFlags(fromMonth: string, toMonth: string): Promise<MonthFlag[]>;
  /** Sets a distributor's record, replacing what was set. Resolves once durable. */
  putDistributor(record: DistributorRecord): Promise<'created' | 'replaced'>;
  /** The record of the distributor `sigla`, if set. */
  distributor(sigla: string): Promise<DistributorRecord | undefined>;
  /** Every distributor record, by sigla (migration between backends). */
  distributors(): Promise<DistributorRecord[]>;
  /** Sets a month's PIS/COFINS rates, replacing what was set. Resolves once durable. */
  putPisCofins(rates: MonthPisCofins): Promise<'created' | 'replaced'>;
  /** The PIS/COFINS rates set from `fromMonth` to `toMonth` (inclusive, `YYYY-MM`), in month order. */
  listPisCofins(fromMonth: string, toMonth: string): Promise<MonthPisCofins[]>;
  /** Sets a month's emission factor, replacing what was set. Resolves once durable. */
  putEmissionFactor(factor: MonthEmissionFactor): Promise<'created' | 'replaced'>;
  /** The factors set from `fromMonth` to `toMonth` (inclusive, `YYYY-MM`), in month order. */
  listEmissionFactors(fromMonth: string, toMonth: string): Promise<MonthEmissionFactor[]>;
}

/** The version in force on a day: the one with the latest start on or before it. */
export function parametersOn(versions: readonly BillingParameters[], day: string): BillingParameters | undefined {
  let found: BillingParameters | undefined;
  for (const version of versions) if (version.vigenciaInicio <= day && (found === undefined || version.vigenciaInicio > found.vigenciaInicio)) found = version;
  return found;
}
