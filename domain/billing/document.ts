/**
 * An invoice as the API answers it and the invoice store keeps it: every
 * figure needed to recompute it (PRODIST Módulo 11): the boundary readings
 * and their flags, consumption (per posto for Tarifa Branca), every line
 * with quantity, unit price and value, tax bases and rates, bandeiras, CIP,
 * due date and the consumption of the previous cycles. Pure: values in,
 * JSON out; decimals as exact JSON numbers.
 */
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { formatDecimal } from '../../protocol/decimal.js';
import { JsonDecimal, type JsonValue } from '../../protocol/json.js';
import type { BoundaryRegister, Cycle } from './cycle.js';
import type { ComputedInvoice, Connection, Modality, PriceVersion, TariffKey } from './invoice.js';
import { CENTS_SCALE, KWH_SCALE, PRICE_SCALE, RATE_SCALE } from './money.js';
import type { PostoAmounts } from './postos.js';
import { collectionBarcode, formatDigitableLine, pixPayload } from './payment.js';
import { maskedTaxpayer } from '../identity.js';
import { ratio, roundNbr5891 } from './exact.js';

/** Class and subclass as the bill names them, by the benefit that billed the cycle. */
const CLASS_LABELS = {
  nenhum: 'B1 Residencial',
  tarifa_social: 'B1 Residencial, subclasse Residencial Baixa Renda (Tarifa Social)',
  desconto_social: 'B1 Residencial, Desconto Social',
} as const;

/** The reading day a month after `day` (reading days stop at 28: every month has one). */
const nextReadingDay = (day: string): string => new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)), Number(day.slice(8, 10)))).toISOString().slice(0, 10);

/** A tariff version as the invoice records it: with the act that approved it (ANEEL's `DscREH`). */
export interface RecordedPrice extends PriceVersion {
  readonly resolution: string;
}

/** The distributor as the invoice names it and as customers pay it. */
export interface DocumentDistributor {
  /** ANEEL's SigAgente. */
  readonly sigla: string;
  readonly name: string;
  readonly cnpj: string;
  readonly address: string;
  readonly febrabanCode: string;
  readonly pixKey: string;
  readonly pixCity: string;
}

export interface DocumentInput {
  readonly customer: { readonly matricula: string; readonly username: string };
  readonly profile: {
    readonly connection: Connection;
    readonly modality: Modality;
    readonly socialTariff: boolean;
    readonly conductors?: 2 | 3 | undefined;
    readonly holder?: { readonly name: string; readonly taxpayer: string; readonly address: string; readonly customerNumber?: string | undefined } | undefined;
  };
  /** The sigla alone (a preview), or the full record (an issued invoice). */
  readonly distributor: string | DocumentDistributor;
  /** The invoice's number, once issued: the payment codes carry it. */
  readonly numero?: string | undefined;
  readonly cycle: Cycle;
  readonly start: BoundaryRegister;
  readonly end: BoundaryRegister;
  readonly byPosto?: PostoAmounts | undefined;
  readonly prices: Partial<Record<TariffKey, RecordedPrice[]>>;
  readonly parametersFrom: string;
  readonly invoice: ComputedInvoice;
  readonly history: ReadonlyArray<{ readonly month: string; readonly consumption: bigint | null }>;
  /** CO2e of the cycle's consumption, in grams (domain/co2e.ts). */
  readonly co2eGrams: bigint;
}

const kwh = (units: bigint): JsonValue => new JsonDecimal(formatDecimal(units, KWH_SCALE));
const money = (cents: bigint): JsonValue => new JsonDecimal(formatDecimal(cents, CENTS_SCALE));
const price = (units: bigint): JsonValue => new JsonDecimal(formatDecimal(units, PRICE_SCALE));
const rate = (units: bigint): JsonValue => new JsonDecimal(formatDecimal(units, RATE_SCALE));

function boundaryJson(boundary: BoundaryRegister): JsonValue {
  return {
    data_hora: formatIsoTimestamp(boundary.timestamp),
    registro: kwh(boundary.register),
    situacao: boundary.flag,
    leituras: boundary.readings.map((r) => ({ data_hora: formatIsoTimestamp(r.timestamp), registro: kwh(r.consumo) })),
  };
}

/** The free field of the barcode (25 digits, the distributor's): the due date first (FEBRABAN asks so), the invoice's number, the installation's last 7 digits. */
export function barcodeFreeField(dueDay: string, numero: string, matricula: string): string {
  return dueDay.replace(/-/g, '') + numero.replace('-', '') + matricula.slice(-7).padStart(7, '0');
}

/** How the invoice is paid: the barcode and its linha digitável, and the PIX BR Code; null when there is nothing to pay. */
export function paymentJson(distributor: DocumentDistributor, numero: string, matricula: string, cents: bigint, dueDay: string): JsonValue {
  if (cents <= 0n) return null;
  const { barcode, digitableLine } = collectionBarcode(cents, distributor.febrabanCode, barcodeFreeField(dueDay, numero, matricula));
  const txid = `FAT${numero.replace('-', '')}`;
  return {
    codigo_barras: barcode,
    linha_digitavel: formatDigitableLine(digitableLine),
    pix_copia_e_cola: pixPayload({ key: distributor.pixKey, merchantName: distributor.name, merchantCity: distributor.pixCity, cents, txid }),
    pix_txid: txid,
  };
}

