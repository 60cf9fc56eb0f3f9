/**
 * Webhook deliveries: every new alert and every meter event is POSTed as
 * JSON to WEBHOOK_URL, signed (`X-Consumo-Assinatura: sha256=<hex HMAC of
 * the body under WEBHOOK_SEGREDO>`), retried with exponential backoff, a
 * few at a time, from a bounded queue: enqueueing never waits, so ingest is
 * never held up by a slow or dead receiver. Each delivery's final state goes
 * to the callback its sender gave (alerts and events record it, so pending
 * ones are resent after a restart); counters show the rest in /metricas.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ThrottledWarning } from './log-throttle.js';
import type { DeliveryKind, Notifier, Settled } from '../app/alert-center.js';
import type { ExpositionWriter } from './metrics.js';

/** Attempts before a delivery is given up (1 s, 2 s, 4 s... apart, at most MAX_BACKOFF_MS). */
export const WEBHOOK_MAX_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** A receiver gets this long to answer before the attempt counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 5000;
/** Deliveries in flight at once. */
const CONCURRENCY = 4;
/** Deliveries waiting past which new ones are dropped (counted): memory stays bounded when the receiver is down. */
export const WEBHOOK_MAX_QUEUED = 10_000;
export const SIGNATURE_HEADER = 'X-Consumo-Assinatura';

interface Delivery {
  readonly id: string;
  readonly kind: DeliveryKind;
  readonly body: string;
  /** Told the outcome when it is delivered or given up. */
  readonly onSettled: Settled | undefined;
  attempts: number;
  notBefore: number;
}


export interface WebhookCounters {
  delivered: number;
  failedAttempts: number;
  givenUp: number;
  dropped: number;
}

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  readonly logger: Logger;
  /** Test hooks: the clock and the first backoff. */
  readonly now?: () => number;
  readonly firstBackoffMs?: number;
  /** Deliveries queued past which new ones spill (stay pending in the store); WEBHOOK_MAX_QUEUED. */
  readonly maxQueued?: number;
}

/** The signature header's value for a body. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookSender implements Notifier {
  readonly counters: WebhookCounters = { delivered: 0, failedAttempts: 0, givenUp: 0, dropped: 0 };
  private readonly queue: Delivery[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly firstBackoffMs: number;
  private readonly maxQueued: number;
  private readonly failureLog: ThrottledWarning;

  constructor(private readonly options: WebhookOptions) {
    this.now = options.now ?? Date.now;
    this.firstBackoffMs = options.firstBackoffMs ?? FIRST_BACKOFF_MS;
    this.maxQueued = options.maxQueued ?? WEBHOOK_MAX_QUEUED;
    this.failureLog = new ThrottledWarning(options.logger, 'webhook delivery failed; retrying with backoff');
  }

  /** Deliveries waiting or in flight. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Whether the queue is at most half full: pending deliveries read back from the store may go in. */
  hasRoom(): boolean {
    return !this.closed && this.queue.length <= this.maxQueued / 2;
  }

  /** Queues a payload (returns at once); false when the queue is full and it was dropped (`onSettled` is then never called: what it records stays pending). */
  send(kind: DeliveryKind, payload: unknown, onSettled?: Settled): boolean {
    if (this.closed) return false;
    if (this.queue.length >= this.maxQueued) {
      this.counters.dropped++;
      return false;
    }
    this.queue.push({ id: randomUUID(), kind, body: JSON.stringify({ tipo: kind, dados: payload }), onSettled, attempts: 0, notBefore: 0 });
    this.pump();
    return true;
  }

  /** Stops sending; what is waiting is not delivered (alerts and events stay `pendente` and are resent at the next start). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.now();
    let wait = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.queue.length && this.inFlight < CONCURRENCY; ) {
      const delivery = this.queue[i] as Delivery;
      if (delivery.notBefore > now) {
        wait = Math.min(wait, delivery.notBefore - now);
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.inFlight++;
      void this.attempt(delivery).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = Number.isFinite(wait) ? setTimeout(() => this.pump(), wait) : undefined;
    this.timer?.unref();
  }

  private async attempt(delivery: Delivery): Promise<void> {
    delivery.attempts++;
    let problem: string;
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signBody(delivery.body, this.options.secret), 'X-Consumo-Entrega': delivery.id, 'X-Consumo-Tipo': delivery.kind },
        body: delivery.body,
        // A 3xx is a failed delivery: the signed body never follows a redirect to somewhere else.
        redirect: 'manual',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        this.counters.delivered++;
        delivery.onSettled?.('entregue', delivery.attempts);
        return;
      }
      problem = `HTTP ${response.status}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    this.counters.failedAttempts++;
    if (delivery.attempts >= WEBHOOK_MAX_ATTEMPTS) {
      this.counters.givenUp++;
      this.options.logger.warn({ entrega: delivery.id, tipo: delivery.kind, tentativas: delivery.attempts, problema: problem }, 'webhook delivery given up');
      delivery.onSettled?.('falhou', delivery.attempts);
      return;
    }
    this.failureLog.warn({ entrega: delivery.id, tentativas: delivery.attempts, problema: problem });
    delivery.notBefore = this.now() + Math.min(this.firstBackoffMs * 2 ** (delivery.attempts - 1), MAX_BACKOFF_MS);
    if (!this.closed) this.queue.push(delivery);
  }

  /** Its families in /metricas: deliveries by outcome, and those pending. */
  writeMetrics(out: ExpositionWriter): void {
    const w = this.counters;
    out.family('consumo_webhook_entregas_total', 'counter', 'Webhook deliveries, by outcome: entregue, tentativa_falhou (retried), desistida (after the last attempt), descartada (queue full).');
    for (const [resultado, count] of [['entregue', w.delivered], ['tentativa_falhou', w.failedAttempts], ['desistida', w.givenUp], ['descartada', w.dropped]] as const) out.sample('consumo_webhook_entregas_total', count, { resultado });
    out.family('consumo_webhook_pendentes', 'gauge', 'Webhook deliveries waiting or in flight.').sample('consumo_webhook_pendentes', this.pending);
  }
}
