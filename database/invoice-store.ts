/**
 * Issued invoices: the invoice aggregate. An invoice is immutable once
 * issued, except that it can be cancelled; a cycle of a customer has at most
 * one invoice in force (`emitida`); one issued after a cancellation
 * references the one it replaces. Numbers are `YYYY-NNNNNN`, sequential
 * within the year of issue. The specification both backends pass
 * (test/database/invoice-contract.ts).
 */

export const INVOICE_STATES = ['emitida', 'cancelada'] as const;
export type InvoiceState = (typeof INVOICE_STATES)[number];

export interface IssuedInvoice {
  readonly numero: string;
  readonly matricula: string;
  /** The month the cycle ends in, `YYYY-MM`. */
  readonly ciclo: string;
  readonly estado: InvoiceState;
  /** ISO-8601 UTC. */
  readonly emitidaEm: string;
  readonly cancelamento: { readonly motivo: string; readonly em: string } | null;
  /** The number of the cancelled invoice this one replaces. */
  readonly substitui: string | null;
  /** The invoice's JSON object, as issued (exact decimals; see domain/billing/document.ts). */
  readonly documento: string;
}

export type CancelOutcome = IssuedInvoice | 'nao_encontrada' | 'ja_cancelada';

export interface InvoiceStore {
  /**
   * The invoice in force for the customer's cycle: the one already issued
   * (`created: false`), or a new one issued with the next number of the year
   * of `now` (`created: true`), whose document is made in two steps: `make`
   * computes everything that reads (it may be called and its result dropped
   * when another call issued first) and returns a pure function that writes
   * the document once the number is known (the payment codes carry it).
   * Calls for one cycle wait for each other, in one process or several: a
   * cycle is never issued twice. Durable when it resolves.
   */
  issue(matricula: string, ciclo: string, make: () => Promise<(numero: string) => string>, now: Date): Promise<{ readonly invoice: IssuedInvoice; readonly created: boolean }>;
  get(numero: string): Promise<IssuedInvoice | undefined>;
  /** A customer's invoices, newest issue first. */
  list(matricula: string, offset: number, limit: number): Promise<IssuedInvoice[]>;
  /** Cancels an invoice in force. Durable when it resolves. */
  cancel(numero: string, motivo: string, now: Date): Promise<CancelOutcome>;
  /** Every invoice, by number (migration between backends). */
  all(): Promise<IssuedInvoice[]>;
  /**
   * Stores an invoice exactly as another store held it (number, state,
   * dates, document), and makes later numbers of its year follow it.
   * False, writing nothing, when its number is taken or its cycle already
   * has an invoice in force that is another. Durable when it resolves.
   */
  restore(invoice: IssuedInvoice): Promise<boolean>;
}

export const INVOICE_NUMBER = /^(\d{4})-(\d{6})$/;
export const invoiceNumber = (year: number, sequence: number): string => `${year}-${String(sequence).padStart(6, '0')}`;
