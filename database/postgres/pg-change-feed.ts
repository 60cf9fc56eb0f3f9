/**
 * The change feed over PostgreSQL's LISTEN/NOTIFY: one channel per schema,
 * written through the store's pool (`pg_notify`, one statement for a whole
 * batch), read on a connection of its own that is reconnected with backoff
 * when lost — and then the listener is told to resync, since NOTIFY keeps
 * nothing for a listener that was away. A payload stays under
 * MAX_PAYLOAD_BYTES (PostgreSQL's limit is 8000): a large batch of readings
 * goes as several notifications.
 *
 * Payload: `v1|<origin>|<sent ms>|<kind>|<body>`, the body being readings as
 * lines of the readings log (file/readings-log.ts), events as a JSON array,
 * or a command's id.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import pg from 'pg';
import type { Change, ChangeFeed, ChangeFeedStats, ChangeListener } from '../change-feed.js';
import type { MeterEvent } from '../event-store.js';
import { formatLogLine, parseLogLine } from '../file/readings-log.js';
import type { StoredReading } from '../store.js';
import { quoteIdentifier } from './migrate.js';

/** Bytes of one notification's payload at most. */
export const MAX_PAYLOAD_BYTES = 7800;
const VERSION = 'v1';
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 5000;
const KIND_CODES = { leituras: 'L', ocorrencias: 'E', comando: 'C' } as const;

export interface PgChangeFeedOptions {
  readonly url: string;
  readonly schema: string;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** Runs one statement on the store's pool. */
  readonly run: (text: string, values: unknown[]) => Promise<unknown>;
}

/** The channel of a schema: its name when it fits an identifier, else a hash of it. */
export function channelOf(schema: string): string {
  const plain = `consumo_${schema}`;
  return Buffer.byteLength(plain) <= 63 ? plain : `consumo_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

/** The payloads a change is told in, each under MAX_PAYLOAD_BYTES. */
export function encodeChange(change: Change, origin: string, sentAt: number): string[] {
  const head = `${VERSION}|${origin}|${sentAt}|${KIND_CODES[change.kind]}|`;
  if (change.kind === 'comando') return [head + change.id];
  const pieces = change.kind === 'leituras' ? change.readings.map((reading) => formatLogLine(reading).slice(0, -1)) : change.events.map((event) => JSON.stringify(event));
  const [open, separator, close] = change.kind === 'leituras' ? ['', '\n', ''] : ['[', ',', ']'];
  const payloads: string[] = [];
  let body: string[] = [];
  let size = Buffer.byteLength(head) + 2;
  for (const piece of pieces) {
    const bytes = Buffer.byteLength(piece) + 1;
    if (body.length > 0 && size + bytes > MAX_PAYLOAD_BYTES) {
      payloads.push(head + open + body.join(separator) + close);
      body = [];
      size = Buffer.byteLength(head) + 2;
    }
    body.push(piece);
    size += bytes;
  }
  if (body.length > 0) payloads.push(head + open + body.join(separator) + close);
  return payloads;
}

const isEvent = (value: unknown): value is MeterEvent => {
  const e = value as Record<string, unknown> | null;
  return e !== null && typeof e === 'object' && typeof e.matricula === 'string' && typeof e.timestamp === 'number' && typeof e.type === 'string' && typeof e.detail === 'string';
};

/** A payload read back; undefined when it is not one of ours. */
export function decodeChange(payload: string): { change: Change; origin: string; sentAt: number } | undefined {
  const parts = payload.split('|');
  if (parts.length < 5 || parts[0] !== VERSION) return undefined;
  const [, origin, sent, kind] = parts as [string, string, string, string];
  const body = parts.slice(4).join('|');
  const sentAt = Number(sent);
  if (!Number.isSafeInteger(sentAt)) return undefined;
  if (kind === KIND_CODES.comando) return { change: { kind: 'comando', id: body }, origin, sentAt };
  if (kind === KIND_CODES.leituras) {
    const readings: StoredReading[] = [];
    for (const line of body.split('\n')) {
      const reading = parseLogLine(line);
      if (reading === undefined) return undefined;
      readings.push(reading);
    }
    return { change: { kind: 'leituras', readings }, origin, sentAt };
  }
  if (kind === KIND_CODES.ocorrencias) {
    let events: unknown;
    try {
      events = JSON.parse(body);
    } catch {
      return undefined;
    }
    if (!Array.isArray(events) || !events.every(isEvent)) return undefined;
    return { change: { kind: 'ocorrencias', events }, origin, sentAt };
  }
  return undefined;
}

export class PgChangeFeed implements ChangeFeed {
  readonly origin = randomUUID();
  private readonly channel: string;
  private client: pg.Client | undefined;
  private listener: ChangeListener | undefined;
  private closed = false;
  private retryMs = RECONNECT_FIRST_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private counts = { published: 0, received: 0, failed: 0, reconnects: 0 };
  private lastLagMs: number | undefined;

  constructor(private readonly options: PgChangeFeedOptions) {
    this.channel = channelOf(options.schema);
  }

  publish(change: Change): void {
    if (this.closed) return;
    const payloads = encodeChange(change, this.origin, Date.now());
    this.options.run('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [this.channel, payloads]).then(
      () => void (this.counts.published += payloads.length),
      (error: unknown) => {
        this.counts.failed += payloads.length;
        this.options.logger.warn({ err: (error as Error).message }, 'could not tell the other servers of a change');
      },
    );
  }

  /** Starts listening; a first connection that fails is retried in the background (and counts as a reconnect when it comes). */
  async listen(listener: ChangeListener): Promise<void> {
    this.listener = listener;
    try {
      await this.connect();
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'could not listen to the change feed yet; retrying');
      this.scheduleReconnect();
    }
  }

  stats(): ChangeFeedStats {
    return { ...this.counts, lastLagMs: this.lastLagMs, listening: this.client !== undefined };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: this.options.connectTimeoutMs, application_name: 'consumo-inteligente-feed' });
    const lost = (error?: Error): void => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (!this.closed) {
        this.options.logger.warn({ err: error?.message }, 'lost the change feed connection; reconnecting');
        this.scheduleReconnect();
      }
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => this.received(message.payload));
    await client.connect();
    await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RECONNECT_FIRST_MS;
  }

  private scheduleReconnect(): void {
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.closed) return;
          this.counts.reconnects++;
          this.options.logger.info('change feed reconnected; reloading what may have been missed');
          this.listener?.resync();
        },
        (error: unknown) => {
          this.options.logger.debug({ err: (error as Error).message }, 'change feed reconnect failed');
          this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
          if (!this.closed) this.scheduleReconnect();
        },
      );
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private received(payload: string | undefined): void {
    if (payload === undefined) return;
    const decoded = decodeChange(payload);
    if (decoded === undefined) {
      this.options.logger.warn({ bytes: payload.length }, 'ignoring a notification that is not a change');
      return;
    }
    if (decoded.origin === this.origin) return;
    this.counts.received++;
    this.lastLagMs = Math.max(0, Date.now() - decoded.sentAt);
    this.listener?.changed(decoded.change, decoded.origin, decoded.sentAt);
  }
}
