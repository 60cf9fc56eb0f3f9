/**
 * Meter events in `ocorrencias.jsonl` (see journal.ts). A line is an event,
 * or a change of an event's webhook delivery (`{"entrega": {matricula,
 * timestamp, type, delivery, attempts}}`); events of earlier versions (no
 * delivery) read as `desativada`.
 *
 * Memory is bounded (issue 26: a flood once held 120,000 events and 71 MB):
 * the newest WINDOW_EVENTS events are kept, and besides them only what is
 * per meter (its newest event of each type, for the fleet's state) and the
 * events still waiting for their webhook delivery. A list the window cannot
 * answer whole (it reaches past the newest evicted event) reads the file.
 * A copy of an event is recognised while the event is in the window or
 * pending: meters resend within minutes, far inside it.
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

/** Events kept in memory, newest by arrival; older ones are read from the file when a list reaches them. */
export const WINDOW_EVENTS = 50_000;

export class FileEventStore implements EventStore {
  /** The newest events by arrival, by key (the latest delivery state of each). */
  private readonly recent = new Map<string, MeterEvent>();
  /** Events whose delivery is still `pendente`, wherever they are. */
  private readonly pending = new Map<string, MeterEvent>();
  /** Per meter, its newest event of each type. */
  private readonly newest = new Map<string, Map<MeterEventType, MeterEvent>>();
  /** The latest timestamp of an event that left the window (-Infinity: none did, memory holds every event). */
  private evictedThrough = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly journal: JournalWriter,
    private readonly logger: Logger,
    private readonly window: number,
  ) {}

  static async open(dataDir: string, logger: Logger, window = WINDOW_EVENTS): Promise<FileEventStore> {
    const store = new FileEventStore(new JournalWriter(join(dataDir, EVENTS_FILE), EVENTS_FILE), logger, window);
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
        const isNew = !this.recent.has(key) && !this.pending.has(key) && !seen.has(key);
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
    const matches = (e: MeterEvent) => (query.matricula === undefined || e.matricula === query.matricula) && e.timestamp >= query.from && e.timestamp <= query.to && (query.type === undefined || e.type === query.type);
    const inMemory = [...this.recent.values()].filter(matches).sort(newestFirst);
    // Whole from memory when the page ends on an event newer than every one that left the window.
    const last = inMemory[offset + limit - 1];
    if (query.from > this.evictedThrough || (last !== undefined && last.timestamp > this.evictedThrough)) return inMemory.slice(offset, offset + limit);
    return (await this.fromFile(matches)).sort(newestFirst).slice(offset, offset + limit);
  }

  async newestPerMeter(types: readonly MeterEventType[]): Promise<MeterEvent[]> {
    const result: MeterEvent[] = [];
    for (const byType of this.newest.values()) {
      let newest: MeterEvent | undefined;
      for (const type of types) {
        const event = byType.get(type);
        if (event !== undefined && (newest === undefined || newestFirst(event, newest) < 0)) newest = event;
      }
      if (newest !== undefined) result.push(newest);
    }
    return result;
  }

  setDelivery(event: EventId, delivery: DeliveryState, attempts: number): Promise<void> {
    return this.journal.serially(async () => {
      const key = eventKey(event);
      if (!this.recent.has(key) && !this.pending.has(key)) return;
      const change: DeliveryChange = { matricula: event.matricula, timestamp: event.timestamp, type: event.type, delivery, attempts };
      await this.journal.append([{ entrega: change }]);
      this.changed(change);
    });
  }

  async pendingDeliveries(): Promise<MeterEvent[]> {
    return [...this.pending.values()].sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Events held in memory now (the window and the pending ones), for tests and metrics. */
  get held(): number {
    return this.recent.size + [...this.pending.keys()].filter((key) => !this.recent.has(key)).length;
  }

  private remember(event: MeterEvent): void {
    const key = eventKey(event);
    if (this.recent.has(key) || this.pending.has(key)) return;
    this.recent.set(key, event);
    if (event.delivery === 'pendente') this.pending.set(key, event);
    let byType = this.newest.get(event.matricula);
    if (byType === undefined) this.newest.set(event.matricula, (byType = new Map()));
    const before = byType.get(event.type);
    if (before === undefined || newestFirst(event, before) < 0) byType.set(event.type, event);
    if (this.recent.size > this.window) {
      const [oldestKey, oldest] = this.recent.entries().next().value as [string, MeterEvent];
      this.recent.delete(oldestKey);
      this.evictedThrough = Math.max(this.evictedThrough, oldest.timestamp);
    }
  }

  /** A delivery change replaces the event wherever it is held. */
  private changed(change: DeliveryChange): void {
    const key = eventKey(change);
    const event = this.recent.get(key) ?? this.pending.get(key);
    if (event === undefined) return;
    const updated: MeterEvent = { ...event, delivery: change.delivery, deliveryAttempts: change.attempts };
    if (this.recent.has(key)) this.recent.set(key, updated);
    if (updated.delivery === 'pendente') this.pending.set(key, updated);
    else this.pending.delete(key);
    const byType = this.newest.get(event.matricula);
    if (byType?.get(event.type) === event) byType.set(event.type, updated);
  }

  /** Every event of the file that `matches`, with its latest delivery state (a list that reaches past the window). */
  private async fromFile(matches: (event: MeterEvent) => boolean): Promise<MeterEvent[]> {
    const found = new Map<string, MeterEvent>();
    for (const line of await readJournal(this.journal.path, parseLine, this.logger)) {
      if ('event' in line) {
        if (matches(line.event) && !found.has(eventKey(line.event))) found.set(eventKey(line.event), line.event);
      } else {
        const key = eventKey(line.change);
        const event = found.get(key);
        if (event !== undefined) found.set(key, { ...event, delivery: line.change.delivery, deliveryAttempts: line.change.attempts });
      }
    }
    return [...found.values()];
  }
}
