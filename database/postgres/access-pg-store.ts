/** Operator accounts and token generations in PostgreSQL (migration 017). */
import type { AccessStore, OperatorAccount } from '../access-store.js';
import type { PgDatabase } from './pg-database.js';

interface AccountRow {
  nome: string;
  senha_hash: string;
  ativo: boolean;
  criado_em: string;
  criado_por: string;
}

const COLUMNS = 'nome, senha_hash, ativo, criado_em, criado_por';
const fromRow = (row: AccountRow): OperatorAccount => ({ nome: row.nome, passwordHash: row.senha_hash, active: row.ativo, createdAt: Number(row.criado_em), createdBy: row.criado_por });

export class PgAccessStore implements AccessStore {
  constructor(private readonly db: PgDatabase) {}

  async createOperator(account: OperatorAccount): Promise<boolean> {
    const { rowCount } = await this.db.run(`INSERT INTO operadores (${COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (nome) DO NOTHING`, [account.nome, account.passwordHash, account.active, account.createdAt, account.createdBy]);
    return rowCount === 1;
  }

  async operator(nome: string): Promise<OperatorAccount | undefined> {
    const { rows } = await this.db.run<AccountRow>(`SELECT ${COLUMNS} FROM operadores WHERE nome = $1`, [nome]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async operators(): Promise<OperatorAccount[]> {
    const { rows } = await this.db.run<AccountRow>(`SELECT ${COLUMNS} FROM operadores ORDER BY nome COLLATE "C"`);
    return rows.map(fromRow);
  }

  async updateOperator(nome: string, change: { readonly passwordHash?: string; readonly active?: boolean }): Promise<OperatorAccount | undefined> {
    const { rows } = await this.db.run<AccountRow>(
      `UPDATE operadores SET senha_hash = coalesce($2, senha_hash), ativo = coalesce($3, ativo) WHERE nome = $1 RETURNING ${COLUMNS}`,
      [nome, change.passwordHash ?? null, change.active ?? null],
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async generation(principal: string): Promise<number> {
    const { rows } = await this.db.run<{ geracao: number }>('SELECT geracao FROM geracoes_token WHERE principal = $1', [principal]);
    return rows[0]?.geracao ?? 0;
  }

  async bumpGeneration(principal: string): Promise<number> {
    const { rows } = await this.db.run<{ geracao: number }>(
      'INSERT INTO geracoes_token (principal, geracao) VALUES ($1, 1) ON CONFLICT (principal) DO UPDATE SET geracao = geracoes_token.geracao + 1 RETURNING geracao',
      [principal],
    );
    return (rows[0] as { geracao: number }).geracao;
  }

  async generations(): Promise<ReadonlyMap<string, number>> {
    const { rows } = await this.db.run<{ principal: string; geracao: number }>('SELECT principal, geracao FROM geracoes_token');
    return new Map(rows.map((row) => [row.principal, row.geracao]));
  }
}
