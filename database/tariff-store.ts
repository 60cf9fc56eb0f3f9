/**
 * Approved tariffs (ANEEL's "Tarifa de Aplicação", B1 residential): the
 * tariff aggregate. A tariff is one distributor's price for one modality and
 * posto over a validity; two of the same key never overlap. This file is the
 * specification both backends pass (test/database/tariff-contract.ts).
 */
import type { Tariff } from '../domain/billing/tariff.js';

export { TARIFF_POSTOS, TARIFF_SUBCLASSES, compareTariffs, judgeTariff, sameTariff, subclassOf, tariffKey, validitiesOverlap, type Tariff, type TariffJudgement, type TariffPosto, type TariffSubclass } from '../domain/billing/tariff.js';

export interface AddTariffsResult {
  readonly added: readonly Tariff[];
  /** Already stored exactly so: importing a file twice changes nothing. */
  readonly unchanged: readonly Tariff[];
  /** Their validity overlaps another tariff of the same key with other values. */
  readonly refused: ReadonlyArray<{ readonly tariff: Tariff; readonly conflictsWith: Tariff }>;
}

export interface TariffStore {
  /**
   * Adds tariffs, judged one after another by {@link judgeTariff} (earlier
   * ones of the same call count). Resolves once those added are durable.
   */
  addTariffs(tariffs: readonly Tariff[]): Promise<AddTariffsResult>;

  /** The tariffs in force on a day, by distributor, modality and posto. */
  tariffsInForce(day: string): Promise<Tariff[]>;

  /** One distributor's tariffs in force on any day from `from` to `to` (inclusive), oldest first within each key. */
  tariffsBetween(distribuidora: string, from: string, to: string): Promise<Tariff[]>;

  /** Every tariff stored, in {@link compareTariffs} order (migration between backends). */
  all(): Promise<Tariff[]>;
}
