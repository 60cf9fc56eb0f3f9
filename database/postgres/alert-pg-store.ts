/** Alerts in PostgreSQL (migration 012), through the main store's pool; a partial unique index keeps one open alert per meter and key. */
import type { AcknowledgeOutcome, Alert, AlertQuery, AlertStore, DeliveryState } from '../alert-store.js';
import type { PgDatabase } from './pg-database.js';

const COLUMNS = 'id, matricula, tipo, chave, estado, detalhe, criado_em, reconhecido_por, reconhecido_em, encerrado_em, entrega, tentativas_entrega';

interface AlertRow {
  id: string;
  matricula: string;
  tipo: string;
  chave: string;
  estado: string;
  detalhe: string;
  criado_em: string;
  reconhecido_por: string | null;
  reconhecido_em: string | null;
  encerrado_em: string | null;
  entrega: string;
  tentativas_entrega: number;
}

const time = (value: string | null): number | null => (value === null ? null : Number(value));

const fromRow = (row: AlertRow): Alert => ({
  id: row.id,
  matricula: row.matricula,
  kind: row.tipo as Alert['kind'],
  key: row.chave,
  state: row.estado as Alert['state'],
  detail: row.detalhe,
  raisedAt: Number(row.criado_em),
  acknowledgedBy: row.reconhecido_por,
  acknowledgedAt: time(row.reconhecido_em),
  closedAt: time(row.encerrado_em),
  delivery: row.entrega as DeliveryState,
  deliveryAttempts: row.tentativas_entrega,
});

export class PgAlertStore implements AlertStore {
  constructor(private readonly db: PgDatabase) {}

  async raise(alert: Alert): Promise<Alert | undefined> {
    const { rows } = await this.db.run<AlertRow>(
      `INSERT INTO alertas (${COLUMNS}) VALUES ($1, $2, $3, $4, 'ativo', $5, $6, NULL, NULL, NULL, $7, $8)
       ON CONFLICT (matricula, chave) WHERE estado <> 'encerrado' DO NOTHING RETURNING ${COLUMNS}`,
      [alert.id, alert.matricula, alert.kind, alert.key, alert.detail, alert.raisedAt, alert.delivery, alert.deliveryAttempts],
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async acknowledge(id: string, by: string, at: number): Promise<AcknowledgeOutcome> {
    const { rows } = await this.db.run<AlertRow>(
      `UPDATE alertas SET estado = 'reconhecido', reconhecido_por = $2, reconhecido_em = $3 WHERE id = $1 AND estado = 'ativo' RETURNING ${COLUMNS}`,
      [id, by, at],
    );
    if (rows[0] !== undefined) return fromRow(rows[0]);
    const current = await this.get(id);
    if (current === undefined) return 'nao_encontrado';
    return current.state === 'encerrado' ? 'encerrado' : current;
  }

  async close(matricula: string, key: string, at: number): Promise<Alert | undefined> {
    const { rows } = await this.db.run<AlertRow>(
      `UPDATE alertas SET estado = 'encerrado', encerrado_em = $3 WHERE matricula = $1 AND chave = $2 AND estado <> 'encerrado' RETURNING ${COLUMNS}`,
      [matricula, key, at],
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async setDelivery(id: string, delivery: DeliveryState, attempts: number): Promise<void> {
    await this.db.run('UPDATE alertas SET entrega = $2, tentativas_entrega = $3 WHERE id = $1', [id, delivery, attempts]);
  }

  async get(id: string): Promise<Alert | undefined> {
    const { rows } = await this.db.run<AlertRow>(`SELECT ${COLUMNS} FROM alertas WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async list(query: AlertQuery, offset: number, limit: number): Promise<Alert[]> {
    const { rows } = await this.db.run<AlertRow>(
      `SELECT ${COLUMNS} FROM alertas WHERE ($1::text IS NULL OR matricula = $1) AND ($2::text IS NULL OR estado = $2) AND ($3::text IS NULL OR tipo = $3)
       ORDER BY criado_em DESC, id DESC OFFSET $4 LIMIT $5`,
      [query.matricula ?? null, query.state ?? null, query.kind ?? null, offset, limit],
    );
    return rows.map(fromRow);
  }

  async restore(alert: Alert): Promise<boolean> {
    const { rowCount } = await this.db.run(
      `INSERT INTO alertas (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
      [alert.id, alert.matricula, alert.kind, alert.key, alert.state, alert.detail, alert.raisedAt, alert.acknowledgedBy, alert.acknowledgedAt, alert.closedAt, alert.delivery, alert.deliveryAttempts],
    );
    return rowCount === 1;
  }

  async pendingDeliveries(): Promise<Alert[]> {
    const { rows } = await this.db.run<AlertRow>(`SELECT ${COLUMNS} FROM alertas WHERE entrega = 'pendente' ORDER BY criado_em`);
    return rows.map(fromRow);
  }
}
