/**
 * A Brazilian low-voltage (B1 residential) invoice, computed from what was
 * measured in a cycle and the rules in force: tariffs pro rata by days, the
 * custo de disponibilidade (REN 1.000/2021 arts. 290-291), bandeiras pro
 * rata by days of each month (arts. 307-309), the tarifa social bands, and
 * the taxes of each line "por dentro" after STF Tema 69 (PIS/COFINS on the
 * amount without ICMS, ICMS on the amount with PIS/COFINS). Pure: values
 * in, values out. Nothing is rounded while computing (art. 657, see
 * exact.ts); each printed figure is rounded once by NBR 5891, and the total
 * is the sum of the printed line values and the CIP.
 */
import { POSTOS, type Posto, type PostoAmounts } from './postos.js';
import { CENTS_SCALE, KWH_SCALE, PRICE_SCALE, RATE_SCALE } from './money.js';
import { add, compare, div, max, min, mul, neg, ONE, ratio, roundNbr5891, scaled, sub, sum, ZERO, type Ratio } from './exact.js';
import { formatDecimal, powerOfTen } from '../../protocol/decimal.js';
import { DomainError } from '../errors.js';
import { DAY_MS } from '../../protocol/timestamp.js';
import { addWorkingDays, nextWorkingDay } from './calendar.js';

/**
 * REN 1.000/2021 art. 337: the due date is at least 5 working days after the
 * invoice is presented (II; 10 for the poder público, iluminação pública and
 * serviço público classes, I, which this server does not bill).
 */
export const MIN_DUE_WORKING_DAYS = 5;

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
/** A benefit the household holds over a validity (`YYYY-MM-DD`, inclusive; `to` null: until ended). */
export interface BenefitPeriod {
  readonly kind: Benefit;
  readonly from: string;
  readonly to: string | null;
}

/** The benefit that bills a cycle: the recorded one when in force on its last day; without one recorded, the Tarifa Social when `socialTariff`. */
export function benefitOn(recorded: BenefitPeriod | undefined, socialTariff: boolean, lastDay: string): Benefit | null {
  if (recorded !== undefined) return recorded.from <= lastDay && (recorded.to === null || lastDay <= recorded.to) ? recorded.kind : null;
  return socialTariff ? 'tarifa_social' : null;
}

/** The rows of the Tarifa Social and the Desconto Social by band (ANEEL's subclasses "… – faixa 01" and "faixa 02"). */
export type BenefitKey = 'tarifa_social_1' | 'tarifa_social_2' | 'desconto_social_1' | 'desconto_social_2';
/** The tariff keys of a B1 residential customer: the conventional one, Tarifa Branca's three postos, and the benefits' rows. */
export type TariffKey = 'convencional' | Posto | BenefitKey;

/** A household's social benefit. */
export const BENEFITS = ['tarifa_social', 'desconto_social'] as const;
export type Benefit = (typeof BENEFITS)[number];

/**
 * Lei 15.235/2025 (from MP 1.300/2025), in force since 05/07/2025: a Tarifa
 * Social household's consumption up to 80 kWh a month is free, the rest
 * billed at the tariff (the rows "Residencial Tarifa Social – faixa 01/02");
 * before, Lei 12.212/2010 art. 1º's bands (the parameters' `social`).
 */
export const FREE_TARIFA_SOCIAL_FROM = '2025-07-05';
export const FREE_TARIFA_SOCIAL_KWH = 80;
/** Lei 15.235/2025: from 01/01/2026, the Desconto Social bills up to 120 kWh a month without the CDE quota (the rows "Residencial Desconto Social – faixa 01/02"). */
export const DESCONTO_SOCIAL_FROM = '2026-01-01';
export const DESCONTO_SOCIAL_KWH = 120;
const BENEFIT_NAMES: Readonly<Record<BenefitKey, string>> = {
  tarifa_social_1: 'Tarifa Social, faixa 1',
  tarifa_social_2: 'Tarifa Social, faixa 2',
  desconto_social_1: 'Desconto Social, faixa 1',
  desconto_social_2: 'Desconto Social, faixa 2',
};
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

