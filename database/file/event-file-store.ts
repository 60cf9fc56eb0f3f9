/**
 * Meter events in `ocorrencias.jsonl` (see journal.ts), all kept in memory:
 * events are rare next to readings. A line is an event, or a change of an
 * event's webhook delivery (`{"entrega": {matricula, timestamp, type,
 * delivery, attempts}}`); events of earlier versions (no delivery) read as
 * `desativada`.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { EVENT_TYPES, type MeterEventType } from '../../protocol/meter-commands.js';
import { eventKey, newestFirst, type EventId, type EventQuery, type EventStore, type MeterEvent } from '../event-store.js';
import { DELIVERY_STATES, type DeliveryState } from '../alert-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const EVENTS_FILE = 'ocorrencias.jsonl';

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

interface DeliveryChange extends EventId {
  readonly delivery: DeliveryState;
  readonly attempts: number;
}

type EventLine = { readonly event: MeterEvent } | { readonly change: DeliveryChange };

function parseId(r: Record<string, unknown>): EventId | undefined {
  if (typeof r.matricula !== 'string' || !isMatricula(r.matricula) || !isTime(r.timestamp) || !EVENT_TYPES.includes(r.type as never)) return undefined;
  return { matricula: r.matricula, timestamp: r.timestamp, type: r.type as MeterEvent['type'] };
}

function parseLine(value: unknown): EventLine | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object') return undefined;
  if (typeof r.entrega === 'object' && r.entrega !== null) {
    const c = r.entrega as Record<string, unknown>;
    const id = parseId(c);
    if (id === undefined || !DELIVERY_STATES.includes(c.delivery as never) || !isTime(c.attempts)) return undefined;
    return { change: { ...id, delivery: c.delivery as DeliveryState, attempts: c.attempts } };
  }
  const id = parseId(r);
  if (id === undefined || !isTime(r.receivedAt) || typeof r.detail !== 'string') return undefined;
  const delivery = r.delivery === undefined ? 'desativada' : r.delivery;
  const attempts = r.deliveryAttempts === undefined ? 0 : r.deliveryAttempts;
  if (!DELIVERY_STATES.includes(delivery as never) || !isTime(attempts)) return undefined;
  return { event: { ...id, detail: r.detail, receivedAt: r.receivedAt, delivery: delivery as DeliveryState, deliveryAttempts: attempts } };
}

export class FileEventStore implements EventStore {
  /** Every event by its key (the latest delivery state of each). */
  private readonly byKey = new Map<string, MeterEvent>();
  /** Per meter, its events in arrival order. */
  private readonly byMeter = new Map<string, MeterEvent[]>();

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileEventStore> {
    const store = new FileEventStore(new JournalWriter(join(dataDir, EVENTS_FILE), EVENTS_FILE));
    for (const line of await readJournal(store.journal.path, parseLine, logger)) {
      if ('event' in line) store.remember(line.event);
      else store.changed(line.change);
    }
    return store;
  }

  append(events: readonly MeterEvent[]): Promise<boolean[]> {
    return this.journal.serially(async () => {
      const seen = new Set<string>();
      const fresh = events.map((event) => {
        const key = eventKey(event);
        const isNew = !this.byKey.has(key) && !seen.has(key);
        seen.add(key);
        return isNew;
      });
      const toWrite = events.filter((_, i) => fresh[i]);
      await this.journal.append(toWrite);
      for (const event of toWrite) this.remember(event);
      return fresh;
    });
  }

  async list(query: EventQuery, offset: number, limit: number): Promise<MeterEvent[]> {
    const pool = query.matricula === undefined ? [...this.byMeter.values()].flat() : (this.byMeter.get(query.matricula) ?? []);
    return pool
      .filter((e) => e.timestamp >= query.from && e.timestamp <= query.to && (query.type === undefined || e.type === query.type))
      .sort(newestFirst)
      .slice(offset, offset + limit);
  }

  async newestPerMeter(types: readonly MeterEventType[]): Promise<MeterEvent[]> {
    const wanted = new Set(types);
    const result: MeterEvent[] = [];
    for (const events of this.byMeter.values()) {
      let newest: MeterEvent | undefined;
      for (const event of events) if (wanted.has(event.type) && (newest === undefined || newestFirst(event, newest) < 0)) newest = event;
      if (newest !== undefined) result.push(newest);
    }
    return result;
  }

  setDelivery(event: EventId, delivery: DeliveryState, attempts: number): Promise<void> {
    return this.journal.serially(async () => {
      if (!this.byKey.has(eventKey(event))) return;
      const change: DeliveryChange = { matricula: event.matricula, timestamp: event.timestamp, type: event.type, delivery, attempts };
      await this.journal.append([{ entrega: change }]);
      this.changed(change);
    });
  }

  async pendingDeliveries(): Promise<MeterEvent[]> {
    return [...this.byKey.values()].filter((e) => e.delivery === 'pendente').sort((a, b) => a.receivedAt - b.receivedAt);
  }

  private remember(event: MeterEvent): void {
    const key = eventKey(event);
    if (this.byKey.has(key)) return;
    this.byKey.set(key, event);
    let events = this.byMeter.get(event.matricula);
    if (events === undefined) this.byMeter.set(event.matricula, (events = []));
    events.push(event);
  }

  /** A delivery change replaces the event in both indexes. */
  private changed(change: DeliveryChange): void {
    const key = eventKey(change);
    const event = this.byKey.get(key);
    if (event === undefined) return;
    const updated: MeterEvent = { ...event, delivery: change.delivery, deliveryAttempts: change.attempts };
    this.byKey.set(key, updated);
    const events = this.byMeter.get(event.matricula) as MeterEvent[];
    events[events.indexOf(event)] = updated;
  }
}