/** The invoice's JSON: everything but its number, state and issue time (the invoice store adds those). */
export function invoiceDocument(input: DocumentInput): { [key: string]: JsonValue } {
  const { invoice } = input;
  const icmsRate = invoice.taxes.find((tax) => tax.name === 'ICMS')?.rate ?? 0n;
  const record = typeof input.distributor === 'string' ? undefined : input.distributor;
  const holder = input.profile.holder;
  return {
    matricula: input.customer.matricula,
    cliente: input.customer.username,
    distribuidora: record?.sigla ?? (input.distributor as string),
    ...(record === undefined ? {} : { distribuidora_dados: { nome: record.name, cnpj: record.cnpj, endereco: record.address } }),
    ...(holder === undefined
      ? {}
      : { titular: { nome: holder.name, cpf_cnpj: maskedTaxpayer(holder.taxpayer), endereco: holder.address, numero_cliente: holder.customerNumber ?? input.customer.matricula } }),
    numero_instalacao: input.customer.matricula,
    classe: CLASS_LABELS[invoice.benefit ?? 'nenhum'],
    ligacao: input.profile.connection,
    ...(input.profile.connection === 'bifasica' ? { condutores: input.profile.conductors ?? 3 } : {}),
    modalidade: input.profile.modality,
    tarifa_social: invoice.benefit === 'tarifa_social',
    beneficio: invoice.benefit,
    ciclo: {
      mes: input.cycle.endDay.slice(0, 7),
      inicio: formatIsoTimestamp(input.cycle.start),
      fim: formatIsoTimestamp(input.cycle.end),
      dias: invoice.days,
    },
    leituras: { inicial: boundaryJson(input.start), final: boundaryJson(input.end) },
    consumo_kwh: kwh(invoice.consumption),
    ...(input.end.flag === 'custo_disponibilidade' ? { observacao: 'Sem leitura no ciclo e sem histórico para a média: faturado pelo custo de disponibilidade (REN ANEEL 1.000/2021, art. 288, § 1º).' } : input.end.flag === 'media_ciclos' ? { observacao: 'Sem leitura no ciclo: faturado pela média dos últimos ciclos (REN ANEEL 1.000/2021, art. 288).' } : {}),
    co2e_kg: kwh(input.co2eGrams),
    kwh_faturado: kwh(invoice.billable),
    custo_disponibilidade_kwh: invoice.minimumKwh,
    ...(input.byPosto === undefined ? {} : { consumo_por_posto: { ponta: kwh(input.byPosto.ponta), intermediario: kwh(input.byPosto.intermediario), fora_ponta: kwh(input.byPosto.fora_ponta) } }),
    itens: invoice.items.map((item) => ({
      tipo: item.kind,
      descricao: item.description,
      quantidade: kwh(item.quantity),
      unidade: 'kWh',
      preco_unitario: price(item.unitPrice),
      preco_unitario_com_tributos: price(item.unitPriceWithTaxes),
      valor_sem_tributos: money(item.netCents),
      base_pis_cofins: money(item.taxes.pisCofinsBase),
      pis: money(item.taxes.pis),
      cofins: money(item.taxes.cofins),
      base_icms: money(item.taxes.icmsBase),
      aliquota_icms: rate(icmsRate),
      icms: money(item.taxes.icms),
      valor: money(item.cents),
      ...(item.posto === undefined ? {} : { posto: item.posto }),
      ...(item.from === undefined ? {} : { de: item.from, ate: item.to ?? null }),
    })),
    subtotal: money(invoice.subtotal),
    tributos: invoice.taxes.map((tax) => ({ nome: tax.name, aliquota: rate(tax.rate), base: money(tax.base), valor: money(tax.cents) })),
    ...(invoice.icmsExemption === undefined ? {} : { isencao_icms: invoice.icmsExemption }),
    bandeiras: invoice.flags.map((flag) => ({ mes: flag.month, bandeira: flag.flag, dias: flag.days, kwh: kwh(flag.kwh), adicional_kwh: price(flag.additional), valor: money(flag.cents) })),
    cip: money(invoice.cip),
    total: money(invoice.total),
    apresentacao: invoice.presentationDay,
    vencimento: invoice.dueDay,
    consumo_medio_diario_kwh: kwh(roundNbr5891(ratio(invoice.consumption, BigInt(invoice.days)), 0)),
    proxima_leitura: nextReadingDay(input.cycle.endDay),
    ...(record === undefined || input.numero === undefined ? {} : { pagamento: paymentJson(record, input.numero, input.customer.matricula, invoice.total, invoice.dueDay) }),
    tarifas: Object.entries(input.prices).flatMap(([key, versions]) =>
      (versions ?? []).map((v) => ({ tarifa: key, vigencia_inicio: v.from, vigencia_fim: v.to, te: price(v.te), tusd: price(v.tusd), resolucao: v.resolution })),
    ),
    parametros_vigencia: input.parametersFrom,
    historico: input.history.map((h) => ({ mes: h.month, consumo_kwh: h.consumption === null ? null : kwh(h.consumption) })),
  };
}