/**
 * The state's ICMS on B1 residential supply, as a distributor applies it:
 * the band that holds the cycle's consumption sets the rate of the whole
 * invoice; a Tarifa Social household is exempt when its mean daily
 * consumption in the cycle is at most `maxDailyKwh` (null: always).
 */
export interface IcmsRule {
  /** Ascending; the last band's `upToKwh` is null (every consumption above). Rates in 10^-6. */
  readonly bands: ReadonlyArray<{ readonly upToKwh: number | null; readonly rate: bigint }>;
  readonly socialTariffExemption: { readonly maxDailyKwh: number | null } | null;
}

/** PIS/PASEP and COFINS: the distributor's effective rates of a month (10^-6). */
export interface PisCofins {
  readonly pis: bigint;
  readonly cofins: bigint;
}

export interface BillingRules {
  readonly icms: IcmsRule;
  /** The rates of the cycle's reference month. */
  readonly pisCofins: PisCofins;
  readonly minimumKwh: Readonly<Record<Connection, number>>;
  /** CIP/COSIP by consumption band, ascending; `upToKwh` null: every consumption above the others. */
  readonly cip: ReadonlyArray<{ readonly upToKwh: number | null; readonly cents: bigint }>;
  readonly dueDays: number;
  /** Tarifa social bands, ascending; each band's kWh get `discount` (10^-6, up to 100%) off the energy price and the bandeira. */
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
  /** A bifásica connection's conductors (default 3). */
  readonly conductors?: 2 | 3 | undefined;
  readonly socialTariff: boolean;
  /** The household's benefit in force for the cycle; absent: the Tarifa Social when `socialTariff`, else none. */
  readonly benefit?: Benefit | null | undefined;
  readonly prices: Readonly<Partial<Record<TariffKey, readonly PriceVersion[]>>>;
  /** Each calendar month's flag (`YYYY-MM`) and its additional in 10^-8 R$/kWh; a month not set counts as verde. */
  readonly flags: ReadonlyMap<string, { readonly flag: Flag; readonly additional: bigint }>;
  readonly rules: BillingRules;
  /** The day the invoice is presented (issued), `YYYY-MM-DD` local: its due date counts from it. */
  readonly presentationDay: string;
}

export type ItemKind = 'energia' | 'disponibilidade' | 'bandeira' | 'tarifa_social';

/** One line's taxes, as printed: each figure rounded on its own (NBR 5891). */
export interface LineTaxes {
  /** PIS/COFINS base: the line's value without ICMS. */
  readonly pisCofinsBase: bigint;
  readonly pis: bigint;
  readonly cofins: bigint;
  /** ICMS base: the line's value with every tax. */
  readonly icmsBase: bigint;
  readonly icms: bigint;
}

export interface InvoiceItem {
  readonly kind: ItemKind;
  readonly description: string;
  /** kWh, in thousandths, as printed. */
  readonly quantity: bigint;
  /** 10^-8 R$ per kWh without taxes (negative for a discount), as printed. */
  readonly unitPrice: bigint;
  /** 10^-8 R$ per kWh with taxes, as printed. */
  readonly unitPriceWithTaxes: bigint;
  /** The line's value without taxes, in cents, as printed. */
  readonly netCents: bigint;
  readonly taxes: LineTaxes;
  /** The line's value with taxes, in cents, as printed: what the total adds up. */
  readonly cents: bigint;
  readonly posto?: Posto | undefined;
  /** The days this line covers (first, last inclusive), when not the whole cycle. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export interface TaxLine {
  readonly name: 'ICMS' | 'PIS' | 'COFINS';
  readonly rate: bigint;
  /** The sum of the lines' printed bases. */
  readonly base: bigint;
  /** The sum of the lines' printed amounts. */
  readonly cents: bigint;
}

