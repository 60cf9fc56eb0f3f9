/**
 * What consumption costs by the billing rules, as an estimate for views
 * (the dashboard's cards, charts and CSV; /consumo): each period's kWh at
 * the energy tariff in force on its first day (Tarifa Branca: split among
 * the postos by its time in each, as an invoice allocates an interval
 * between readings), plus that month's bandeira additional, with the taxes
 * grossed up as the invoice does (invoice.ts, `grossUp`: Tema 69), exactly,
 * rounded once by NBR 5891. The items that do
 * not follow a period's kWh — custo de disponibilidade, CIP, the Tarifa
 * Social's bands over the cycle — are left to the invoice: this is an
 * estimate, and says so where it is shown. Pure: values in, cents out.
 */
import { grossUp, type Modality, type PisCofins, type PriceVersion, type TariffKey } from './invoice.js';
import { CENTS_SCALE, KWH_SCALE, PRICE_SCALE } from './money.js';
import { divideNbr5891, roundNbr5891, scaled } from './exact.js';

const ONE_RATE = 1_000_000n;
const GROSS_UP_SCALE = ONE_RATE * ONE_RATE;
/** 10^-(KWH_SCALE + PRICE_SCALE) R$ to cents. */
const CENTS_DIVISOR = 10n ** BigInt(KWH_SCALE + PRICE_SCALE - CENTS_SCALE);
import { allocateToPostos, POSTOS, type PostoHours } from './postos.js';

export interface EstimateRules {
  readonly modality: Modality;
  readonly prices: Readonly<Partial<Record<TariffKey, readonly PriceVersion[]>>>;
  /** Each month's bandeira additional (`YYYY-MM` -> 10^-8 R$/kWh); a month not set adds nothing. */
  readonly flagAdditional: (month: string) => bigint;
  /**
   * The taxes in force on a day (rates in 10^-6): ICMS at the general rate
   * (the last band: a period's share of the cycle's consumption is not
   * known), PIS/COFINS of the day's month (or the newest month set before).
   */
  readonly taxes: (day: string) => ({ readonly icms: bigint } & PisCofins) | undefined;
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
export function withTaxes(price: bigint, taxes: { readonly icms: bigint } & PisCofins): bigint {
  return roundNbr5891(grossUp(scaled(price, PRICE_SCALE), taxes.icms, taxes).gross, PRICE_SCALE);
}

/** The estimated cost of one period, in cents; undefined when a tariff or the parameters are not in force on its day. */
export function estimateCents(period: PricedPeriod, rules: EstimateRules): bigint | undefined {
  const taxes = rules.taxes(period.day);
  if (taxes === undefined) return undefined;
  const additional = rules.flagAdditional(period.day.slice(0, 7));
  // Sum of kWh x price, in 10^-(KWH_SCALE + PRICE_SCALE) R$: exact.
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
  // amount (10^-11 R$) x 10^12 / ((10^6 - PIS - COFINS) x (10^6 - ICMS)), in cents: the invoice's gross-up (grossUp) in one exact division.
  return divideNbr5891(amount * GROSS_UP_SCALE, (ONE_RATE - taxes.pis - taxes.cofins) * (ONE_RATE - taxes.icms) * CENTS_DIVISOR);
}

/** The unit price with taxes on a day (10^-8 R$/kWh): the conventional tariff, or Tarifa Branca's fora de ponta; undefined when not in force. */
export function unitPriceOn(day: string, rules: EstimateRules): bigint | undefined {
  const taxes = rules.taxes(day);
  const version = versionOn(rules.modality === 'convencional' ? rules.prices.convencional : rules.prices.fora_ponta, day);
  if (taxes === undefined || version === undefined) return undefined;
  return withTaxes(version.te + version.tusd + rules.flagAdditional(day.slice(0, 7)), taxes);
}
