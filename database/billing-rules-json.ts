/**
 * The JSON form of billing parameters, bandeiras and PIS/COFINS rates: what
 * the operator sends (`PUT /faturamento/parametros`,
 * `PUT /faturamento/bandeiras/AAAA-MM`, `PUT /faturamento/pis-cofins/AAAA-MM`),
 * what the API answers, and what the file store journals. One zod schema
 * each, so a value the API accepts is exactly a value the store can read
 * back. Decimals travel as text ("0.18"), never as binary floats.
 */
import { z } from 'zod';
import { formatDecimal, parseDecimal } from '../protocol/decimal.js';
import { FLAGS } from '../domain/billing/invoice.js';
import { CENTS_SCALE, formatCents, PRICE_SCALE, RATE_SCALE } from '../domain/billing/money.js';
import { parseSpan, postoHoursProblem, type MinuteSpan } from '../domain/billing/postos.js';
import type { BillingParameters, DistributorRecord, MonthEmissionFactor, MonthFlag, MonthPisCofins } from './billing-rules-store.js';
import { isCnpj } from '../domain/identity.js';
import { PIX_KEY_MAX, pixText } from '../domain/billing/payment.js';
import { ISO_DAY } from '../protocol/timestamp.js';

export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
export const isDay = (text: string): boolean => ISO_DAY.test(text) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);

/** A decimal written as text (or a JSON number, read by its digits) at `scale`, within [min, max]. */
const decimalText = (scale: number, max: bigint, what: string) =>
  z
    .union([z.string(), z.number()])
    .transform((value, context) => {
      const parsed = parseDecimal(String(value), { scale, maxSignificantDigits: 20 });
      if (parsed === undefined || parsed > max) {
        context.addIssue({ code: 'custom', message: `deve ser ${what}` });
        return z.NEVER;
      }
      return parsed;
    });
