/**
 * A Brazilian low-voltage (B1 residential) invoice, computed from what was
 * measured in a cycle and the rules in force: tariffs pro rata by days,
 * the custo de disponibilidade, bandeiras pro rata by days of each month,
 * the tarifa social bands, taxes "por dentro" and the CIP. Pure: values in,
 * values out; every rounding is half-up to the cent (away from zero for the
 * discount), each line on its own, and the total is the sum of the lines.
 */
import { POSTOS, type Posto, type PostoAmounts } from './postos.js';
import { energyCents, grossUp, KWH_SCALE, rateOf, splitExact } from './money.js';
import { divideRoundHalfUp, formatDecimal, powerOfTen } from '../../protocol/decimal.js';
import { DomainError } from '../errors.js';
import { DAY_MS } from '../../protocol/timestamp.js';

export const MODALITIES = ['convencional', 'branca'] as const;
export type Modality = (typeof MODALITIES)[number];
export const CONNECTIONS = ['monofasica', 'bifasica', 'trifasica'] as const;
export type Connection = (typeof CONNECTIONS)[number];
export const FLAGS = ['verde', 'amarela', 'vermelha_1', 'vermelha_2', 'escassez_hidrica'] as const;
export type Flag = (typeof FLAGS)[number];
export const FLAG_NAMES: Readonly<Record<Flag, string>> = {
  verde: 'verde',
  amarela: 'amarela',
  vermelha_1: 'vermelha patamar 1',
  vermelha_2: 'vermelha patamar 2',
  escassez_hidrica: 'escassez hídrica',
};
/** The tariff keys of a B1 residential customer: the conventional one and Tarifa Branca's three postos. */
export type TariffKey = 'convencional' | Posto;
/** TE and TUSD, in 10^-8 R$ per kWh, without taxes. */
export interface EnergyPrice {
  readonly te: bigint;
  readonly tusd: bigint;
}

/** One tariff's validity: first and last day in force (`YYYY-MM-DD`, inclusive; `to` null: until replaced). */
export interface PriceVersion extends EnergyPrice {
  readonly from: string;
  readonly to: string | null;
}

export interface BillingRules {
  /** Rates in 10^-6. */
  readonly taxes: { readonly icms: bigint; readonly pis: bigint; readonly cofins: bigint };
  readonly minimumKwh: Readonly<Record<Connection, number>>;
  /** CIP/COSIP by consumption band, ascending; `upToKwh` null: every consumption above the others. */
  readonly cip: ReadonlyArray<{ readonly upToKwh: number | null; readonly cents: bigint }>;
  readonly dueDays: number;
  /** Tarifa social bands, ascending; each band's kWh get `discount` (10^-6) off the energy price. */
  readonly social: ReadonlyArray<{ readonly upToKwh: number; readonly discount: bigint }>;
}

export interface CycleToBill {
  /** First day of the cycle and the day after its last (`YYYY-MM-DD`, local dates of the reading days). */
  readonly startDay: string;
  readonly endDay: string;
  /** Measured consumption, thousandths of a kWh. */
  readonly consumption: bigint;
  /** Tarifa Branca: the consumption of each posto (adds up to `consumption`). */
  readonly byPosto?: PostoAmounts | undefined;
  readonly modality: Modality;
  readonly connection: Connection;
  readonly socialTariff: boolean;
  readonly prices: Readonly<Partial<Record<TariffKey, readonly PriceVersion[]>>>;
  /** Each calendar month's flag (`YYYY-MM`) and its additional in 10^-8 R$/kWh; a month not set counts as verde. */
  readonly flags: ReadonlyMap<string, { readonly flag: Flag; readonly additional: bigint }>;
  readonly rules: BillingRules;
}

export type ItemKind = 'energia' | 'disponibilidade' | 'bandeira' | 'tarifa_social';

export interface InvoiceItem {
  readonly kind: ItemKind;
  readonly description: string;
  /** kWh, in thousandths. */
  readonly quantity: bigint;
  /** 10^-8 R$ per kWh (negative for a discount). */
  readonly unitPrice: bigint;
  readonly cents: bigint;
  readonly posto?: Posto | undefined;
  /** The days this line covers (first, last inclusive), when not the whole cycle. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export interface TaxLine {
  readonly name: 'ICMS' | 'PIS' | 'COFINS';
  readonly rate: bigint;
  readonly base: bigint;
  readonly cents: bigint;
}

export interface FlagPeriod {
  readonly month: string;
  readonly flag: Flag;
  readonly days: number;
  /** kWh billed under this month's flag, thousandths. */
  readonly kwh: bigint;
  readonly additional: bigint;
  readonly cents: bigint;
}