export interface FlagPeriod {
  readonly month: string;
  readonly flag: Flag;
  readonly days: number;
  /** kWh billed under this month's flag, thousandths, as printed. */
  readonly kwh: bigint;
  readonly additional: bigint;
  /** Without taxes, as printed. */
  readonly cents: bigint;
}

export interface ComputedInvoice {
  readonly days: number;
  /** The social benefit that billed the cycle, if any. */
  readonly benefit: Benefit | null;
  readonly consumption: bigint;
  /** max(consumption, custo de disponibilidade). */
  readonly billable: bigint;
  readonly minimumKwh: number;
  readonly items: readonly InvoiceItem[];
  /** Sum of the lines' printed values without taxes. */
  readonly subtotal: bigint;
  readonly taxes: readonly TaxLine[];
  /** Why ICMS is not charged, when it is not. */
  readonly icmsExemption: string | undefined;
  readonly flags: readonly FlagPeriod[];
  readonly cip: bigint;
  /** The sum of the lines' printed values with taxes, plus the CIP. */
  readonly total: bigint;
  readonly presentationDay: string;
  /**
   * The later of the distributor's schedule (`dueDays` after the cycle ends)
   * and MIN_DUE_WORKING_DAYS after presentation, moved to the next working
   * day (art. 339: a due date on a weekend or holiday is paid on the next).
   */
  readonly dueDay: string;
}

/** An invoice's due date: see ComputedInvoice.dueDay. */
export function dueDayOf(endDay: string, dueDays: number, presentationDay: string): string {
  const scheduled = dayText(dayNumber(endDay) + dueDays);
  const earliest = addWorkingDays(presentationDay, MIN_DUE_WORKING_DAYS);
  return nextWorkingDay(scheduled > earliest ? scheduled : earliest);
}

const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const dayText = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);
/** `dd/mm/aaaa`, as the invoice shows dates. */
export const brDate = (day: string): string => day.split('-').reverse().join('/');
const POSTO_NAMES: Readonly<Record<Posto, string>> = { ponta: 'ponta', intermediario: 'intermediário', fora_ponta: 'fora de ponta' };

const kwhOf = (thousandths: bigint): Ratio => scaled(thousandths, KWH_SCALE);
const priceOf = (units: bigint): Ratio => scaled(units, PRICE_SCALE);
const rateOf = (units: bigint): Ratio => scaled(units, RATE_SCALE);
const wholeKwh = (kwh: number): Ratio => ratio(BigInt(kwh));

interface Segment {
  readonly version: PriceVersion;
  readonly from: number;
  days: number;
}

/** Days from `from` for `count` days, grouped by the price version in force on each (consecutive days of one version). */
function priceSegments(versions: readonly PriceVersion[] | undefined, key: TariffKey, first: number, count: number): Segment[] {
  const segments: Segment[] = [];
  for (let day = first; day < first + count; day++) {
    const text = dayText(day);
    const version = versions?.find((v) => v.from <= text && (v.to === null || text <= v.to));
    if (version === undefined) throw new DomainError('tarifa_indisponivel', `Não há tarifa ${tariffName(key)} em vigor em ${brDate(text)}.`);
    const last = segments[segments.length - 1];
    if (last !== undefined && last.version === version) last.days++;
    else segments.push({ version, from: day, days: 1 });
  }
  return segments;
}

function tariffName(key: TariffKey): string {
  if (key === 'convencional') return 'convencional';
  if (key === 'ponta' || key === 'intermediario' || key === 'fora_ponta') return `branca (${POSTO_NAMES[key]})`;
  return `da ${BENEFIT_NAMES[key]} (importe as linhas dessa subclasse do arquivo da ANEEL)`;
}

