/** Issued invoices in `faturas.jsonl` (see journal.ts): issues and cancellations, replayed at start-up. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { INVOICE_NUMBER, invoiceNumber, type CancelOutcome, type InvoiceStore, type IssuedInvoice } from '../invoice-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const INVOICES_FILE = 'faturas.jsonl';

type Entry =
  | { readonly tipo: 'emissao'; readonly invoice: IssuedInvoice }
  | { readonly tipo: 'cancelamento'; readonly numero: string; readonly motivo: string; readonly em: string };

function parseEntry(value: unknown): Entry | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || typeof r.numero !== 'string' || !INVOICE_NUMBER.test(r.numero)) return undefined;
  if (r.tipo === 'cancelamento' && typeof r.motivo === 'string' && typeof r.em === 'string') return { tipo: 'cancelamento', numero: r.numero, motivo: r.motivo, em: r.em };
  if (r.tipo !== 'emissao' || typeof r.matricula !== 'string' || typeof r.ciclo !== 'string' || typeof r.emitida_em !== 'string' || typeof r.documento !== 'string') return undefined;
  if (r.substitui !== null && typeof r.substitui !== 'string') return undefined;
  return {
    tipo: 'emissao',
    invoice: { numero: r.numero, matricula: r.matricula, ciclo: r.ciclo, estado: 'emitida', emitidaEm: r.emitida_em, cancelamento: null, substitui: r.substitui as string | null, documento: r.documento },
  };
}

export class FileInvoiceStore implements InvoiceStore {
  private readonly byNumber = new Map<string, IssuedInvoice>();
  private readonly lastOfYear = new Map<number, number>();
  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileInvoiceStore> {
    const store = new FileInvoiceStore(new JournalWriter(join(dataDir, INVOICES_FILE), INVOICES_FILE));
    for (const entry of await readJournal(store.journal.path, parseEntry, logger)) {
      if (entry.tipo === 'emissao') store.remember(entry.invoice);
      else {
        const invoice = store.byNumber.get(entry.numero);
        if (invoice !== undefined) store.byNumber.set(entry.numero, { ...invoice, estado: 'cancelada', cancelamento: { motivo: entry.motivo, em: entry.em } });
      }
    }
    return store;
  }

  issue(matricula: string, ciclo: string, make: () => Promise<(numero: string) => string>, now: Date): Promise<{ invoice: IssuedInvoice; created: boolean }> {
    return this.journal.serially(async () => {
      const ofCycle = [...this.byNumber.values()].filter((invoice) => invoice.matricula === matricula && invoice.ciclo === ciclo);
      const inForce = ofCycle.find((invoice) => invoice.estado === 'emitida');
      if (inForce !== undefined) return { invoice: inForce, created: false };
      const write = await make();
      const year = now.getUTCFullYear();
      const replaced = ofCycle.sort((a, b) => b.numero.localeCompare(a.numero))[0];
      const numero = invoiceNumber(year, (this.lastOfYear.get(year) ?? 0) + 1);
      const documento = write(numero);
      const invoice: IssuedInvoice = {
        numero,
        matricula,
        ciclo,
        estado: 'emitida',
        emitidaEm: now.toISOString(),
        cancelamento: null,
        substitui: replaced?.numero ?? null,
        documento,
      };
      await this.journal.append([{ tipo: 'emissao', numero: invoice.numero, matricula, ciclo, emitida_em: invoice.emitidaEm, substitui: invoice.substitui, documento }]);
      this.remember(invoice);
      return { invoice, created: true };
    });
  }

  async get(numero: string): Promise<IssuedInvoice | undefined> {
    return this.byNumber.get(numero);
  }

  async list(matricula: string, offset: number, limit: number): Promise<IssuedInvoice[]> {
    return [...this.byNumber.values()]
      .filter((invoice) => invoice.matricula === matricula)
      .sort((a, b) => b.emitidaEm.localeCompare(a.emitidaEm) || b.numero.localeCompare(a.numero))
      .slice(offset, offset + limit);
  }

  cancel(numero: string, motivo: string, now: Date): Promise<CancelOutcome> {
    return this.journal.serially(async () => {
      const invoice = this.byNumber.get(numero);
      if (invoice === undefined) return 'nao_encontrada';
      if (invoice.estado === 'cancelada') return 'ja_cancelada';
      const cancelled: IssuedInvoice = { ...invoice, estado: 'cancelada', cancelamento: { motivo, em: now.toISOString() } };
      await this.journal.append([{ tipo: 'cancelamento', numero, motivo, em: cancelled.cancelamento?.em }]);
      this.byNumber.set(numero, cancelled);
      return cancelled;
    });
  }

  async all(): Promise<IssuedInvoice[]> {
    return [...this.byNumber.values()].sort((a, b) => a.numero.localeCompare(b.numero));
  }

  restore(invoice: IssuedInvoice): Promise<boolean> {
    return this.journal.serially(async () => {
      if (this.byNumber.has(invoice.numero)) return false;
      if (invoice.estado === 'emitida' && [...this.byNumber.values()].some((other) => other.matricula === invoice.matricula && other.ciclo === invoice.ciclo && other.estado === 'emitida')) return false;
      const { numero, matricula, ciclo, emitidaEm, substitui, documento, cancelamento } = invoice;
      await this.journal.append([
        { tipo: 'emissao', numero, matricula, ciclo, emitida_em: emitidaEm, substitui, documento },
        ...(cancelamento === null ? [] : [{ tipo: 'cancelamento', numero, motivo: cancelamento.motivo, em: cancelamento.em }]),
      ]);
      this.remember(invoice);
      return true;
    });
  }

  private remember(invoice: IssuedInvoice): void {
    this.byNumber.set(invoice.numero, invoice);
    const [, year, sequence] = INVOICE_NUMBER.exec(invoice.numero) as RegExpExecArray;
    this.lastOfYear.set(Number(year), Math.max(this.lastOfYear.get(Number(year)) ?? 0, Number(sequence)));
  }
}