export interface ComputedInvoice {
  readonly days: number;
  readonly consumption: bigint;
  /** max(consumption, custo de disponibilidade). */
  readonly billable: bigint;
  readonly minimumKwh: number;
  readonly items: readonly InvoiceItem[];
  /** Sum of the items, without taxes. */
  readonly subtotal: bigint;
  /** The amount with taxes: subtotal / (1 - (ICMS + PIS + COFINS)). */
  readonly taxBase: bigint;
  readonly taxes: readonly TaxLine[];
  readonly flags: readonly FlagPeriod[];
  readonly cip: bigint;
  readonly total: bigint;
  readonly dueDay: string;
}

const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const dayText = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);
/** `dd/mm/aaaa`, as the invoice shows dates. */
export const brDate = (day: string): string => day.split('-').reverse().join('/');
const POSTO_NAMES: Readonly<Record<Posto, string>> = { ponta: 'ponta', intermediario: 'intermediário', fora_ponta: 'fora de ponta' };

/** Days from `from` for `count` days, grouped by the price version in force on each (consecutive days of one version). */
function priceSegments(versions: readonly PriceVersion[] | undefined, key: TariffKey, first: number, count: number): Array<{ version: PriceVersion; from: number; days: number }> {
  const segments: Array<{ version: PriceVersion; from: number; days: number }> = [];
  for (let day = first; day < first + count; day++) {
    const text = dayText(day);
    const version = versions?.find((v) => v.from <= text && (v.to === null || text <= v.to));
    if (version === undefined) throw new DomainError('tarifa_indisponivel', `Não há tarifa ${key === 'convencional' ? 'convencional' : `branca (${POSTO_NAMES[key]})`} em vigor em ${brDate(text)}.`);
    const last = segments[segments.length - 1];
    if (last !== undefined && last.version === version) last.days++;
    else segments.push({ version, from: day, days: 1 });
  }
  return segments;
}

const priceOf = (version: EnergyPrice): bigint => version.te + version.tusd;

/** Lines of one consumption at one tariff key, pro rata by days when the tariff changed within the cycle. */
function energyLines(kind: ItemKind, label: string, kwh: bigint, versions: readonly PriceVersion[] | undefined, key: TariffKey, first: number, count: number, posto?: Posto): InvoiceItem[] {
  const segments = priceSegments(versions, key, first, count);
  const quantities = splitExact(kwh, segments.map((segment) => BigInt(segment.days)));
  return segments.map((segment, i) => {
    const quantity = quantities[i] as bigint;
    const unitPrice = priceOf(segment.version);
    const whole = segments.length === 1;
    const from = dayText(segment.from);
    const to = dayText(segment.from + segment.days - 1);
    return {
      kind,
      description: whole ? label : `${label}, ${brDate(from)} a ${brDate(to)} (${segment.days} dias)`,
      quantity,
      unitPrice,
      cents: energyCents(quantity, unitPrice),
      posto,
      from: whole ? undefined : from,
      to: whole ? undefined : to,
    };
  });
}

/** The days of the cycle in each calendar month, in order. */
function monthsOf(first: number, count: number): Array<{ month: string; days: number }> {
  const months: Array<{ month: string; days: number }> = [];
  for (let day = first; day < first + count; day++) {
    const month = dayText(day).slice(0, 7);
    const last = months[months.length - 1];
    if (last?.month === month) last.days++;
    else months.push({ month, days: 1 });
  }
  return months;
}

const kwhUnits = (kwh: number): bigint => BigInt(kwh) * powerOfTen(KWH_SCALE);

