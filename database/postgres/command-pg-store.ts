/** Commands in PostgreSQL (migration 007), through the main store's pool. */
import type { CommandStore, StoredCommand } from '../command-store.js';
import type { PgDatabase } from './pg-database.js';

const COLUMNS = 'id, matricula, tipo, parametros, estado, criado_em, expira_em, tentativas, ultimo_envio, concluido_em, resultado, pedido_por, chave_idempotencia';

interface CommandRow {
  id: string;
  matricula: string;
  tipo: string;
  parametros: Record<string, string>;
  estado: string;
  criado_em: string;
  expira_em: string;
  tentativas: number;
  ultimo_envio: string | null;
  concluido_em: string | null;
  resultado: string | null;
  pedido_por: string;
  chave_idempotencia: string | null;
}

const fromRow = (row: CommandRow): StoredCommand => ({
  id: row.id,
  matricula: row.matricula,
  type: row.tipo as StoredCommand['type'],
  parameters: row.parametros,
  state: row.estado as StoredCommand['state'],
  createdAt: Number(row.criado_em),
  expiresAt: Number(row.expira_em),
  attempts: row.tentativas,
  lastSentAt: row.ultimo_envio === null ? null : Number(row.ultimo_envio),
  finishedAt: row.concluido_em === null ? null : Number(row.concluido_em),
  outcome: row.resultado,
  requestedBy: row.pedido_por,
  idempotencyKey: row.chave_idempotencia,
});

export class PgCommandStore implements CommandStore {
  constructor(private readonly db: PgDatabase) {}

  async create(command: StoredCommand): Promise<{ command: StoredCommand; created: boolean }> {
    const inserted = await this.db.run<CommandRow>(
      `INSERT INTO comandos (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (pedido_por, chave_idempotencia) DO NOTHING RETURNING ${COLUMNS}`,
      [command.id, command.matricula, command.type, JSON.stringify(command.parameters), command.state, command.createdAt, command.expiresAt, command.attempts, command.lastSentAt, command.finishedAt, command.outcome, command.requestedBy, command.idempotencyKey],
    );
    if (inserted.rows[0] !== undefined) {
      this.db.changes.publish({ kind: 'comando', id: command.id });
      return { command: fromRow(inserted.rows[0]), created: true };
    }
    const { rows } = await this.db.run<CommandRow>(`SELECT ${COLUMNS} FROM comandos WHERE pedido_por = $1 AND chave_idempotencia = $2`, [command.requestedBy, command.idempotencyKey]);
    return { command: fromRow(rows[0] as CommandRow), created: false };
  }

  async get(id: string): Promise<StoredCommand | undefined> {
    const { rows } = await this.db.run<CommandRow>(`SELECT ${COLUMNS} FROM comandos WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async listByMeter(matricula: string, offset: number, limit: number): Promise<StoredCommand[]> {
    const { rows } = await this.db.run<CommandRow>(`SELECT ${COLUMNS} FROM comandos WHERE matricula = $1 ORDER BY criado_em DESC, id DESC OFFSET $2 LIMIT $3`, [matricula, offset, limit]);
    return rows.map(fromRow);
  }

  async update(previous: StoredCommand, next: StoredCommand): Promise<{ command: StoredCommand; applied: boolean }> {
    const { rows } = await this.db.run<CommandRow>(
      `UPDATE comandos SET estado = $4, tentativas = $5, ultimo_envio = $6, concluido_em = $7, resultado = $8
       WHERE id = $1 AND estado = $2 AND tentativas = $3 RETURNING ${COLUMNS}`,
      [previous.id, previous.state, previous.attempts, next.state, next.attempts, next.lastSentAt, next.finishedAt, next.outcome],
    );
    if (rows[0] !== undefined) {
      this.db.changes.publish({ kind: 'comando', id: previous.id });
      return { command: fromRow(rows[0]), applied: true };
    }
    return { command: (await this.get(previous.id)) ?? previous, applied: false };
  }

  async all(): Promise<StoredCommand[]> {
    const { rows } = await this.db.run<CommandRow>(`SELECT ${COLUMNS} FROM comandos ORDER BY criado_em, id COLLATE "C"`);
    return rows.map(fromRow);
  }

  async open(): Promise<StoredCommand[]> {
    const { rows } = await this.db.run<CommandRow>(`SELECT ${COLUMNS} FROM comandos WHERE estado IN ('pendente', 'enviado') ORDER BY criado_em, id`);
    return rows.map(fromRow);
  }
}
