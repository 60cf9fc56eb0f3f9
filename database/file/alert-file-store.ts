/** Alerts in `alertas.jsonl` (see journal.ts): a snapshot per change, the latest of an id wins. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { ALERT_KINDS, ALERT_STATES, DELIVERY_STATES, isOpen, type AcknowledgeOutcome, type Alert, type AlertQuery, type AlertStore, type DeliveryState } from '../alert-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const ALERTS_FILE = 'alertas.jsonl';

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);
const isTimeOrNull = (value: unknown): boolean => value === null || isTime(value);

function parseAlert(value: unknown): Alert | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.matricula !== 'string' || !isMatricula(r.matricula)) return undefined;
  if (!ALERT_KINDS.includes(r.kind as never) || !ALERT_STATES.includes(r.state as never) || !DELIVERY_STATES.includes(r.delivery as never)) return undefined;
  if (typeof r.key !== 'string' || typeof r.detail !== 'string' || !isTime(r.raisedAt) || !isTime(r.deliveryAttempts)) return undefined;
  if (!(r.acknowledgedBy === null || typeof r.acknowledgedBy === 'string') || !isTimeOrNull(r.acknowledgedAt) || !isTimeOrNull(r.closedAt)) return undefined;
  return r as unknown as Alert;
}

export class FileAlertStore implements AlertStore {
  private readonly byId = new Map<string, Alert>();
  /** `matricula|key` -> the id of its open alert. */
  private readonly open = new Map<string, string>();

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileAlertStore> {
    const store = new FileAlertStore(new JournalWriter(join(dataDir, ALERTS_FILE), ALERTS_FILE));
    for (const alert of await readJournal(store.journal.path, parseAlert, logger)) store.remember(alert);
    return store;
  }

  raise(alert: Alert): Promise<Alert | undefined> {
    return this.journal.serially(async () => {
      if (this.open.has(`${alert.matricula}|${alert.key}`)) return undefined;
      await this.journal.append([alert]);
      this.remember(alert);
      return alert;
    });
  }

  acknowledge(id: string, by: string, at: number): Promise<AcknowledgeOutcome> {
    return this.change(id, (alert) => {
      if (alert.state === 'encerrado') return 'encerrado';
      if (alert.state === 'reconhecido') return alert;
      return { ...alert, state: 'reconhecido', acknowledgedBy: by, acknowledgedAt: at };
    });
  }

  async close(matricula: string, key: string, at: number): Promise<Alert | undefined> {
    const id = this.open.get(`${matricula}|${key}`);
    if (id === undefined) return undefined;
    const outcome = await this.change(id, (alert) => (isOpen(alert) ? { ...alert, state: 'encerrado', closedAt: at } : 'encerrado'));
    return typeof outcome === 'string' ? undefined : outcome;
  }

  async setDelivery(id: string, delivery: DeliveryState, attempts: number): Promise<void> {
    await this.change(id, (alert) => ({ ...alert, delivery, deliveryAttempts: attempts }));
  }

  async get(id: string): Promise<Alert | undefined> {
    return this.byId.get(id);
  }

  async list(query: AlertQuery, offset: number, limit: number): Promise<Alert[]> {
    return [...this.byId.values()]
      .filter((a) => (query.matricula === undefined || a.matricula === query.matricula) && (query.state === undefined || a.state === query.state) && (query.kind === undefined || a.kind === query.kind))
      .sort((a, b) => b.raisedAt - a.raisedAt || b.id.localeCompare(a.id))
      .slice(offset, offset + limit);
  }

  async pendingDeliveries(): Promise<Alert[]> {
    return [...this.byId.values()].filter((a) => a.delivery === 'pendente').sort((a, b) => a.raisedAt - b.raisedAt);
  }

  restore(alert: Alert): Promise<boolean> {
    return this.journal.serially(async () => {
      if (this.byId.has(alert.id) || (isOpen(alert) && this.open.has(`${alert.matricula}|${alert.key}`))) return false;
      await this.journal.append([alert]);
      this.remember(alert);
      return true;
    });
  }

  /** Applies `next` to the stored alert under the journal's lock; a string result is returned as is, with nothing written. */
  private change(id: string, next: (alert: Alert) => Alert | 'encerrado'): Promise<AcknowledgeOutcome> {
    return this.journal.serially(async () => {
      const alert = this.byId.get(id);
      if (alert === undefined) return 'nao_encontrado';
      const changed = next(alert);
      if (typeof changed === 'string' || changed === alert) return changed;
      await this.journal.append([changed]);
      this.remember(changed);
      return changed;
    });
  }

  private remember(alert: Alert): void {
    this.byId.set(alert.id, alert);
    const key = `${alert.matricula}|${alert.key}`;
    if (isOpen(alert)) this.open.set(key, alert.id);
    else if (this.open.get(key) === alert.id) this.open.delete(key);
  }
}
