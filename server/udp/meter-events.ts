/**
 * Events from meters (issue 16): EVENTO lines parsed, checked for
 * authenticity and a plausible time, stored, and only then acknowledged
 * (ACK_EVENTO, signed for keyed meters), so an acknowledged event is never
 * lost; a copy is acknowledged again and stored once. New events go to the
 * fleet's supply and power state and to live subscribers.
 */
import type { Logger } from 'pino';
import type { EventStore, MeterEvent } from '../../database/event-store.js';
import type { DeliveryState } from '../../database/alert-store.js';
import { timestampRefusal, type TimestampRules } from '../../domain/readings/admission.js';
import { parseEventLine, serializeEventAck, type EventLine } from '../../protocol/meter-commands.js';
import { ThrottledWarning } from '../log-throttle.js';
import type { MeterLine, MeterLineVerdict } from './meter-authentication.js';
import type { MeterAddress } from './ingest.js';
import type { ExpositionWriter } from '../metrics.js';

/** New events stored per meter per minute at most; more wait unacknowledged (the meter resends them). */
export const EVENTS_PER_METER_PER_MINUTE = 60;
const MINUTE_MS = 60_000;
/** How long an answer to "is this meter a customer's?" is reused, and how many are kept. */
const CUSTOMER_CACHE_MS = 60_000;
const CUSTOMER_CACHE_MAX = 100_000;

export interface EventIntakeOptions {
  readonly events: EventStore;
  /** The webhook delivery state an event is stored with (`pendente` when there is a webhook). */
  readonly delivery: DeliveryState;
  readonly logger: Logger;
  readonly timestampRules: TimestampRules;
  /** Whether lines of meters are authentic and fresh (MeterLineGate). */
  readonly admit: (lines: readonly MeterLine[]) => Promise<MeterLineVerdict[]>;
  readonly sign: (line: string, matricula: string) => string;
  readonly send: (lines: readonly string[], to: MeterAddress) => void;
  readonly heardFrom: (matricula: string, from: MeterAddress) => void;
  /**
   * Whether a stored reading of the meter is known: events of other meters
   * wait unacknowledged (a meter's readings come first), so invented
   * matriculas cannot fill the store with events.
   */
  readonly known: (matricula: string) => boolean;
  /** Whether a registered customer has the meter: events of other meters share a server-wide budget. */
  readonly isCustomer?: ((matricula: string) => Promise<boolean>) | undefined;
  /** New events of meters of no customer stored a minute, server-wide (OCORRENCIAS_SEM_CLIENTE_POR_MINUTO); 0: no limit. */
  readonly strangersPerMinute?: number | undefined;
  /** Told of the events this server stored (not copies); must not throw. */
  readonly onStored: (events: readonly MeterEvent[]) => void;
  readonly now?: () => number;
}

export interface EventCounters {
  received: number;
  stored: number;
  /** Lines that did not parse or were not authentic: not answered. */
  ignored: number;
  /** Authentic events of keyed meters refused as replays (no invocation counter above the newest accepted): not answered. */
  replayed: number;
  /** Events dated too far ahead or too long ago: acknowledged so the meter stops resending, not stored. */
  refused: number;
  /** Events over the per-meter rate, left unacknowledged. */
  deferred: number;
  /** Events of meters with no stored reading yet, left unacknowledged. */
  unknown: number;
  /** Events of meters of no customer past the server-wide budget, left unacknowledged (a customer's are never counted in it). */
  strangers: number;
}

