/**
 * What consumption costs by the billing rules, as an estimate for views
 * (the dashboard's cards, charts and CSV; /consumo): each period's kWh at
 * the energy tariff in force on its first day (Tarifa Branca: split among
 * the postos by its time in each, as an invoice allocates an interval
 * between readings), plus that month's bandeira additional, with the taxes
 * grossed up as the invoice does (invoice.ts, `grossUp`). The items that do
 * not follow a period's kWh — custo de disponibilidade, CIP, the Tarifa
 * Social's bands over the cycle — are left to the invoice: this is an
 * estimate, and says so where it is shown. Pure: values in, cents out.
 */
import { divideRoundHalfUp, powerOfTen } from '../../protocol/decimal.js';
import type { Modality, PriceVersion, TariffKey } from './invoice.js';
import { CENTS_SCALE, grossUp, KWH_SCALE, PRICE_SCALE, RATE_SCALE } from './money.js';
import { allocateToPostos, POSTOS, type PostoHours } from './postos.js';

export interface EstimateRules {
  readonly modality: Modality;
  readonly prices: Readonly<Partial<Record<TariffKey, readonly PriceVersion[]>>>;
  /** Each month's bandeira additional (`YYYY-MM` -> 10^-8 R$/kWh); a month not set adds nothing. */
  readonly flagAdditional: (month: string) => bigint;
  /** The sum of the tax rates (10^-6) in force on a day. */
  readonly taxRate: (day: string) => bigint | undefined;
  readonly postoHours: PostoHours | undefined;
  readonly timeZone: string;
}

export interface PricedPeriod {
  readonly start: number;
  readonly end: number;
  /** The local day the period starts (`YYYY-MM-DD`): its tariff and bandeira. */
  readonly day: string;
  /** Thousandths of a kWh. */
  readonly consumption: bigint;
}

const versionOn = (versions: readonly PriceVersion[] | undefined, day: string): PriceVersion | undefined => versions?.find((v) => v.from <= day && (v.to === null || day <= v.to));

/** A price without taxes (10^-8 R$/kWh) with them, grossed up as the invoice does, at the same scale. */
export function withTaxes(price: bigint, rate: bigint): bigint {
  return divideRoundHalfUp(price * powerOfTen(RATE_SCALE), powerOfTen(RATE_SCALE) - rate);
}

/** The estimated cost of one period, in cents; undefined when a tariff or the parameters are not in force on its day. */
export function estimateCents(period: PricedPeriod, rules: EstimateRules): bigint | undefined {
  const rate = rules.taxRate(period.day);
  if (rate === undefined) return undefined;
  const additional = rules.flagAdditional(period.day.slice(0, 7));
  // Sum of kWh x price, in 10^-(KWH_SCALE + PRICE_SCALE) R$, rounded once.
  let amount = 0n;
  if (rules.modality === 'convencional') {
    const version = versionOn(rules.prices.convencional, period.day);
    if (version === undefined) return undefined;
    amount = period.consumption * (version.te + version.tusd + additional);
  } else {
    if (rules.postoHours === undefined) return undefined;
    const byPosto = allocateToPostos(period.start, period.end, period.consumption, rules.timeZone, rules.postoHours);
    for (const posto of POSTOS) {
      const version = versionOn(rules.prices[posto], period.day);
      if (version === undefined) return undefined;
      amount += byPosto[posto] * (version.te + version.tusd + additional);
    }
  }
  const net = divideRoundHalfUp(amount, powerOfTen(KWH_SCALE + PRICE_SCALE - CENTS_SCALE - 4));
  // Net in 10^-6 R$ (four places beyond cents), grossed up, then to cents: one rounding of money per step the invoice also takes.
  return divideRoundHalfUp(grossUp(net, rate), powerOfTen(4));
}

/** The unit price with taxes on a day (10^-8 R$/kWh): the conventional tariff, or Tarifa Branca's fora de ponta; undefined when not in force. */
export function unitPriceOn(day: string, rules: EstimateRules): bigint | undefined {
  const rate = rules.taxRate(day);
  const version = versionOn(rules.modality === 'convencional' ? rules.prices.convencional : rules.prices.fora_ponta, day);
  if (rate === undefined || version === undefined) return undefined;
  return withTaxes(version.te + version.tusd + rules.flagAdditional(day.slice(0, 7)), rate);
}