const rate = decimalText(RATE_SCALE, 10n ** BigInt(RATE_SCALE) - 1n, 'uma fração decimal de 0 a menos de 1, como "0.18"');
/** A discount: up to 100% (Lei 15.235/2025: the Tarifa Social's first 80 kWh are free). */
const discount = decimalText(RATE_SCALE, 10n ** BigInt(RATE_SCALE), 'uma fração decimal de 0 a 1, como "0.65" ou "1"');
const money = decimalText(CENTS_SCALE, 10n ** 9n, 'um valor em reais com até 2 casas, como "12.50"');
const kwh = z.number({ error: 'deve ser um número inteiro de kWh' }).int('deve ser um número inteiro de kWh').min(0, 'não pode ser negativo').max(1_000_000, 'deve ser no máximo 1000000');
const span = z.string().transform((text, context): MinuteSpan => {
  const parsed = parseSpan(text);
  if (typeof parsed === 'string') {
    context.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

/**
 * The state's ICMS on residential supply: bands by the cycle's consumption
 * (the band that holds it sets the rate of the whole invoice) and the
 * exemption of Tarifa Social households, if the state grants one.
 */
const icmsSchema = z
  .object({
    faixas: z.array(z.object({ ate_kwh: kwh.nullable(), aliquota: rate })).min(1, 'deve ter ao menos uma faixa').max(20),
    isencao_tarifa_social: z.object({ media_diaria_ate_kwh: kwh.nullable() }).nullable().default(null),
  })
  .superRefine((value, context) => bandsProblems(value.faixas, ['faixas'], context));

function bandsProblems(bands: ReadonlyArray<{ ate_kwh: number | null }>, path: Array<string | number>, context: z.RefinementCtx): void {
  bands.forEach((band, i) => {
    const last = i === bands.length - 1;
    if (last !== (band.ate_kwh === null)) context.addIssue({ code: 'custom', path: [...path, i, 'ate_kwh'], message: 'só a última faixa tem ate_kwh null (o resto)' });
    const previous = bands[i - 1]?.ate_kwh;
    if (i > 0 && band.ate_kwh !== null && previous !== null && previous !== undefined && band.ate_kwh <= previous) context.addIssue({ code: 'custom', path: [...path, i, 'ate_kwh'], message: 'as faixas devem crescer' });
  });
}

export const parametersSchema = z
  .object({
    vigencia_inicio: z.string().refine(isDay, 'deve ser uma data AAAA-MM-DD'),
    tributos: z.object({ icms: icmsSchema }),
    custo_disponibilidade_kwh: z.object({ monofasica: kwh, bifasica: kwh, trifasica: kwh }).default({ monofasica: 30, bifasica: 50, trifasica: 100 }),
    cip: z.array(z.object({ ate_kwh: kwh.nullable(), valor: money })).min(1, 'deve ter ao menos uma faixa').max(50),
    vencimento_dias: z.number().int().min(0).max(90),
    postos_tarifa_branca: z.object({ ponta: z.array(span).max(4), intermediario: z.array(span).max(4) }),
    tarifa_social: z.array(z.object({ ate_kwh: kwh, desconto: discount })).max(10),
  })
  .superRefine((value, context) => {
    bandsProblems(value.cip, ['cip'], context);
    value.tarifa_social.forEach((band, i) => {
      const previous = value.tarifa_social[i - 1]?.ate_kwh;
      if (previous !== undefined && band.ate_kwh <= previous) context.addIssue({ code: 'custom', path: ['tarifa_social', i, 'ate_kwh'], message: 'as faixas devem crescer' });
    });
    const problem = postoHoursProblem(value.postos_tarifa_branca);
    if (problem !== undefined) context.addIssue({ code: 'custom', path: ['postos_tarifa_branca'], message: problem });
  })
  .transform(
    (value): BillingParameters => ({
      vigenciaInicio: value.vigencia_inicio,
      icms: {
        bands: value.tributos.icms.faixas.map((band) => ({ upToKwh: band.ate_kwh, rate: band.aliquota })),
        socialTariffExemption: value.tributos.icms.isencao_tarifa_social === null ? null : { maxDailyKwh: value.tributos.icms.isencao_tarifa_social.media_diaria_ate_kwh },
      },
      minimumKwh: value.custo_disponibilidade_kwh,
      cip: value.cip.map((band) => ({ upToKwh: band.ate_kwh, cents: band.valor })),
      dueDays: value.vencimento_dias,
      postoHours: value.postos_tarifa_branca,
      social: value.tarifa_social.map((band) => ({ upToKwh: band.ate_kwh, discount: band.desconto })),
    }),
  );

const minutes = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
export const formatSpan = ([start, end]: MinuteSpan): string => `${minutes(start)}-${minutes(end)}`;

/** The wire (and journal) form of a parameter version. */
export function parametersJson(parameters: BillingParameters) {
  return {
    vigencia_inicio: parameters.vigenciaInicio,
    tributos: {
      icms: {
        faixas: parameters.icms.bands.map((band) => ({ ate_kwh: band.upToKwh, aliquota: formatDecimal(band.rate, RATE_SCALE) })),
        isencao_tarifa_social: parameters.icms.socialTariffExemption === null ? null : { media_diaria_ate_kwh: parameters.icms.socialTariffExemption.maxDailyKwh },
      },
    },
    custo_disponibilidade_kwh: { ...parameters.minimumKwh },
    cip: parameters.cip.map((band) => ({ ate_kwh: band.upToKwh, valor: formatCents(band.cents) })),
    vencimento_dias: parameters.dueDays,
    postos_tarifa_branca: { ponta: parameters.postoHours.ponta.map(formatSpan), intermediario: parameters.postoHours.intermediario.map(formatSpan) },
    tarifa_social: parameters.social.map((band) => ({ ate_kwh: band.upToKwh, desconto: formatDecimal(band.discount, RATE_SCALE) })),
  };
}

/**
 * A parameter version journalled or stored before the ICMS table (0.x:
 * `tributos: {icms, pis, cofins}` as single rates) in today's form: its
 * ICMS as a single band; its fixed PIS/COFINS are not carried over, since
 * the invoice now takes each month's effective rates (PUT
 * /faturamento/pis-cofins/AAAA-MM). The stored record itself is left as it is.
 */
export function upgradeParametersJson(value: unknown): unknown {
  const record = value as { tributos?: { icms?: unknown } } | null;
  const icms = record?.tributos?.icms;
  if (typeof icms !== 'string' && typeof icms !== 'number') return value;
  return { ...(value as object), tributos: { icms: { faixas: [{ ate_kwh: null, aliquota: icms }], isencao_tarifa_social: null } } };
}

/** Reads a journalled or stored parameter version, of any format this project wrote. */
export const parseStoredParameters = (value: unknown) => parametersSchema.safeParse(upgradeParametersJson(value));

export const pisCofinsSchema = z
  .object({ pis: rate, cofins: rate })
  .refine((value) => value.pis + value.cofins < 10n ** BigInt(RATE_SCALE), { message: 'a soma de pis e cofins deve ser menor que 1', path: ['cofins'] });

export function pisCofinsJson(rates: MonthPisCofins) {
  return { mes: rates.month, pis: formatDecimal(rates.pis, RATE_SCALE), cofins: formatDecimal(rates.cofins, RATE_SCALE) };
}

/** A journalled or stored month of PIS/COFINS (`{mes, pis, cofins}`) back, or undefined. */
export function parsePisCofinsJson(value: unknown): MonthPisCofins | undefined {
  const month = (value as { mes?: unknown } | null)?.mes;
  if (typeof month !== 'string' || !MONTH.test(month)) return undefined;
  const parsed = pisCofinsSchema.safeParse(value);
  return parsed.success ? { month, pis: parsed.data.pis, cofins: parsed.data.cofins } : undefined;
}

const text = (max: number) => z.string({ error: 'deve ser um texto' }).trim().min(1, 'não pode ser vazio').max(max, `deve ter no máximo ${max} caracteres`);

/** What `PUT /faturamento/distribuidora` takes: the distributor as its invoices name it and as customers pay it. */
export const distributorSchema = z.object({
  // The BR Code carries the name and city as plain letters: a name of only symbols would leave its field empty.
  nome: text(120).refine((value) => pixText(value, 25) !== '', 'deve ter letras ou dígitos'),
  cnpj: z
    .string({ error: 'deve ser um texto' })
    .transform((value) => value.replace(/[.\-/\s]/g, ''))
    .refine(isCnpj, 'deve ser um CNPJ válido (14 dígitos com os dígitos verificadores)'),
  endereco: text(200),
  codigo_febraban: z.string({ error: 'deve ser um texto' }).regex(/^\d{4}$/, 'deve ser o código de 4 dígitos que a FEBRABAN atribuiu à distribuidora'),
  // A PIX key is a CPF/CNPJ, an e-mail, a +55 phone or a random key: printable ASCII, no spaces.
  chave_pix: z.string({ error: 'deve ser um texto' }).regex(new RegExp(`^[\\x21-\\x7e]{1,${PIX_KEY_MAX}}$`), `deve ser uma chave PIX (CPF, CNPJ, e-mail, telefone +55 ou chave aleatória; até ${PIX_KEY_MAX} caracteres, sem espaços)`),
  cidade: text(60).refine((value) => pixText(value, 15) !== '', 'deve ter letras ou dígitos'),
});

export function distributorJson(record: DistributorRecord) {
  return { sigla: record.sigla, nome: record.name, cnpj: record.cnpj, endereco: record.address, codigo_febraban: record.febrabanCode, chave_pix: record.pixKey, cidade: record.pixCity };
}

/** A journalled or stored record (`{sigla, nome, cnpj, ...}`) back, or undefined. */
export function parseDistributorJson(value: unknown): DistributorRecord | undefined {
  const sigla = (value as { sigla?: unknown } | null)?.sigla;
  if (typeof sigla !== 'string' || sigla === '') return undefined;
  const parsed = distributorSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  return { sigla, name: r.nome, cnpj: r.cnpj, address: r.endereco, febrabanCode: r.codigo_febraban, pixKey: r.chave_pix, pixCity: r.cidade };
}

export const flagSchema = z.object({
  bandeira: z.enum(FLAGS, { error: `deve ser ${FLAGS.join(', ')}` }),
  adicional_kwh: decimalText(PRICE_SCALE, 10n ** 10n, 'o adicional em R$/kWh, como "0.04463"'),
});

export function flagJson(flag: MonthFlag) {
  return { mes: flag.month, bandeira: flag.flag, adicional_kwh: formatDecimal(flag.additional, PRICE_SCALE) };
}

/** A journalled flag (`{mes, bandeira, adicional_kwh}`) back, or undefined. */
export function parseFlagJson(value: unknown): MonthFlag | undefined {
  const month = (value as { mes?: unknown } | null)?.mes;
  if (typeof month !== 'string' || !MONTH.test(month)) return undefined;
  const parsed = flagSchema.safeParse(value);
  return parsed.success ? { month, flag: parsed.data.bandeira, additional: parsed.data.adicional_kwh } : undefined;
}

/** kg CO2e per kWh at 10^-6 (the scale of MCTI's factors, published to 4 places): below 10 kg/kWh. */
export const EMISSION_FACTOR_SCALE = 6;
export const emissionFactorSchema = z.object({
  kg_co2e_kwh: decimalText(EMISSION_FACTOR_SCALE, 10n * 10n ** BigInt(EMISSION_FACTOR_SCALE), 'um fator de emissão em kg CO2e/kWh, decimal de 0 a 10 com até 6 casas, como "0.0385"'),
});

export function emissionFactorJson(factor: MonthEmissionFactor) {
  return { mes: factor.month, kg_co2e_kwh: formatDecimal(factor.kgPerKwh, EMISSION_FACTOR_SCALE) };
}

/** A journalled or stored factor (`{mes, kg_co2e_kwh}`) back, or undefined. */
export function parseEmissionFactorJson(value: unknown): MonthEmissionFactor | undefined {
  const month = (value as { mes?: unknown } | null)?.mes;
  if (typeof month !== 'string' || !MONTH.test(month)) return undefined;
  const parsed = emissionFactorSchema.safeParse(value);
  return parsed.success ? { month, kgPerKwh: parsed.data.kg_co2e_kwh } : undefined;
}
