/**
 * Server-Sent Events for the dashboard: each stored reading of a watched
 * meter is pushed to its subscribers, and a fleet summary to every
 * subscriber once a second. Ingest only appends to bounded per-client
 * queues: a slow or dead client is dropped when its queue fills, never
 * waited for.
 */
import { ReplayWindows } from './replay-windows.js';
import type { Reading, ReadingOutcome } from '../../database/store.js';
import { stringifyJson, type JsonValue } from '../../protocol/json.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { FleetSummary } from '../../app/fleet.js';
import { consumoJson, quantitiesJson } from '../../app/views/decimals.js';
import { counter, type ExpositionWriter } from '../metrics.js';

/**
 * Event text a client may have waiting (beyond what its socket holds) before
 * it is dropped as too slow: room for a meter's backlog of thousands of
 * readings arriving at once, and a bound on memory per client.
 */
export const MAX_QUEUED_BYTES = 1 << 20;
/** A comment line this often keeps proxies from closing a quiet stream and finds dead clients. */
export const HEARTBEAT_MS = 15_000;
/** How often fleet summaries are pushed. */
export const FLEET_INTERVAL_MS = 1000;
/** What EventSource waits before reconnecting (the `retry` field). */
export const RECONNECT_MS = 2000;

/** Ends a stream whose client could not keep up; the connection is closed. */
export class SlowClientError extends Error {
  /** An outcome the server plans for, not a fault: logged at debug. */
  readonly expected = true;

  constructor() {
    super(`client fell more than ${MAX_QUEUED_BYTES} bytes of events behind`);
    this.name = 'SlowClientError';
  }
}

