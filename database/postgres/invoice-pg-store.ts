/** Issued invoices in PostgreSQL (migration 006), through the main store's pool. */
import { INVOICE_NUMBER, invoiceNumber, type CancelOutcome, type InvoiceStore, type IssuedInvoice } from '../invoice-store.js';
import type { PgDatabase } from './pg-database.js';

const COLUMNS = 'numero, matricula, ciclo, estado, emitida_em, cancelada_em, motivo_cancelamento, substitui, documento';

interface InvoiceRow {
  numero: string;
  matricula: string;
  ciclo: string;
  estado: 'emitida' | 'cancelada';
  emitida_em: Date;
  cancelada_em: Date | null;
  motivo_cancelamento: string | null;
  substitui: string | null;
  documento: string;
}

const fromRow = (row: InvoiceRow): IssuedInvoice => ({
  numero: row.numero,
  matricula: row.matricula,
  ciclo: row.ciclo,
  estado: row.estado,
  emitidaEm: row.emitida_em.toISOString(),
  cancelamento: row.cancelada_em === null ? null : { motivo: row.motivo_cancelamento ?? '', em: row.cancelada_em.toISOString() },
  substitui: row.substitui,
  documento: row.documento,
});

export class PgInvoiceStore implements InvoiceStore {
  constructor(private readonly db: PgDatabase) {}

  async issue(matricula: string, ciclo: string, make: () => Promise<(numero: string) => string>, now: Date): Promise<{ invoice: IssuedInvoice; created: boolean }> {
    const existing = await this.db.run<InvoiceRow>(`SELECT ${COLUMNS} FROM faturas WHERE matricula = $1 AND ciclo = $2 AND estado = 'emitida'`, [matricula, ciclo]);
    if (existing.rows[0] !== undefined) return { invoice: fromRow(existing.rows[0]), created: false };
    // Computed before the transaction: it reads through the same pool, which a waiting transaction must not starve.
    const write = await make();
    return this.db.transaction(async (client) => {
      // Every server issuing this cycle waits here: the first issues, the others find its invoice.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('consumo-inteligente fatura ' || $1 || ' ' || $2))", [matricula, ciclo]);
      const { rows } = await client.query<InvoiceRow>(`SELECT ${COLUMNS} FROM faturas WHERE matricula = $1 AND ciclo = $2 ORDER BY numero DESC`, [matricula, ciclo]);
      const inForce = rows.find((row) => row.estado === 'emitida');
      if (inForce !== undefined) return { invoice: fromRow(inForce), created: false };
      const year = now.getUTCFullYear();
      const counter = await client.query<{ ultimo: number }>(
        'INSERT INTO contadores_fatura (ano, ultimo) VALUES ($1, 1) ON CONFLICT (ano) DO UPDATE SET ultimo = contadores_fatura.ultimo + 1 RETURNING ultimo',
        [year],
      );
      const numero = invoiceNumber(year, (counter.rows[0] as { ultimo: number }).ultimo);
      const documento = write(numero);
      const inserted = await client.query<InvoiceRow>(
        `INSERT INTO faturas (numero, matricula, ciclo, estado, emitida_em, substitui, documento) VALUES ($1, $2, $3, 'emitida', $4, $5, $6) RETURNING ${COLUMNS}`,
        [numero, matricula, ciclo, now, rows[0]?.numero ?? null, documento],
      );
      return { invoice: fromRow(inserted.rows[0] as InvoiceRow), created: true };
    });
  }

  async get(numero: string): Promise<IssuedInvoice | undefined> {
    const { rows } = await this.db.run<InvoiceRow>(`SELECT ${COLUMNS} FROM faturas WHERE numero = $1`, [numero]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async list(matricula: string, offset: number, limit: number): Promise<IssuedInvoice[]> {
    const { rows } = await this.db.run<InvoiceRow>(`SELECT ${COLUMNS} FROM faturas WHERE matricula = $1 ORDER BY emitida_em DESC, numero DESC OFFSET $2 LIMIT $3`, [matricula, offset, limit]);
    return rows.map(fromRow);
  }

  async all(): Promise<IssuedInvoice[]> {
    const { rows } = await this.db.run<InvoiceRow>(`SELECT ${COLUMNS} FROM faturas ORDER BY numero`);
    return rows.map(fromRow);
  }

  restore(invoice: IssuedInvoice): Promise<boolean> {
    return this.db.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('consumo-inteligente fatura ' || $1 || ' ' || $2))", [invoice.matricula, invoice.ciclo]);
      if (invoice.estado === 'emitida') {
        const inForce = await client.query("SELECT 1 FROM faturas WHERE matricula = $1 AND ciclo = $2 AND estado = 'emitida'", [invoice.matricula, invoice.ciclo]);
        if (inForce.rowCount !== 0) return false;
      }
      const inserted = await client.query(
        `INSERT INTO faturas (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (numero) DO NOTHING`,
        [invoice.numero, invoice.matricula, invoice.ciclo, invoice.estado, invoice.emitidaEm, invoice.cancelamento?.em ?? null, invoice.cancelamento?.motivo ?? null, invoice.substitui, invoice.documento],
      );
      if (inserted.rowCount !== 1) return false;
      const [, year, sequence] = INVOICE_NUMBER.exec(invoice.numero) as RegExpExecArray;
      await client.query('INSERT INTO contadores_fatura (ano, ultimo) VALUES ($1, $2) ON CONFLICT (ano) DO UPDATE SET ultimo = GREATEST(contadores_fatura.ultimo, EXCLUDED.ultimo)', [Number(year), Number(sequence)]);
      return true;
    });
  }

  cancel(numero: string, motivo: string, now: Date): Promise<CancelOutcome> {
    return this.db.transaction(async (client) => {
      const { rows } = await client.query<InvoiceRow>(`SELECT ${COLUMNS} FROM faturas WHERE numero = $1 FOR UPDATE`, [numero]);
      const row = rows[0];
      if (row === undefined) return 'nao_encontrada';
      if (row.estado === 'cancelada') return 'ja_cancelada';
      const updated = await client.query<InvoiceRow>(`UPDATE faturas SET estado = 'cancelada', cancelada_em = $2, motivo_cancelamento = $3 WHERE numero = $1 RETURNING ${COLUMNS}`, [numero, now, motivo]);
      return fromRow(updated.rows[0] as InvoiceRow);
    });
  }
}
