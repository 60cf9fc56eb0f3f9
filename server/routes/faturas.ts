/**
 * Issued invoices: `POST /faturas` (operator: issue a customer's cycle,
 * idempotent), `GET /faturas?matricula=` (newest first, paged),
 * `GET /faturas/{numero}` (JSON, or the PDF with `formato=pdf` or
 * `Accept: application/pdf`), `POST /faturas/{numero}/cancelamento`
 * (operator), and `GET /faturas/previa?matricula=` (the open cycle so far,
 * not stored). A customer sees only their own.
 */
import { z } from 'zod';
import type { InvoiceStore, IssuedInvoice } from '../../database/invoice-store.js';
import { INVOICE_NUMBER } from '../../database/invoice-store.js';
import type { ApiAccess } from '../http/api-access.js';
import type { BillingService } from '../../app/billing/billing.js';
import { HttpError } from '../http/http-error.js';
import { documentOf, invoiceText } from '../../app/views/invoice.js';
import { issueInvoice } from '../../app/billing/issuing.js';
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { matriculaSchema, positiveInteger, withFields } from './fields.js';
import { MONTH } from '../../database/billing-rules-json.js';

const JSON_TYPE = 'application/json; charset=utf-8';
export const PDF_TYPE = 'application/pdf';
const DEFAULT_PAGE = 12;
const MAX_PAGE = 120;

const issueSchema = z.object({ matricula: matriculaSchema, ciclo: z.string().regex(MONTH, 'deve ser o mês em que o ciclo termina, AAAA-MM') });
const listSchema = z.object({ matricula: matriculaSchema, pagina: positiveInteger(1_000_000).optional(), limite: positiveInteger(MAX_PAGE).optional() });
const showSchema = z.object({ formato: z.enum(['json', 'pdf'], { error: 'deve ser json ou pdf' }).optional(), access_token: z.string().optional() });
const cancelSchema = z.object({ motivo: z.string({ error: 'deve ser um texto' }).trim().min(3, 'diga o motivo (ao menos 3 caracteres)').max(500, 'deve ter no máximo 500 caracteres') });
const previewSchema = z.object({ matricula: matriculaSchema });

export interface InvoiceRoutesDeps {
  readonly invoices: InvoiceStore;
  readonly billing: BillingService;
  readonly access: ApiAccess;
  readonly distributor: string;
  readonly rules: BillingRulesStore;
  /** Renders an issued invoice as PDF. */
  readonly pdf: (invoice: IssuedInvoice) => Promise<Buffer>;
}

export function faturasRoutes({ invoices, billing, access, distributor, rules, pdf }: InvoiceRoutesDeps): Route[] {
  const issue = withFields(issueSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const { matricula, ciclo } = read();
    const { invoice, created } = await issueInvoice({ invoices, billing, rules, distributor }, matricula, ciclo, new Date());
    return { status: created ? 201 : 200, text: invoiceText(invoice), contentType: JSON_TYPE, headers: [['Location', `/faturas/${invoice.numero}`]] };
  });
  const list = withFields(listSchema, async (input: RouteInput, read): Promise<Answer> => {
    const principal = await access.authenticate(input.request);
    const { matricula, pagina = 1, limite = DEFAULT_PAGE } = read();
    access.authorize(principal, matricula);
    const found = await invoices.list(matricula, (pagina - 1) * limite, limite + 1);
    const next = new URLSearchParams(input.request.head.query);
    next.set('pagina', String(pagina + 1));
    const summaries = found.slice(0, limite).map((invoice) => {
      const document = JSON.parse(invoice.documento) as { total: number; vencimento: string; consumo_kwh: number };
      return { numero: invoice.numero, ciclo: invoice.ciclo, estado: invoice.estado, emitida_em: invoice.emitidaEm, consumo_kwh: document.consumo_kwh, total: document.total, vencimento: document.vencimento, substitui: invoice.substitui };
    });
    return { status: 200, body: { matricula, faturas: summaries, pagina, limite, proxima: found.length > limite ? `/faturas?${next.toString()}` : null } };
  });
  const show = withFields(showSchema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
    const principal = await access.authenticate(input.request, fields.access_token);
    const numero = input.params.numero ?? '';
    const invoice = INVOICE_NUMBER.test(numero) ? await invoices.get(numero) : undefined;
    // Another customer's invoice does not exist for a customer: 404 as for none, never a 403 naming its owner.
    if (invoice === undefined || (principal?.papel === 'cliente' && principal.matricula !== invoice.matricula)) throw new HttpError('fatura_nao_encontrada', `Não há fatura ${numero}.`);
    const accept = input.request.head.headers.get('accept') ?? '';
    if (fields.formato === 'pdf' || (fields.formato === undefined && accept.includes(PDF_TYPE) && !accept.includes('application/json'))) {
      const bytes = await pdf(invoice);
      return {
        status: 200,
        contentType: PDF_TYPE,
        headers: [['Content-Disposition', `inline; filename="fatura-${invoice.numero}.pdf"`]],
        // Bytes, not text: sent through the streamed path, which writes them as they are.
        stream: async function* () {
          yield bytes;
        },
      };
    }
    return { status: 200, text: invoiceText(invoice), contentType: JSON_TYPE };
  });
  const cancel = withFields(cancelSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const { motivo } = read();
    const numero = input.params.numero ?? '';
    const outcome = INVOICE_NUMBER.test(numero) ? await invoices.cancel(numero, motivo, new Date()) : 'nao_encontrada';
    if (outcome === 'nao_encontrada') throw new HttpError('fatura_nao_encontrada', `Não há fatura ${numero}.`);
    if (outcome === 'ja_cancelada') throw new HttpError('fatura_cancelada', `A fatura ${numero} já está cancelada.`);
    return { status: 200, text: invoiceText(outcome), contentType: JSON_TYPE };
  });
  const preview = withFields(previewSchema, async (input: RouteInput, read): Promise<Answer> => {
    const principal = await access.authenticate(input.request);
    const { matricula } = read();
    access.authorize(principal, matricula);
    const bill = await billing.preview(matricula);
    const document = documentOf(bill, distributor);
    return { status: 200, text: `{"previa":true,${document.slice(1)}`, contentType: JSON_TYPE };
  });
  return [
    { path: '/faturas', handlers: { GET: list, POST: issue }, traits: { heavy: true } },
    { path: '/faturas/previa', handlers: { GET: preview }, traits: { heavy: true } },
    { path: '/faturas/{numero}', handlers: { GET: show }, traits: { heavy: true } },
    { path: '/faturas/{numero}/cancelamento', handlers: { POST: cancel } },
  ];
}
