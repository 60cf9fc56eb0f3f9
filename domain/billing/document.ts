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

/** A tariff version as the invoice records it: with the act that approved it (ANEEL's `DscREH`). */
export interface RecordedPrice extends PriceVersion {
  readonly resolution: string;
}

export interface DocumentInput {
  readonly customer: { readonly matricula: string; readonly username: string };
  readonly profile: { readonly connection: Connection; readonly modality: Modality; readonly socialTariff: boolean };
  readonly distributor: string;
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

/** The invoice's JSON: everything but its number, state and issue time (the invoice store adds those). */
export function invoiceDocument(input: DocumentInput): { [key: string]: JsonValue } {
  const { invoice } = input;
  const icmsRate = invoice.taxes.find((tax) => tax.name === 'ICMS')?.rate ?? 0n;
  return {
    matricula: input.customer.matricula,
    cliente: input.customer.username,
    distribuidora: input.distributor,
    ligacao: input.profile.connection,
    modalidade: input.profile.modality,
    tarifa_social: input.profile.socialTariff,
    ciclo: {
      mes: input.cycle.endDay.slice(0, 7),
      inicio: formatIsoTimestamp(input.cycle.start),
      fim: formatIsoTimestamp(input.cycle.end),
      dias: invoice.days,
    },
    leituras: { inicial: boundaryJson(input.start), final: boundaryJson(input.end) },
    consumo_kwh: kwh(invoice.consumption),
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
    tarifas: Object.entries(input.prices).flatMap(([key, versions]) =>
      (versions ?? []).map((v) => ({ tarifa: key, vigencia_inicio: v.from, vigencia_fim: v.to, te: price(v.te), tusd: price(v.tusd), resolucao: v.resolution })),
    ),
    parametros_vigencia: input.parametersFrom,
    historico: input.history.map((h) => ({ mes: h.month, consumo_kwh: h.consumption === null ? null : kwh(h.consumption) })),
  };
}