export class EventIntake {
  readonly counters: EventCounters = { received: 0, stored: 0, ignored: 0, replayed: 0, refused: 0, deferred: 0, unknown: 0, strangers: 0 };
  /** Events of meters of no customer stored in the current minute, server-wide. */
  private strangersThisMinute = 0;
  private readonly customerCache = new Map<string, { readonly is: boolean; readonly at: number }>();
  private readonly now: () => number;
  private window = { start: 0, perMeter: new Map<string, number>() };
  private readonly storeWarning: ThrottledWarning;
  private readonly refusedWarning: ThrottledWarning;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: EventIntakeOptions) {
    this.now = options.now ?? Date.now;
    this.storeWarning = new ThrottledWarning(options.logger, 'could not store meter events; not acknowledged, meters will resend');
    this.refusedWarning = new ThrottledWarning(options.logger, 'acknowledged but did not store meter events dated too far ahead or too long ago');
  }

  /** A datagram of EVENTO lines from `from`: judged, then stored and acknowledged (settle() waits for it). */
  received(lines: readonly string[], from: MeterAddress): void {
    const task = this.receive(lines, from).catch((error: unknown) => this.storeWarning.warn({ err: error }));
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  private async receive(lines: readonly string[], from: MeterAddress): Promise<void> {
    const parsed = [];
    for (const line of lines) {
      this.counters.received++;
      const event = parseEventLine(line);
      if (typeof event === 'string') this.counters.ignored++;
      else parsed.push(event);
    }
    const verdicts = await this.options.admit(parsed);
    const customers = await this.customersAmong(parsed.filter((_, i) => verdicts[i] === 'fresh').map((event) => event.matricula));
    const now = this.now();
    if (now - this.window.start >= MINUTE_MS) {
      this.window = { start: now, perMeter: new Map() };
      this.strangersThisMinute = 0;
    }
    const toStore: EventLine[] = [];
    const acks: EventLine[] = [];
    for (const [i, event] of parsed.entries()) {
      const verdict = verdicts[i];
      if (verdict !== 'fresh') {
        if (verdict === 'replayed') this.counters.replayed++;
        else this.counters.ignored++;
        continue;
      }
      if (!this.options.known(event.matricula)) {
        this.counters.unknown++;
        continue;
      }
      // Only a fresh, authentic line says where the meter is: a replayed one would steer its commands to the replayer.
      this.options.heardFrom(event.matricula, from);
      if (timestampRefusal(event.timestamp, now, this.options.timestampRules) !== undefined) {
        this.counters.refused++;
        this.refusedWarning.warn({ matricula: event.matricula, refusedTotal: this.counters.refused });
        acks.push(event);
        continue;
      }
      const count = this.window.perMeter.get(event.matricula) ?? 0;
      if (count >= EVENTS_PER_METER_PER_MINUTE) {
        this.counters.deferred++;
        continue;
      }
      // Meters of no customer (invented ones, in a flood) share one budget: they never crowd out a customer's events.
      const budget = this.options.strangersPerMinute ?? 0;
      if (budget > 0 && !customers.has(event.matricula)) {
        if (this.strangersThisMinute >= budget) {
          this.counters.strangers++;
          continue;
        }
        this.strangersThisMinute++;
      }
      this.window.perMeter.set(event.matricula, count + 1);
      toStore.push(event);
    }
    if (toStore.length === 0) return this.acknowledge(acks, from);
    const records: MeterEvent[] = toStore.map((e) => ({ matricula: e.matricula, timestamp: e.timestamp, type: e.type, detail: e.detail, receivedAt: now, delivery: this.options.delivery, deliveryAttempts: 0 }));
    await this.options.events.append(records).then(
      (fresh) => {
        const stored = records.filter((_, i) => fresh[i]);
        this.counters.stored += stored.length;
        this.acknowledge([...acks, ...toStore], from);
        if (stored.length === 0) return;
        try {
          this.options.onStored(stored);
        } catch (error) {
          this.options.logger.error({ err: error }, 'bug: a listener of stored events failed');
        }
      },
      (error: unknown) => {
        this.storeWarning.warn({ err: error });
        this.acknowledge(acks, from);
      },
    );
  }

  /** Which of these meters are customers' (answers reused for a minute, a bounded number of them). */
  private async customersAmong(matriculas: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const isCustomer = this.options.isCustomer;
    if (isCustomer === undefined || (this.options.strangersPerMinute ?? 0) === 0) return new Set(matriculas);
    const now = this.now();
    for (const matricula of new Set(matriculas)) {
      let cached = this.customerCache.get(matricula);
      if (cached === undefined || now - cached.at > CUSTOMER_CACHE_MS) {
        cached = { is: await isCustomer(matricula), at: now };
        this.customerCache.delete(matricula);
        this.customerCache.set(matricula, cached);
        if (this.customerCache.size > CUSTOMER_CACHE_MAX) this.customerCache.delete(this.customerCache.keys().next().value as string);
      }
      if (cached.is) found.add(matricula);
    }
    return found;
  }

  /** Waits for events being stored (shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private acknowledge(events: readonly EventLine[], to: MeterAddress): void {
    if (events.length === 0) return;
    this.options.send(
      events.map((e) => this.options.sign(serializeEventAck({ matricula: e.matricula, timestamp: e.timestamp, type: e.type }), e.matricula)),
      to,
    );
  }

  /** Its family in /metricas: EVENTO lines by what became of them. */
  writeMetrics(out: ExpositionWriter): void {
    const e = this.counters;
    out.family('consumo_ocorrencias_total', 'counter', 'EVENTO lines from meters, by what became of them.');
    for (const [resultado, count] of [['armazenada', e.stored], ['ignorada', e.ignored], ['repetida', e.replayed], ['recusada', e.refused], ['adiada', e.deferred], ['medidor_desconhecido', e.unknown], ['sem_cliente_limitada', e.strangers]] as const) out.sample('consumo_ocorrencias_total', count, { resultado });
  }
}
