/** Operator accounts and token generations in `acessos.jsonl` (see journal.ts): the newest line of an account or principal wins. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { OPERATOR_NAME, type AccessStore, type OperatorAccount } from '../access-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const ACCESS_FILE = 'acessos.jsonl';

type Line = { readonly tipo: 'operador'; readonly conta: OperatorAccount } | { readonly tipo: 'geracao'; readonly principal: string; readonly geracao: number };

function parseLine(value: unknown): Line | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object') return undefined;
  if (r.tipo === 'geracao') return typeof r.principal === 'string' && Number.isSafeInteger(r.geracao) ? { tipo: 'geracao', principal: r.principal, geracao: r.geracao as number } : undefined;
  const a = r.conta as Record<string, unknown> | null;
  if (r.tipo !== 'operador' || a === null || typeof a !== 'object') return undefined;
  if (typeof a.nome !== 'string' || !OPERATOR_NAME.test(a.nome) || typeof a.passwordHash !== 'string' || typeof a.active !== 'boolean' || !Number.isSafeInteger(a.createdAt) || typeof a.createdBy !== 'string') return undefined;
  return { tipo: 'operador', conta: { nome: a.nome, passwordHash: a.passwordHash, active: a.active, createdAt: a.createdAt as number, createdBy: a.createdBy } };
}

export class FileAccessStore implements AccessStore {
  private readonly accounts = new Map<string, OperatorAccount>();
  private readonly generationOf = new Map<string, number>();

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileAccessStore> {
    const store = new FileAccessStore(new JournalWriter(join(dataDir, ACCESS_FILE), ACCESS_FILE));
    for (const line of await readJournal(store.journal.path, parseLine, logger)) {
      if (line.tipo === 'operador') store.accounts.set(line.conta.nome, line.conta);
      else store.generationOf.set(line.principal, Math.max(line.geracao, store.generationOf.get(line.principal) ?? 0));
    }
    return store;
  }

  createOperator(account: OperatorAccount): Promise<boolean> {
    return this.journal.serially(async () => {
      if (this.accounts.has(account.nome)) return false;
      await this.journal.append([{ tipo: 'operador', conta: account }]);
      this.accounts.set(account.nome, account);
      return true;
    });
  }

  async operator(nome: string): Promise<OperatorAccount | undefined> {
    return this.accounts.get(nome);
  }

  async operators(): Promise<OperatorAccount[]> {
    return [...this.accounts.values()].sort((a, b) => (a.nome < b.nome ? -1 : a.nome > b.nome ? 1 : 0));
  }

  updateOperator(nome: string, change: { readonly passwordHash?: string; readonly active?: boolean }): Promise<OperatorAccount | undefined> {
    return this.journal.serially(async () => {
      const account = this.accounts.get(nome);
      if (account === undefined) return undefined;
      const updated: OperatorAccount = { ...account, ...(change.passwordHash === undefined ? {} : { passwordHash: change.passwordHash }), ...(change.active === undefined ? {} : { active: change.active }) };
      await this.journal.append([{ tipo: 'operador', conta: updated }]);
      this.accounts.set(nome, updated);
      return updated;
    });
  }

  async generation(principal: string): Promise<number> {
    return this.generationOf.get(principal) ?? 0;
  }

  bumpGeneration(principal: string): Promise<number> {
    return this.journal.serially(async () => {
      const next = (this.generationOf.get(principal) ?? 0) + 1;
      await this.journal.append([{ tipo: 'geracao', principal, geracao: next }]);
      this.generationOf.set(principal, next);
      return next;
    });
  }

  async generations(): Promise<ReadonlyMap<string, number>> {
    return new Map(this.generationOf);
  }
}
