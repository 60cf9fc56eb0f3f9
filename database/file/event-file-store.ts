/** Meter events in `ocorrencias.jsonl` (see journal.ts), all kept in memory: events are rare next to readings. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { EVENT_TYPES, type MeterEventType } from '../../protocol/meter-commands.js';
import { eventKey, newestFirst, type EventQuery, type EventStore, type MeterEvent } from '../event-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const EVENTS_FILE = 'ocorrencias.jsonl';

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

function parseEvent(value: unknown): MeterEvent | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || typeof r.matricula !== 'string' || !isMatricula(r.matricula)) return undefined;
  if (!isTime(r.timestamp) || !isTime(r.receivedAt) || !EVENT_TYPES.includes(r.type as never) || typeof r.detail !== 'string') return undefined;
  return { matricula: r.matricula, timestamp: r.timestamp, type: r.type as MeterEvent['type'], detail: r.detail, receivedAt: r.receivedAt };
}

export class FileEventStore implements EventStore {
  private readonly keys = new Set<string>();
  /** Per meter, its events in arrival order. */
  private readonly byMeter = new Map<string, MeterEvent[]>();

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileEventStore> {
    const store = new FileEventStore(new JournalWriter(join(dataDir, EVENTS_FILE), EVENTS_FILE));
    for (const event of await readJournal(store.journal.path, parseEvent, logger)) store.remember(event);
    return store;
  }

  append(events: readonly MeterEvent[]): Promise<boolean[]> {
    return this.journal.serially(async () => {
      const seen = new Set<string>();
      const fresh = events.map((event) => {
        const key = eventKey(event);
        const isNew = !this.keys.has(key) && !seen.has(key);
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

  private remember(event: MeterEvent): void {
    const key = eventKey(event);
    if (this.keys.has(key)) return;
    this.keys.add(key);
    let events = this.byMeter.get(event.matricula);
    if (events === undefined) this.byMeter.set(event.matricula, (events = []));
    events.push(event);
  }
}
