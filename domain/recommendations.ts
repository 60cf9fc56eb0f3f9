/**
 * Rule-based savings suggestions (pure): each from facts the server
 * measured, with its evidence and an estimated monthly saving in kWh and in
 * reais (at the customer's average variable price per kWh). Exact: kWh in
 * thousandths, money in cents, one half-up rounding each.
 */
import { divideRoundHalfUp } from '../protocol/decimal.js';

/** A night-time baseload above this (W) is worth looking at. */
export const BASELOAD_THRESHOLD_W = 150n;
/** The share of the baseload a household can usually cut (standby, old fridges): half. */
const BASELOAD_CUT_NUMERATOR = 1n;
const BASELOAD_CUT_DENOMINATOR = 2n;
/** Hours in an average month (365.25 x 24 / 12). */
const HOURS_PER_MONTH = 730n;
/** A rise over this share (in thousandths) against a comparable cycle is worth a word: 20%. */
export const RISE_THRESHOLD = 200n;

export interface RecommendationFacts {
  /** Cents per kWh of the variable part of the forecast invoice (in 10^-3 cents per kWh). */
  readonly priceMilliCentsPerKwh: bigint | null;
  /** Tarifa Branca comparison over closed cycles: the modality now, cycles compared, and totals in cents. */
  readonly modality?: { readonly current: 'convencional' | 'branca'; readonly compared: number; readonly conventional: bigint; readonly white: bigint } | undefined;
  /** Night-time (00:00-05:00) baseload: the lowest mean power over the nights seen, in W, and nights seen. */
  readonly baseload?: { readonly watts: bigint; readonly nights: number } | undefined;
  /** The open cycle's forecast (thousandths kWh) against the last closed cycle and the same cycle last year, when known. */
  readonly forecast?: { readonly projected: bigint; readonly previous: bigint | null; readonly lastYear: bigint | null } | undefined;
  /** The goal and the forecast against it (thousandths kWh, or cents). */
  readonly goal?: { readonly kind: 'kwh' | 'valor'; readonly goal: bigint; readonly projected: bigint } | undefined;
}

export type RecommendationCode = 'tarifa_branca' | 'consumo_base_noturno' | 'consumo_acima_ciclo_anterior' | 'consumo_acima_ano_anterior' | 'meta_em_risco';

/** An evidence value: a count or a name, or exact kWh (thousandths) or money (cents). */
export type Evidence = number | string | null | { readonly kwh: bigint } | { readonly cents: bigint } | { readonly watts: bigint };

export interface Recommendation {
  readonly code: RecommendationCode;
  readonly title: string;
  readonly evidence: Readonly<Record<string, Evidence>>;
  /** Thousandths of a kWh a month; cents a month. */
  readonly savingKwh: bigint;
  readonly savingCents: bigint;
}

/** Cents of `kwh` thousandths at a price in 10^-3 cents per kWh. */
export function centsOf(kwh: bigint, priceMilliCents: bigint | null): bigint {
  return priceMilliCents === null ? 0n : divideRoundHalfUp(kwh * priceMilliCents, 1_000_000n);
}

export function recommend(facts: RecommendationFacts): Recommendation[] {
  const out: Recommendation[] = [];
  const price = facts.priceMilliCentsPerKwh;
  const modality = facts.modality;
  if (modality !== undefined && modality.compared > 0 && modality.current === 'convencional' && modality.white < modality.conventional) {
    const perMonth = divideRoundHalfUp(modality.conventional - modality.white, BigInt(modality.compared));
    out.push({
      code: 'tarifa_branca',
      title: 'Mudar para a Tarifa Branca: nos ciclos comparados ela custaria menos, com o mesmo consumo.',
      evidence: { ciclos_comparados: modality.compared, total_convencional: { cents: modality.conventional }, total_branca: { cents: modality.white } },
      savingKwh: 0n,
      savingCents: perMonth,
    });
  }
  const baseload = facts.baseload;
  if (baseload !== undefined && baseload.watts > BASELOAD_THRESHOLD_W) {
    // W x hours/month = Wh; thousandths of a kWh are Wh.
    const kwh = divideRoundHalfUp(baseload.watts * HOURS_PER_MONTH * BASELOAD_CUT_NUMERATOR, BASELOAD_CUT_DENOMINATOR);
    out.push({
      code: 'consumo_base_noturno',
      title: `Consumo de madrugada de ${baseload.watts} W o tempo todo: aparelhos em espera, geladeiras antigas ou algo ligado sem uso. Cortar metade economiza.`,
      evidence: { potencia_base: { watts: baseload.watts }, noites_observadas: baseload.nights },
      savingKwh: kwh,
      savingCents: centsOf(kwh, price),
    });
  }
  const forecast = facts.forecast;
  for (const [code, compared, label] of [
    ['consumo_acima_ciclo_anterior', forecast?.previous ?? null, 'o ciclo anterior'],
    ['consumo_acima_ano_anterior', forecast?.lastYear ?? null, 'o mesmo ciclo do ano passado'],
  ] as const) {
    if (forecast === undefined || compared === null || compared === 0n) continue;
    const rise = forecast.projected - compared;
    if (rise * 1000n <= compared * RISE_THRESHOLD) continue;
    out.push({
      code,
      title: `O ciclo aberto caminha para ${divideRoundHalfUp(rise * 100n, compared)}% mais consumo que ${label}.`,
      evidence: { previsto: { kwh: forecast.projected }, comparado: { kwh: compared } },
      savingKwh: rise,
      savingCents: centsOf(rise, price),
    });
  }
  const goal = facts.goal;
  if (goal !== undefined && goal.projected > goal.goal) {
    const excess = goal.projected - goal.goal;
    const kwh = goal.kind === 'kwh' ? excess : price === null || price === 0n ? 0n : divideRoundHalfUp(excess * 1_000_000n, price);
    out.push({
      code: 'meta_em_risco',
      title: 'A previsão do ciclo passa da sua meta: reduza o consumo até o fim do ciclo.',
      evidence: goal.kind === 'kwh' ? { meta: { kwh: goal.goal }, previsto: { kwh: goal.projected } } : { meta: { cents: goal.goal }, previsto: { cents: goal.projected } },
      savingKwh: kwh,
      savingCents: goal.kind === 'valor' ? excess : centsOf(excess, price),
    });
  }
  return out;
}
