/** The audit log in PostgreSQL (migration 017): a trigger refuses any UPDATE or DELETE of an entry. */
import type { AuditEntry, AuditFilter, AuditRecord, AuditStore } from '../audit-store.js';
import type { PgDatabase } from './pg-database.js';

interface EntryRow {
  id: string;
  em: string;
  ator: string;
  acao: string;
  alvo: string;
  endereco: string;
  status: number;
}

const COLUMNS = 'id, em, ator, acao, alvo, endereco, status';
const fromRow = (row: EntryRow): AuditEntry => ({ id: Number(row.id), at: Number(row.em), actor: row.ator, action: row.acao, target: row.alvo, address: row.endereco, status: row.status });

export class PgAuditStore implements AuditStore {
  constructor(private readonly db: PgDatabase) {}

  async append(record: AuditRecord): Promise<AuditEntry> {
    const { rows } = await this.db.run<EntryRow>(`INSERT INTO auditoria (em, ator, acao, alvo, endereco, status) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`, [
      record.at,
      record.actor,
      record.action,
      record.target,
      record.address,
      record.status,
    ]);
    return fromRow(rows[0] as EntryRow);
  }

  async list(filter: AuditFilter, offset: number, limit: number): Promise<AuditEntry[]> {
    const { rows } = await this.db.run<EntryRow>(
      `SELECT ${COLUMNS} FROM auditoria
       WHERE ($1::text IS NULL OR ator = $1) AND ($2::text IS NULL OR acao = $2) AND ($3::bigint IS NULL OR em >= $3) AND ($4::bigint IS NULL OR em < $4)
       ORDER BY id DESC OFFSET $5 LIMIT $6`,
      [filter.actor ?? null, filter.action ?? null, filter.from ?? null, filter.to ?? null, offset, limit],
    );
    return rows.map(fromRow);
  }
}
