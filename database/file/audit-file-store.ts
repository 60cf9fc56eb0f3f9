/** The audit log in `auditoria.jsonl` (see journal.ts): one line per entry, never rewritten. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditEntry, AuditFilter, AuditRecord, AuditStore } from '../audit-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const AUDIT_FILE = 'auditoria.jsonl';

function parseEntry(value: unknown): AuditEntry | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object') return undefined;
  const { id, at, actor, action, target, address, status } = r;
  if (!Number.isSafeInteger(id) || !Number.isSafeInteger(at) || typeof actor !== 'string' || typeof action !== 'string' || typeof target !== 'string' || typeof address !== 'string' || !Number.isSafeInteger(status)) return undefined;
  return { id: id as number, at: at as number, actor, action, target, address, status: status as number };
}

const matchesAudit = (entry: AuditEntry, filter: AuditFilter): boolean =>
  (filter.actor === undefined || entry.actor === filter.actor) && (filter.action === undefined || entry.action === filter.action) && (filter.from === undefined || entry.at >= filter.from) && (filter.to === undefined || entry.at < filter.to);

export class FileAuditStore implements AuditStore {
  private readonly entries: AuditEntry[] = [];

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileAuditStore> {
    const store = new FileAuditStore(new JournalWriter(join(dataDir, AUDIT_FILE), AUDIT_FILE));
    for (const entry of await readJournal(store.journal.path, parseEntry, logger)) store.entries.push(entry);
    store.entries.sort((a, b) => a.id - b.id);
    return store;
  }

  append(record: AuditRecord): Promise<AuditEntry> {
    return this.journal.serially(async () => {
      const entry: AuditEntry = { id: (this.entries.at(-1)?.id ?? 0) + 1, ...record };
      await this.journal.append([entry]);
      this.entries.push(entry);
      return entry;
    });
  }

  async list(filter: AuditFilter, offset: number, limit: number): Promise<AuditEntry[]> {
    const found: AuditEntry[] = [];
    let skipped = 0;
    for (let i = this.entries.length - 1; i >= 0 && found.length < limit; i--) {
      const entry = this.entries[i] as AuditEntry;
      if (!matchesAudit(entry, filter)) continue;
      if (skipped++ < offset) continue;
      found.push(entry);
    }
    return found;
  }
}