export function computeInvoice(cycle: CycleToBill): ComputedInvoice {
  const first = dayNumber(cycle.startDay);
  const days = dayNumber(cycle.endDay) - first;
  if (!Number.isInteger(days) || days < 1) throw new DomainError('ciclo_invalido', `O ciclo de ${cycle.startDay} a ${cycle.endDay} não tem dias.`);
  if (cycle.modality === 'branca' && cycle.socialTariff) throw new DomainError('tarifa_social_branca', 'A tarifa social não se aplica à modalidade branca.');
  const { rules, consumption } = cycle;
  const minimumKwh = rules.minimumKwh[cycle.connection];
  const minimum = kwhUnits(minimumKwh);
  const billable = consumption > minimum ? consumption : minimum;
  const lastDay = first + days - 1;
  const items: InvoiceItem[] = [];

  if (cycle.modality === 'convencional') {
    items.push(...energyLines('energia', 'Energia elétrica (TE + TUSD)', consumption, cycle.prices.convencional, 'convencional', first, days));
  } else {
    const byPosto = cycle.byPosto;
    if (byPosto === undefined || byPosto.ponta + byPosto.intermediario + byPosto.fora_ponta !== consumption) {
      throw new DomainError('ciclo_invalido', 'O consumo por posto não soma o consumo do ciclo.');
    }
    for (const posto of POSTOS) items.push(...energyLines('energia', `Energia ${POSTO_NAMES[posto]} (TE + TUSD)`, byPosto[posto], cycle.prices[posto], posto, first, days, posto));
  }
  // The minimum applies to the total: what falls short is billed at the cheapest (or only) tariff of the cycle's last day.
  if (consumption < minimum) {
    const key: TariffKey = cycle.modality === 'convencional' ? 'convencional' : 'fora_ponta';
    const [segment] = priceSegments(cycle.prices[key], key, lastDay, 1);
    const quantity = minimum - consumption;
    const unitPrice = priceOf((segment as { version: PriceVersion }).version);
    items.push({ kind: 'disponibilidade', description: `Custo de disponibilidade (complemento até ${minimumKwh} kWh)`, quantity, unitPrice, cents: energyCents(quantity, unitPrice) });
  }

  const months = monthsOf(first, days);
  const monthKwh = splitExact(billable, months.map((m) => BigInt(m.days)));
  const flags: FlagPeriod[] = months.map((m, i) => {
    const set = cycle.flags.get(m.month);
    const flag = set?.flag ?? 'verde';
    const additional = set?.additional ?? 0n;
    const kwh = monthKwh[i] as bigint;
    return { month: m.month, flag, days: m.days, kwh, additional, cents: energyCents(kwh, additional) };
  });
  for (const period of flags) {
    if (period.additional === 0n) continue;
    const [year, month] = period.month.split('-');
    items.push({ kind: 'bandeira', description: `Adicional bandeira ${FLAG_NAMES[period.flag]} (${month}/${year}, ${period.days} dias)`, quantity: period.kwh, unitPrice: period.additional, cents: period.cents });
  }

  if (cycle.socialTariff) {
    const [segment] = priceSegments(cycle.prices.convencional, 'convencional', lastDay, 1);
    const price = priceOf((segment as { version: PriceVersion }).version);
    let below = 0;
    for (const band of rules.social) {
      const quantity = clamp(consumption - kwhUnits(below), 0n, kwhUnits(band.upToKwh - below));
      if (quantity > 0n) {
        const unitPrice = -divideRoundHalfUp(price * band.discount, powerOfTen(6));
        const label = below === 0 ? `até ${band.upToKwh} kWh` : `de ${below + 1} a ${band.upToKwh} kWh`;
        items.push({ kind: 'tarifa_social', description: `Desconto tarifa social (${label}, ${formatPercent(band.discount)})`, quantity, unitPrice, cents: energyCents(quantity, unitPrice) });
      }
      below = band.upToKwh;
    }
  }

  const subtotal = items.reduce((sum, item) => sum + item.cents, 0n);
  const { icms, pis, cofins } = rules.taxes;
  const taxBase = grossUp(subtotal, icms + pis + cofins);
  const taxes: TaxLine[] = [
    { name: 'ICMS', rate: icms, base: taxBase, cents: rateOf(taxBase, icms) },
    { name: 'PIS', rate: pis, base: taxBase, cents: rateOf(taxBase, pis) },
    { name: 'COFINS', rate: cofins, base: taxBase, cents: rateOf(taxBase, cofins) },
  ];
  const band = rules.cip.find((b) => b.upToKwh === null || consumption <= kwhUnits(b.upToKwh));
  const cip = band?.cents ?? 0n;
  const total = subtotal + taxes.reduce((sum, tax) => sum + tax.cents, 0n) + cip;
  return { days, consumption, billable, minimumKwh, items, subtotal, taxBase, taxes, flags, cip, total, dueDay: dayText(dayNumber(cycle.endDay) + rules.dueDays) };
}

const clamp = (value: bigint, low: bigint, high: bigint): bigint => (value < low ? low : value > high ? high : value);

/** `650000` (10^-6) as `65%`, `16500` as `1,65%`. */
function formatPercent(rate: bigint): string {
  return `${formatDecimal(rate * 100n, 6).replace('.', ',')}%`;
}
