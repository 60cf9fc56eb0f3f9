/**
 * The tariff entity (ANEEL's "Tarifa de Aplicação", B1 residential) and the
 * rules every tariff store follows: one key's validities never overlap.
 */
import type { Modality } from './invoice.js';

export const TARIFF_POSTOS = ['nao_se_aplica', 'ponta', 'intermediario', 'fora_ponta'] as const;
export type TariffPosto = (typeof TARIFF_POSTOS)[number];

/**
 * The B1 residential subclasses whose rows bill a customer (ANEEL's
 * `DscSubClasse`): the residential tariff, and since Lei 15.235/2025 the
 * rows of the Tarifa Social ("Residencial Tarifa Social – faixa 01": up to
 * 80 kWh, free; "faixa 02": above) and of the Desconto Social ("Residencial
 * Desconto Social – faixa 01": up to 120 kWh, without the CDE quota;
 * "faixa 02": above).
 */
export const TARIFF_SUBCLASSES = ['residencial', 'tarifa_social_1', 'tarifa_social_2', 'desconto_social_1', 'desconto_social_2'] as const;
export type TariffSubclass = (typeof TARIFF_SUBCLASSES)[number];

export interface Tariff {
  /** ANEEL's SigAgente, e.g. `CEMIG-D`. */
  readonly distribuidora: string;
  readonly modalidade: Modality;
  /** `nao_se_aplica` for the conventional modality. */
  readonly posto: TariffPosto;
  /** Absent: `residencial`. */
  readonly subclasse?: TariffSubclass | undefined;
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

export const subclassOf = (tariff: Pick<Tariff, 'subclasse'>): TariffSubclass => tariff.subclasse ?? 'residencial';
export const tariffKey = (tariff: Pick<Tariff, 'distribuidora' | 'modalidade' | 'posto' | 'subclasse'>): string => `${tariff.distribuidora}|${tariff.modalidade}|${tariff.posto}|${subclassOf(tariff)}`;

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

/** The order tariffs are listed in. */
export function compareTariffs(a: Tariff, b: Tariff): number {
  const keys = [tariffKey(a).localeCompare(tariffKey(b)), a.vigenciaInicio.localeCompare(b.vigenciaInicio)];
  return keys.find((k) => k !== 0) ?? 0;
}