/** A line before taxes: an exact quantity at an exact unit price. */
interface Charge {
  readonly kind: ItemKind;
  readonly description: string;
  readonly quantity: Ratio;
  readonly unitPrice: Ratio;
  readonly posto?: Posto | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

/** A quantity billed over the cycle's days, one line per tariff version in force (pro rata by days, exactly). */
function proRataCharges(kind: ItemKind, label: string, quantity: Ratio, segments: readonly Segment[], days: number, posto?: Posto): Charge[] {
  return segments.map((segment) => {
    const whole = segments.length === 1;
    const from = dayText(segment.from);
    const to = dayText(segment.from + segment.days - 1);
    return {
      kind,
      description: whole ? label : `${label}, ${brDate(from)} a ${brDate(to)} (${segment.days} dias)`,
      quantity: whole ? quantity : mul(quantity, ratio(BigInt(segment.days), BigInt(days))),
      unitPrice: priceOf(segment.version.te + segment.version.tusd),
      posto,
      from: whole ? undefined : from,
      to: whole ? undefined : to,
    };
  });
}

/** The cycle's mean price of energy and bandeira, each weighted by its days: what a benefit takes back per kWh. */
function meanPrice(segments: readonly Segment[], months: ReadonlyArray<{ readonly days: number; readonly additional: bigint }>, days: number): Ratio {
  const byDays = (units: bigint, n: number): Ratio => mul(priceOf(units), ratio(BigInt(n), BigInt(days)));
  return add(sum(segments.map((s) => byDays(s.version.te + s.version.tusd, s.days))), sum(months.map((m) => byDays(m.additional, m.days))));
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

/** REN 1.000/2021 art. 291: 30 kWh monofásico or bifásico a 2 condutores (I), 50 bifásico a 3 (II), 100 trifásico (III); the values are the parameters'. */
export function minimumKwhOf(rules: Pick<BillingRules, 'minimumKwh'>, connection: Connection, conductors: 2 | 3 | undefined): number {
  return connection === 'bifasica' && conductors === 2 ? rules.minimumKwh.monofasica : rules.minimumKwh[connection];
}

/** The ICMS rate of an invoice, and why it is zero when an exemption applies. */
export function icmsFor(rule: IcmsRule, consumption: bigint, days: number, socialTariff: boolean): { rate: bigint; exemption: string | undefined } {
  const exemption = rule.socialTariffExemption;
  if (socialTariff && exemption !== null && (exemption.maxDailyKwh === null || consumption <= BigInt(exemption.maxDailyKwh * days) * powerOfTen(KWH_SCALE))) {
    const limit = exemption.maxDailyKwh === null ? '' : ` com consumo médio de até ${exemption.maxDailyKwh} kWh por dia`;
    return { rate: 0n, exemption: `Isenção de ICMS: unidade consumidora da subclasse residencial baixa renda beneficiária da Tarifa Social${limit}.` };
  }
  const band = rule.bands.find((b) => b.upToKwh === null || consumption <= BigInt(b.upToKwh) * powerOfTen(KWH_SCALE));
  const rate = band?.rate ?? 0n;
  return { rate, exemption: rate === 0n ? 'ICMS à alíquota zero para esta faixa de consumo.' : undefined };
}

/**
 * The taxes of a value without them, "por dentro" after STF Tema 69 (RE
 * 574.706): with PIS/COFINS, v / (1 - PIS - COFINS); with ICMS too,
 * that / (1 - ICMS). ICMS is levied on the amount with every tax; PIS and
 * COFINS on the amount without ICMS. Exact.
 */
export function grossUp(net: Ratio, icms: bigint, pisCofins: PisCofins): { gross: Ratio; pisCofinsBase: Ratio; pis: Ratio; cofins: Ratio; icms: Ratio } {
  const pisCofinsBase = div(net, sub(ONE, rateOf(pisCofins.pis + pisCofins.cofins)));
  const gross = div(pisCofinsBase, sub(ONE, rateOf(icms)));
  return { gross, pisCofinsBase, pis: mul(pisCofinsBase, rateOf(pisCofins.pis)), cofins: mul(pisCofinsBase, rateOf(pisCofins.cofins)), icms: sub(gross, pisCofinsBase) };
}

const cents = (value: Ratio): bigint => roundNbr5891(value, CENTS_SCALE);

function taxed(charge: Charge, icms: bigint, pisCofins: PisCofins): InvoiceItem {
  const net = mul(charge.quantity, charge.unitPrice);
  const taxes = grossUp(net, icms, pisCofins);
  const gross = cents(taxes.gross);
  return {
    kind: charge.kind,
    description: charge.description,
    quantity: roundNbr5891(charge.quantity, KWH_SCALE),
    unitPrice: roundNbr5891(charge.unitPrice, PRICE_SCALE),
    unitPriceWithTaxes: roundNbr5891(grossUp(charge.unitPrice, icms, pisCofins).gross, PRICE_SCALE),
    netCents: cents(net),
    taxes: { pisCofinsBase: cents(taxes.pisCofinsBase), pis: cents(taxes.pis), cofins: cents(taxes.cofins), icmsBase: gross, icms: cents(taxes.icms) },
    cents: gross,
    posto: charge.posto,
    from: charge.from,
    to: charge.to,
  };
}

export function computeInvoice(cycle: CycleToBill): ComputedInvoice {
  const first = dayNumber(cycle.startDay);
  const days = dayNumber(cycle.endDay) - first;
  if (!Number.isInteger(days) || days < 1) throw new DomainError('ciclo_invalido', `O ciclo de ${cycle.startDay} a ${cycle.endDay} não tem dias.`);
  const benefit = cycle.benefit === undefined ? (cycle.socialTariff ? 'tarifa_social' : null) : cycle.benefit;
  if (cycle.modality === 'branca' && benefit !== null) throw new DomainError('tarifa_social_branca', 'A tarifa social e o desconto social não se aplicam à modalidade branca.');
  const lastDay = dayText(dayNumber(cycle.endDay) - 1);
  // The rule in force on the cycle's last day bills the whole cycle (for the cycle that straddles a law's start, the newer, more favourable one).
  const regime = benefit === 'tarifa_social' ? (lastDay >= FREE_TARIFA_SOCIAL_FROM ? 'tarifa_social_gratuita' : 'tarifa_social_faixas') : benefit === 'desconto_social' && lastDay >= DESCONTO_SOCIAL_FROM ? 'desconto_social' : 'nenhum';
  const { rules } = cycle;
  const consumption = kwhOf(cycle.consumption);
  const minimumKwh = minimumKwhOf(rules, cycle.connection, cycle.conductors);
  const minimum = wholeKwh(minimumKwh);
  const billable = max(consumption, minimum);
  const charges: Charge[] = [];

  // The minimum's complement is priced at the conventional tariff (Branca: fora de ponta, the cheapest posto).
  const baseKey: TariffKey = cycle.modality === 'convencional' ? 'convencional' : 'fora_ponta';
  const baseSegments = priceSegments(cycle.prices[baseKey], baseKey, first, days);
  if (regime === 'tarifa_social_gratuita' || regime === 'desconto_social') {
    charges.push(...bandedCharges(cycle, regime, consumption, minimum, minimumKwh, first, days));
  } else if (cycle.modality === 'convencional') {
    charges.push(...proRataCharges('energia', 'Energia elétrica (TE + TUSD)', consumption, baseSegments, days));
  } else {
    const byPosto = cycle.byPosto;
    if (byPosto === undefined || byPosto.ponta + byPosto.intermediario + byPosto.fora_ponta !== cycle.consumption) {
      throw new DomainError('ciclo_invalido', 'O consumo por posto não soma o consumo do ciclo.');
    }
    for (const posto of POSTOS) {
      const segments = posto === baseKey ? baseSegments : priceSegments(cycle.prices[posto], posto, first, days);
      charges.push(...proRataCharges('energia', `Energia ${POSTO_NAMES[posto]} (TE + TUSD)`, kwhOf(byPosto[posto]), segments, days, posto));
    }
  }
  // REN 1.000 art. 290: the greater of the consumption and the custo de disponibilidade; what falls short is billed pro rata by the tariffs of the cycle.
  if (compare(consumption, minimum) < 0 && regime !== 'tarifa_social_gratuita' && regime !== 'desconto_social') {
    charges.push(...proRataCharges('disponibilidade', `Custo de disponibilidade (complemento até ${minimumKwh} kWh)`, sub(minimum, consumption), baseSegments, days));
  }

  // REN 1.000 art. 307: the bandeira of each month on the billed kWh of its days.
  const months = monthsOf(first, days);
  const monthly = months.map((m) => {
    const set = cycle.flags.get(m.month);
    return { month: m.month, days: m.days, flag: set?.flag ?? 'verde', additional: set?.additional ?? 0n, kwh: mul(billable, ratio(BigInt(m.days), BigInt(days))) };
  });
  for (const period of monthly) {
    if (period.additional === 0n) continue;
    const [year, month] = period.month.split('-');
    charges.push({ kind: 'bandeira', description: `Adicional bandeira ${FLAG_NAMES[period.flag]} (${month}/${year}, ${period.days} dias)`, quantity: period.kwh, unitPrice: priceOf(period.additional) });
  }

  if (regime === 'tarifa_social_gratuita') {
    // Lei 15.235/2025: the first 80 kWh free, energy and bandeira alike (REN 1.000 art. 309 sole paragraph, I), at their mean price by days.
    const free = min(billable, wholeKwh(FREE_TARIFA_SOCIAL_KWH));
    const firstBand = priceSegments(cycle.prices.tarifa_social_1, 'tarifa_social_1', first, days);
    charges.push({ kind: 'tarifa_social', description: `Benefício Tarifa Social: 100% até ${FREE_TARIFA_SOCIAL_KWH} kWh (Lei 15.235/2025)`, quantity: free, unitPrice: neg(meanPrice(firstBand, monthly, days)) });
  } else if (regime === 'tarifa_social_faixas') {
    // The discount applies to the custo de disponibilidade (art. 290 § 3º) and to the bandeira (art. 309 sole paragraph, I): on each band of the
    // billed kWh, at the cycle's mean price by days (tariff versions and bandeiras pro rata, as their lines are).
    const mean = meanPrice(baseSegments, monthly, days);
    let below = 0;
    for (const band of rules.social) {
      const quantity = max(ZERO, min(sub(billable, wholeKwh(below)), wholeKwh(band.upToKwh - below)));
      if (compare(quantity, ZERO) > 0 && band.discount > 0n) {
        const label = below === 0 ? `até ${band.upToKwh} kWh` : `de ${below + 1} a ${band.upToKwh} kWh`;
        charges.push({ kind: 'tarifa_social', description: `Desconto tarifa social (${label}, ${formatPercent(band.discount)})`, quantity, unitPrice: neg(mul(mean, rateOf(band.discount))) });
      }
      below = band.upToKwh;
    }
  }

  const icms = icmsFor(rules.icms, cycle.consumption, days, benefit === 'tarifa_social');
  const items = charges.map((charge) => taxed(charge, icms.rate, rules.pisCofins));
  const total = (pick: (item: InvoiceItem) => bigint): bigint => items.reduce((s, item) => s + pick(item), 0n);
  const taxes: TaxLine[] = [
    { name: 'ICMS', rate: icms.rate, base: total((i) => i.taxes.icmsBase), cents: total((i) => i.taxes.icms) },
    { name: 'PIS', rate: rules.pisCofins.pis, base: total((i) => i.taxes.pisCofinsBase), cents: total((i) => i.taxes.pis) },
    { name: 'COFINS', rate: rules.pisCofins.cofins, base: total((i) => i.taxes.pisCofinsBase), cents: total((i) => i.taxes.cofins) },
  ];
  const cipBand = rules.cip.find((b) => b.upToKwh === null || cycle.consumption <= BigInt(b.upToKwh) * powerOfTen(KWH_SCALE));
  const cip = cipBand?.cents ?? 0n;
  const flags: FlagPeriod[] = monthly.map((m) => ({ month: m.month, flag: m.flag, days: m.days, kwh: roundNbr5891(m.kwh, KWH_SCALE), additional: m.additional, cents: cents(mul(m.kwh, priceOf(m.additional))) }));
  return {
    days,
    benefit,
    consumption: cycle.consumption,
    billable: roundNbr5891(billable, KWH_SCALE),
    minimumKwh,
    items,
    subtotal: total((i) => i.netCents),
    taxes,
    icmsExemption: icms.exemption,
    flags,
    cip,
    total: total((i) => i.cents) + cip,
    presentationDay: cycle.presentationDay,
    dueDay: dueDayOf(cycle.endDay, rules.dueDays, cycle.presentationDay),
  };
}

/**
 * The energy of a household billed from its benefit's rows: the first band
 * (80 kWh for the Tarifa Social, 120 for the Desconto Social) at the "faixa
 * 01" row, the rest at "faixa 02"; the consumption fills the band first, then
 * the minimum's complement (art. 290 § 3º: the benefit reaches it too).
 * Each part pro rata by days over the rows' versions.
 */
function bandedCharges(cycle: CycleToBill, regime: 'tarifa_social_gratuita' | 'desconto_social', consumption: Ratio, minimum: Ratio, minimumKwh: number, first: number, days: number): Charge[] {
  const [firstKey, secondKey, limitKwh] = regime === 'tarifa_social_gratuita' ? (['tarifa_social_1', 'tarifa_social_2', FREE_TARIFA_SOCIAL_KWH] as const) : (['desconto_social_1', 'desconto_social_2', DESCONTO_SOCIAL_KWH] as const);
  const limit = wholeKwh(limitKwh);
  const complement = max(ZERO, sub(minimum, consumption));
  const inFirst = min(consumption, limit);
  const complementInFirst = min(complement, sub(limit, inFirst));
  const parts: Array<[ItemKind, string, Ratio, BenefitKey]> = [
    ['energia', `Energia elétrica (TE + TUSD), ${BENEFIT_NAMES[firstKey]} (até ${limitKwh} kWh)`, inFirst, firstKey],
    ['energia', `Energia elétrica (TE + TUSD), ${BENEFIT_NAMES[secondKey]} (acima de ${limitKwh} kWh)`, sub(consumption, inFirst), secondKey],
    ['disponibilidade', `Custo de disponibilidade (complemento até ${minimumKwh} kWh), ${BENEFIT_NAMES[firstKey]}`, complementInFirst, firstKey],
    ['disponibilidade', `Custo de disponibilidade (complemento até ${minimumKwh} kWh), ${BENEFIT_NAMES[secondKey]}`, sub(complement, complementInFirst), secondKey],
  ];
  // The first band's energy line always (as every invoice has its energy line), the others when they bill something.
  return parts
    .filter(([, , quantity], i) => i === 0 || compare(quantity, ZERO) > 0)
    .flatMap(([kind, label, quantity, key]) => proRataCharges(kind, label, quantity, priceSegments(cycle.prices[key], key, first, days), days));
}

/** `650000` (10^-6) as `65%`, `16500` as `1,65%`. */
export function formatPercent(rate: bigint): string {
  return `${formatDecimal(rate * 100n, RATE_SCALE).replace('.', ',')}%`;
}
