/**
 * Issuing a cycle's invoice: the bill computed from what the stores hold,
 * the distributor's record (its name, CNPJ and address on the invoice, its
 * FEBRABAN code and PIX key in the payment codes), and the document written
 * once the invoice store gives it a number. The route and the automatic
 * billing job both issue through here. Errors are DomainErrors.
 */
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import type { InvoiceStore, IssuedInvoice } from '../../database/invoice-store.js';
import { DomainError } from '../../domain/errors.js';
import type { BillingService } from './billing.js';
import { documentOf } from '../views/invoice.js';

export interface IssuingDeps {
  readonly invoices: InvoiceStore;
  readonly billing: BillingService;
  readonly rules: BillingRulesStore;
  /** DISTRIBUIDORA: the SigAgente whose record the invoices carry. */
  readonly distributor: string;
}

/** The cycle's invoice in force: issued now with a new number, or the one already issued (`created: false`). */
export function issueInvoice(deps: IssuingDeps, matricula: string, ciclo: string, now: Date): Promise<{ readonly invoice: IssuedInvoice; readonly created: boolean }> {
  return deps.invoices.issue(
    matricula,
    ciclo,
    async () => {
      const bill = await deps.billing.bill(matricula, ciclo, now.getTime());
      const record = await deps.rules.distributor(deps.distributor);
      if (record === undefined) throw new DomainError('faturamento_nao_configurado', `Os dados da distribuidora ${deps.distributor} (nome, CNPJ, endereço, código FEBRABAN e chave PIX) não foram definidos: defina-os em PUT /faturamento/distribuidora.`);
      return (numero) => documentOf(bill, record, numero);
    },
    now,
  );
}
