/** Invoices as the API answers them and the invoice store keeps them: JSON text, exact as issued. */
import type { IssuedInvoice } from '../../database/invoice-store.js';
import { invoiceDocument, type DocumentDistributor } from '../../domain/billing/document.js';
import { stringifyJson } from '../../protocol/json.js';
import type { CycleBill } from '../billing/billing.js';

/** An invoice's JSON: its record fields, then its document (exact as issued). */
export function invoiceText(invoice: IssuedInvoice): string {
  const head = stringifyJson({ numero: invoice.numero, estado: invoice.estado, emitida_em: invoice.emitidaEm, cancelamento: invoice.cancelamento, substitui: invoice.substitui });
  return `${head.slice(0, -1)},${invoice.documento.slice(1)}`;
}

/** A bill's document: a preview's with the distributor's sigla, an issued invoice's with its record and number (and so its payment codes). */
export function documentOf(bill: CycleBill, distributor: string | DocumentDistributor, numero?: string): string {
  return stringifyJson(invoiceDocument({ ...bill, distributor, numero }));
}