/** One event in the text/event-stream format (HTML Living Standard §9.2); JSON data is a single line. */
export function sseEvent(event: string, data: JsonValue, id?: string): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${stringifyJson(data)}\n\n`;
}

/** A stored reading as an `event: medicao`, its id the reading's timestamp in ms (what `Last-Event-ID` gives back). */
export function readingEvent(reading: Reading): string {
  const base = { matricula: reading.matricula, data_hora: formatIsoTimestamp(reading.timestamp), consumo: consumoJson(reading.consumo) };
  // The meter's electrical quantities, when it sent any: the dashboard's live KPIs.
  return sseEvent('medicao', reading.quantities === undefined ? base : { ...base, ...quantitiesJson(reading.quantities) }, String(reading.timestamp));
}

export class Subscriber {
  readonly matricula: string | undefined;
  /** Seconds of silence after which the fleet summaries it gets count a meter silent; undefined: no fleet summaries. */
  readonly silentAfterS: number | undefined;
  /** Newest reading timestamp sent: resends and late copies are not pushed twice. */
  lastSent: number;
  /** Events waiting for the socket, with the reading timestamp of `medicao` events. */
  private queue: Array<{ readonly text: string; readonly timestamp?: number | undefined }> = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private overflowed = false;

  constructor(matricula: string | undefined, lastSent: number, silentAfterS: number | undefined) {
    this.matricula = matricula;
    this.lastSent = lastSent;
    this.silentAfterS = silentAfterS;
  }

  push(text: string, timestamp?: number): boolean {
    if (this.queuedBytes + text.length > MAX_QUEUED_BYTES) {
      this.overflowed = true;
      this.queue = [];
      this.queuedBytes = 0;
    } else {
      this.queue.push({ text, timestamp });
      this.queuedBytes += text.length;
    }
    this.wake?.();
    return !this.overflowed;
  }

  /**
   * After a replay from the store up to `timestamp`: readings already
   * replayed are not sent again, whichever arrived first.
   */
  replayedThrough(timestamp: number): void {
    this.lastSent = Math.max(this.lastSent, timestamp);
    const kept = this.queue.filter((entry) => entry.timestamp === undefined || entry.timestamp > timestamp);
    this.queuedBytes = kept.reduce((sum, entry) => sum + entry.text.length, 0);
    this.queue = kept;
  }

  /** The queued events as stream pieces, until `signal` aborts; throws SlowClientError once the queue overflowed. */
  async *stream(signal: AbortSignal): AsyncGenerator<string> {
    const stop = (): void => this.wake?.();
    signal.addEventListener('abort', stop);
    try {
      while (!signal.aborted) {
        if (this.overflowed) throw new SlowClientError();
        if (this.queue.length > 0) {
          const pieces = this.queue.map((entry) => entry.text).join('');
          this.queue = [];
          this.queuedBytes = 0;
          yield pieces;
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
}

export class LiveEvents {
  private readonly byMatricula = new Map<string, Set<Subscriber>>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly fleet: (silentAfterS: number) => FleetSummary;
  private readonly fleetTimer: NodeJS.Timeout;
  private readonly heartbeatTimer: NodeJS.Timeout;
  /** Clients dropped for falling behind. */
  dropped = 0;
  /** The newest readings of meters watched lately, for reconnecting clients. */
  readonly windows = new ReplayWindows();

  constructor(fleet: (silentAfterS: number) => FleetSummary) {
    this.fleet = fleet;
    this.fleetTimer = setInterval(() => this.pushFleet(), FLEET_INTERVAL_MS).unref();
    this.heartbeatTimer = setInterval(() => {
      this.broadcast(': ping\n\n');
      this.windows.prune();
    }, HEARTBEAT_MS).unref();
  }

  get clients(): number {
    return this.subscribers.size;
  }

  subscribe(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
    if (subscriber.matricula === undefined) return;
    let set = this.byMatricula.get(subscriber.matricula);
    if (set === undefined) this.byMatricula.set(subscriber.matricula, (set = new Set()));
    set.add(subscriber);
  }

  unsubscribe(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (subscriber.matricula === undefined) return;
    const set = this.byMatricula.get(subscriber.matricula);
    set?.delete(subscriber);
    if (set?.size === 0) this.byMatricula.delete(subscriber.matricula);
  }

  /** Called after a batch is durable (here, or on another server sharing the database): pushes its stored readings to whoever watches their meter. */
  stored(readings: readonly Reading[], outcomes: readonly ReadingOutcome[]): void {
    if (this.windows.size === 0) return;
    for (let i = 0; i < readings.length; i++) {
      // Only what this batch stored (a copy, or a refused reading, is not news).
      if (outcomes[i] !== 'stored') continue;
      const reading = readings[i] as Reading;
      this.windows.stored(reading);
      const watchers = this.byMatricula.get(reading.matricula);
      if (watchers === undefined) continue;
      let text: string | undefined;
      for (const watcher of watchers) {
        if (reading.timestamp <= watcher.lastSent) continue;
        watcher.lastSent = reading.timestamp;
        text ??= readingEvent(reading);
        if (!watcher.push(text, reading.timestamp)) this.drop(watcher);
      }
    }
  }

  /**
   * A change of a meter's command or an event it reported: to whoever
   * watches that meter, and to every stream that gets the fleet (the
   * operator's), once each.
   */
  meterNews(matricula: string, event: 'comando' | 'ocorrencia' | 'alerta', data: JsonValue): void {
    if (this.subscribers.size === 0) return;
    const text = sseEvent(event, data);
    const watchers = this.byMatricula.get(matricula);
    for (const subscriber of this.subscribers) {
      if (subscriber.silentAfterS === undefined && !(watchers?.has(subscriber) ?? false)) continue;
      if (!subscriber.push(text)) this.drop(subscriber);
    }
  }

  close(): void {
    clearInterval(this.fleetTimer);
    clearInterval(this.heartbeatTimer);
  }

  private pushFleet(): void {
    if (this.subscribers.size === 0) return;
    const bySilence = new Map<number, string>();
    for (const subscriber of this.subscribers) {
      if (subscriber.silentAfterS === undefined) continue;
      let text = bySilence.get(subscriber.silentAfterS);
      if (text === undefined) bySilence.set(subscriber.silentAfterS, (text = sseEvent('frota', this.fleet(subscriber.silentAfterS) as unknown as JsonValue)));
      if (!subscriber.push(text)) this.drop(subscriber);
    }
  }

  private broadcast(text: string): void {
    for (const subscriber of this.subscribers) if (!subscriber.push(text)) this.drop(subscriber);
  }

  private drop(subscriber: Subscriber): void {
    this.dropped++;
    this.unsubscribe(subscriber);
  }

  /** Its families in /metricas: clients of /eventos, and those dropped for falling behind. */
  writeMetrics(out: ExpositionWriter): void {
    out.family('consumo_sse_clientes', 'gauge', 'Clients connected to /eventos.').sample('consumo_sse_clientes', this.clients);
    counter(out, 'consumo_sse_clientes_descartados_total', 'Clients of /eventos dropped for falling too far behind.', this.dropped);
  }
}
