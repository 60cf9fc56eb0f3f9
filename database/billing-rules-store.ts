/**
 * The distributor's billing rules, set by its operator: parameter versions
 * (taxes, custo de disponibilidade, CIP bands, due days, Tarifa Branca
 * posto hours, tarifa social bands), each in force from its start date
 * until the next one starts, each calendar month's bandeira, and each
 * month's grid emission factor (the CO2e every consumption carries). This file
 * is the specification both backends pass (test/database/billing-rules-contract.ts).
 */
import type { Connection, Flag } from '../domain/billing/invoice.js';
import type { MinuteSpan } from '../domain/billing/postos.js';

export interface BillingParameters {
  /** First day in force, `YYYY-MM-DD`. */
  readonly vigenciaInicio: string;
  /** Rates in 10^-6. */
  readonly taxes: { readonly icms: bigint; readonly pis: bigint; readonly cofins: bigint };
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
