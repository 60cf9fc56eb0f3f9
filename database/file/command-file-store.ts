/** Commands in `comandos.jsonl` (see journal.ts): a snapshot per change, the latest of an id wins. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { COMMAND_STATES, COMMAND_TYPES, FINAL_STATES } from '../../domain/commands.js';
import type { CommandStore, StoredCommand } from '../command-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const COMMANDS_FILE = 'comandos.jsonl';

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

function parseCommand(value: unknown): StoredCommand | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.matricula !== 'string' || !isMatricula(r.matricula)) return undefined;
  if (!COMMAND_TYPES.includes(r.type as never) || !COMMAND_STATES.includes(r.state as never)) return undefined;
  if (!isTime(r.createdAt) || !isTime(r.expiresAt) || !isTime(r.attempts) || !(r.lastSentAt === null || isTime(r.lastSentAt)) || !(r.finishedAt === null || isTime(r.finishedAt))) return undefined;
  if (!(r.outcome === null || typeof r.outcome === 'string') || typeof r.requestedBy !== 'string' || !(r.idempotencyKey === null || typeof r.idempotencyKey === 'string')) return undefined;
  if (typeof r.parameters !== 'object' || r.parameters === null || Object.values(r.parameters).some((v) => typeof v !== 'string')) return undefined;
  return r as unknown as StoredCommand;
}

export class FileCommandStore implements CommandStore {
  private readonly byId = new Map<string, StoredCommand>();
  private readonly byKey = new Map<string, string>();

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileCommandStore> {
    const store = new FileCommandStore(new JournalWriter(join(dataDir, COMMANDS_FILE), COMMANDS_FILE));
    for (const command of await readJournal(store.journal.path, parseCommand, logger)) store.remember(command);
    return store;
  }

  create(command: StoredCommand): Promise<{ command: StoredCommand; created: boolean }> {
    return this.journal.serially(async () => {
      const existing = command.idempotencyKey === null ? undefined : this.byKey.get(`${command.requestedBy}|${command.idempotencyKey}`);
      if (existing !== undefined) return { command: this.byId.get(existing) as StoredCommand, created: false };
      await this.journal.append([command]);
      this.remember(command);
      return { command, created: true };
    });
  }

  async get(id: string): Promise<StoredCommand | undefined> {
    return this.byId.get(id);
  }

  async listByMeter(matricula: string, offset: number, limit: number): Promise<StoredCommand[]> {
    return [...this.byId.values()].filter((c) => c.matricula === matricula).sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id)).slice(offset, offset + limit);
  }

  update(previous: StoredCommand, next: StoredCommand): Promise<{ command: StoredCommand; applied: boolean }> {
    return this.journal.serially(async () => {
      const stored = this.byId.get(previous.id);
      if (stored === undefined || stored.state !== previous.state || stored.attempts !== previous.attempts) return { command: stored ?? previous, applied: false };
      await this.journal.append([next]);
      this.byId.set(next.id, next);
      return { command: next, applied: true };
    });
  }

  async all(): Promise<StoredCommand[]> {
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async open(): Promise<StoredCommand[]> {
    return [...this.byId.values()].filter((c) => !FINAL_STATES.has(c.state)).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  private remember(command: StoredCommand): void {
    this.byId.set(command.id, command);
    if (command.idempotencyKey !== null) this.byKey.set(`${command.requestedBy}|${command.idempotencyKey}`, command.id);
  }
}
