/**
 * Events reported by meters (issue 16): last gasp, power back, tamper,
 * supply cut and restored, limit reached, clock set. An event is one fact
 * per meter, instant and type: a meter resends it until acknowledged, and
 * every copy after the first is recognised and not stored again. The
 * specification both backends pass (test/database/event-contract.ts).
 */
import type { MeterEventType } from '../protocol/meter-commands.js';
import type { DeliveryState } from './alert-store.js';

export interface MeterEvent {
  readonly matricula: string;
  /** When the meter says it happened (ms since the epoch). */
  readonly timestamp: number;
  readonly type: MeterEventType;
  /** What the meter said about it (printable ASCII, up to 200 characters). */
  readonly detail: string;
  /** When this server stored it. */
  readonly receivedAt: number;
  /** Its webhook delivery (`desativada`: no WEBHOOK_URL when it was stored), and the attempts made. */
  readonly delivery: DeliveryState;
  readonly deliveryAttempts: number;
}

/** What names an event: one fact per meter, instant and type. */
export type EventId = Pick<MeterEvent, 'matricula' | 'timestamp' | 'type'>;

export interface EventQuery {
  readonly matricula?: string | undefined;
  readonly type?: MeterEventType | undefined;
  /** Inclusive bounds on the event's own timestamp. */
  readonly from: number;
  readonly to: number;
}

export interface EventStore {
  /**
   * Stores the events not stored before (same matricula, timestamp and
   * type); answers, per event in order, whether this call stored it. Every
   * event is durable when the promise resolves, new or not: what may be
   * acknowledged.
   */
  append(events: readonly MeterEvent[]): Promise<boolean[]>;
  /** Events matching `query`, newest first (ties: matricula, then type, ascending), skipping `offset`, at most `limit`. */
  list(query: EventQuery, offset: number, limit: number): Promise<MeterEvent[]>;
  /** For every meter with an event of one of `types`, its newest such event (what the fleet's supply and power state start from). */
  newestPerMeter(types: readonly MeterEventType[]): Promise<MeterEvent[]>;
  /** Records a webhook delivery's state. Durable when it resolves; an unknown event is ignored. */
  setDelivery(event: EventId, delivery: DeliveryState, attempts: number): Promise<void>;
  /** Events whose delivery is `pendente` (to resume after a restart), oldest stored first. */
  pendingDeliveries(): Promise<MeterEvent[]>;
}

/** The order `list` answers in. */
export function newestFirst(a: MeterEvent, b: MeterEvent): number {
  return b.timestamp - a.timestamp || (a.matricula < b.matricula ? -1 : a.matricula > b.matricula ? 1 : 0) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
}

export function eventKey(event: EventId): string {
  return `${event.matricula}|${event.timestamp}|${event.type}`;
}
