/**
 * Approved tariffs (ANEEL's "Tarifa de Aplicação", B1 residential): the
 * tariff aggregate. A tariff is one distributor's price for one modality and
 * posto over a validity; two of the same key never overlap. This file is the
 * specification both backends pass (test/database/tariff-contract.ts).
 */
import type { Modality } from '../domain/billing/invoice.js';

export const TARIFF_POSTOS = ['nao_se_aplica', 'ponta', 'intermediario', 'fora_ponta'] as const;
export type TariffPosto = (typeof TARIFF_POSTOS)[number];

export interface Tariff {
  /** ANEEL's SigAgente, e.g. `CEMIG-D`. */
  readonly distribuidora: string;
  readonly modalidade: Modality;
  /** `nao_se_aplica` for the conventional modality. */
  readonly posto: TariffPosto;
  /** First day in force, `YYYY-MM-DD`. */
  readonly vigenciaInicio: string;
  /** Last day in force (inclusive), or null while open-ended. */
  readonly vigenciaFim: string | null;
  /** TE and TUSD without taxes, in 10^-8 R$ per kWh. */
  readonly te: bigint;
  readonly tusd: bigint;
  /** The resolution that approved it (ANEEL's DscREH), or empty. */
  readonly resolucao: string;
}

export const tariffKey = (tariff: Pick<Tariff, 'distribuidora' | 'modalidade' | 'posto'>): string => `${tariff.distribuidora}|${tariff.modalidade}|${tariff.posto}`;

/** Whether two tariffs of one key share a day. */
export function validitiesOverlap(a: Tariff, b: Tariff): boolean {
  const aEnd = a.vigenciaFim ?? '9999-12-31';
  const bEnd = b.vigenciaFim ?? '9999-12-31';
  return a.vigenciaInicio <= bEnd && b.vigenciaInicio <= aEnd;
}

/** Whether two tariffs are the same row: key, validity, prices and act. */
export const sameTariff = (a: Tariff, b: Tariff): boolean =>
  tariffKey(a) === tariffKey(b) && a.vigenciaInicio === b.vigenciaInicio && a.vigenciaFim === b.vigenciaFim && a.te === b.te && a.tusd === b.tusd && a.resolucao === b.resolucao;

export type TariffJudgement = { readonly outcome: 'added' } | { readonly outcome: 'unchanged' } | { readonly outcome: 'refused'; readonly conflictsWith: Tariff };

/** What a store does with a tariff, given those of its key already stored: the one rule both backends follow. */
export function judgeTariff(stored: readonly Tariff[], candidate: Tariff): TariffJudgement {
  if (stored.some((tariff) => sameTariff(tariff, candidate))) return { outcome: 'unchanged' };
  const clash = stored.find((tariff) => tariffKey(tariff) === tariffKey(candidate) && validitiesOverlap(tariff, candidate));
  return clash === undefined ? { outcome: 'added' } : { outcome: 'refused', conflictsWith: clash };
}

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

/** The order tariffs are listed in. */
export function compareTariffs(a: Tariff, b: Tariff): number {
  const keys = [tariffKey(a).localeCompare(tariffKey(b)), a.vigenciaInicio.localeCompare(b.vigenciaInicio)];
  return keys.find((k) => k !== 0) ?? 0;
}
