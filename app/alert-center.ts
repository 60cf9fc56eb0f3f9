/**
 * The alert centre: turns what the server learns (stored readings and their
 * quality, the fleet's 1.5x alert flips, meter events, goal forecasts) into
 * alerts in the AlertStore, by the rules of domain/alerts.ts, and
 * sends every new alert and every meter event to the webhook and to
 * /eventos. Nothing here is awaited by ingest: store calls run in the
 * background, a failure is logged and counted.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alert, AlertKind, AlertStore } from '../database/alert-store.js';
import type { EventStore, MeterEvent } from '../database/event-store.js';
import type { ProfileStore } from '../database/profile-store.js';
import { isUsable, qualityFlags, VALID } from '../domain/readings/quality.js';
import type { AppendResult, Reading } from '../database/store.js';
import { formatIsoTimestamp } from '../protocol/timestamp.js';
import { formatDecimal, formatRegister } from '../protocol/decimal.js';
import { CONSUMPTION_KEY, decideForEvent, FLAGGED_KEY, goalKey } from '../domain/alerts.js';
import { cycleMonth } from '../domain/billing/cycle.js';
import type { FleetTracker } from './fleet.js';
import type { Forecasting } from './forecast/forecasting.js';
import { DomainError } from '../domain/errors.js';

/** How often the fleet's 1.5x alert flips are turned into alerts. */
export const ALERT_CHECK_INTERVAL_MS = 2000;
/**
 * How often deliveries that found the webhook's queue full are read back
 * from the store, once the queue has room again: the queue spills to the
 * store (alerts and events stay `pendente` there), so no delivery is dropped
 * because others filled the queue.
 */
export const WEBHOOK_REFILL_MS = 5000;

/** What a delivery kind is called on the wire: an alert or a meter event. */
export type DeliveryKind = 'alerta' | 'ocorrencia';
/** Told the outcome of one delivery when it is delivered or given up. */
export type Settled = (outcome: 'entregue' | 'falhou', attempts: number) => void;

/** Where alerts and events are sent to be told to someone (the webhook, server/webhook.ts). */
export interface Notifier {
  /** Whether a delivery sent now would be queued. */
  hasRoom(): boolean;
  /** Queues a delivery; false when the queue is full (it stays pending in the store). */
  send(kind: DeliveryKind, payload: unknown, onSettled?: Settled): boolean;
}

export interface AlertCenterOptions {
  readonly alerts: AlertStore;
  readonly events: EventStore;
  /** An event as the webhook sends it. */
  readonly eventPayload: (event: MeterEvent) => unknown;
  readonly fleet: FleetTracker;
  readonly logger: Logger;
  readonly webhook?: Notifier | undefined;
  /** Where new alerts are published live (`event: alerta` on /eventos). */
  readonly publish: (alert: Alert) => void;
  readonly now?: () => number;
  /** WEBHOOK_REFILL_MS unless given (tests). */
  readonly refillMs?: number;
}

export function alertJson(alert: Alert) {
  return {
    id: alert.id,
    matricula: alert.matricula,
    tipo: alert.kind,
    chave: alert.key,
    estado: alert.state,
    detalhe: alert.detail,
    criado_em: formatIsoTimestamp(alert.raisedAt),
    reconhecido_por: alert.acknowledgedBy,
    reconhecido_em: alert.acknowledgedAt === null ? null : formatIsoTimestamp(alert.acknowledgedAt),
    encerrado_em: alert.closedAt === null ? null : formatIsoTimestamp(alert.closedAt),
    entrega: { estado: alert.delivery, tentativas: alert.deliveryAttempts },
  };
}

export class AlertCenter {
  /** Alerts raised since start, by kind (for /metricas). */
  readonly raised = new Map<AlertKind, number>();
  failures = 0;
  /** Meters with an open flagged-reading alert: only they need a close when a usable reading comes. */
  private readonly flaggedOpen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private refillTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Deliveries in the webhook's queue or in flight, by alert id or event identity: never queued twice. */
  private readonly queued = new Set<string>();
  /** Whether a delivery found the queue full since the last refill. */
  private spilled = false;

  constructor(private readonly options: AlertCenterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads what start-up needs (open flagged-reading alerts), resends undelivered alerts, and starts checking the fleet's flips. */
  async start(): Promise<void> {
    for (const alert of await this.options.alerts.list({ kind: 'leitura_sinalizada', state: 'ativo' }, 0, Number.MAX_SAFE_INTEGER)) this.flaggedOpen.add(alert.matricula);
    for (const alert of await this.options.alerts.list({ kind: 'leitura_sinalizada', state: 'reconhecido' }, 0, Number.MAX_SAFE_INTEGER)) this.flaggedOpen.add(alert.matricula);
    if (this.options.webhook !== undefined) {
      await this.refill();
      this.refillTimer = setInterval(() => {
        if (this.spilled && (this.options.webhook?.hasRoom() ?? false)) this.refill().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not read pending webhook deliveries back'));
      }, this.options.refillMs ?? WEBHOOK_REFILL_MS);
      this.refillTimer.unref();
    }
    this.timer = setInterval(() => this.checkFleet(), ALERT_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.refillTimer !== undefined) clearInterval(this.refillTimer);
  }

  /** Queues the deliveries still pending in the store (at start, and after the queue spilled), oldest first, while the queue has room. */
  private async refill(): Promise<void> {
    this.spilled = false;
    for (const alert of await this.options.alerts.pendingDeliveries()) if (!this.deliverAlert(alert)) return;
    for (const event of await this.options.events.pendingDeliveries()) if (!this.deliverEvent(event)) return;
  }

  /** Raises an alert unless one of the meter and key is open; resolves it when new. */
  async raise(matricula: string, kind: AlertKind, key: string, detail: string): Promise<Alert | undefined> {
    const alert: Alert = {
      id: randomUUID(),
      matricula,
      kind,
      key,
      state: 'ativo',
      detail,
      raisedAt: this.now(),
      acknowledgedBy: null,
      acknowledgedAt: null,
      closedAt: null,
      delivery: this.options.webhook === undefined ? 'desativada' : 'pendente',
      deliveryAttempts: 0,
    };
    const raised = await this.options.alerts.raise(alert);
    if (raised === undefined) return undefined;
    this.raised.set(kind, (this.raised.get(kind) ?? 0) + 1);
    if (kind === 'leitura_sinalizada') this.flaggedOpen.add(matricula);
    this.deliverAlert(raised);
    this.options.publish(raised);
    return raised;
  }

  async close(matricula: string, key: string): Promise<Alert | undefined> {
    if (key === FLAGGED_KEY) this.flaggedOpen.delete(matricula);
    const closed = await this.options.alerts.close(matricula, key, this.now());
    if (closed !== undefined) this.options.publish(closed);
    return closed;
  }

  /** Readings a store call stored: flagged ones raise an alert, a usable one clears it. */
  stored(readings: readonly Reading[], result: AppendResult): void {
    const flagged = new Map<string, Reading & { flags: string }>();
    const cleared = new Set<string>();
    for (let i = 0; i < readings.length; i++) {
      if (result.outcomes[i] !== 'stored') continue;
      const reading = readings[i] as Reading;
      const quality = result.qualities[i] ?? VALID;
      if (!isUsable(quality)) flagged.set(reading.matricula, { ...reading, flags: qualityFlags(quality).join(', ') });
      else if (this.flaggedOpen.has(reading.matricula)) cleared.add(reading.matricula);
    }
    for (const matricula of cleared) if (!flagged.has(matricula)) this.background(this.close(matricula, FLAGGED_KEY));
    for (const [matricula, reading] of flagged) {
      const detail = `Medição de ${formatIsoTimestamp(reading.timestamp)} (registro ${formatRegister(reading.consumo)}) sinalizada pela validação: ${reading.flags}. Fica fora do alerta e do faturamento.`;
      this.background(this.raise(matricula, 'leitura_sinalizada', FLAGGED_KEY, detail));
    }
  }

  /** Meter events stored: each goes to the webhook; those a person must act on raise an alert, power back clears the failure. */
  events(stored: readonly MeterEvent[]): void {
    for (const event of stored) {
      this.deliverEvent(event);
      const decision = decideForEvent(event.type, event.detail);
      if (decision === undefined) continue;
      if (decision.action === 'raise') this.background(this.raise(event.matricula, decision.kind, decision.key, decision.detail));
      else this.background(this.close(event.matricula, decision.key));
    }
  }

  /** The fleet's 1.5x alert flips since the last check: raised when it starts firing, closed when it stops. */
  checkFleet(): void {
    for (const change of this.options.fleet.takeAlertChanges()) {
      if (change.alert) this.background(this.raise(change.matricula, 'consumo_elevado', CONSUMPTION_KEY, 'O último período consumiu 1,5 vez ou mais a média dos três anteriores.'));
      else this.background(this.close(change.matricula, CONSUMPTION_KEY));
    }
  }

  /** One pass over the customers with a goal: the cycle's forecast over it raises (once per cycle) `meta_em_risco`; back under, it closes. */
  async checkGoals(profiles: ProfileStore, forecasting: Forecasting): Promise<void> {
    for (const profile of await profiles.profiles()) {
      if (profile.goal === undefined) continue;
      try {
        const made = await forecasting.forecast(profile.matricula);
        const key = goalKey(cycleMonth(made.bill.cycle));
        if (made.goal?.over === true) {
          const goal = profile.goal.kind === 'kwh' ? `${formatRegister(profile.goal.kwh)} kWh` : `R$ ${formatDecimal(profile.goal.cents, 2)}`;
          const value = made.total === null ? '' : `, R$ ${formatDecimal(made.total, 2)}`;
          await this.raise(profile.matricula, 'meta_em_risco', key, `A caminho de uma fatura acima da meta: previsão de ${formatRegister(made.forecast.consumption)} kWh${value}; meta ${goal}.`);
        } else await this.close(profile.matricula, key);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
    }
  }

  /** To the webhook, if any; the outcome is recorded with the alert. False when the queue is full (it stays pending in the store). */
  private deliverAlert(alert: Alert): boolean {
    return this.deliver(`alerta:${alert.id}`, 'alerta', alertJson(alert), (outcome, attempts) => this.options.alerts.setDelivery(alert.id, outcome, attempts));
  }

  /** To the webhook, if any; the outcome is recorded with the event. False when the queue is full (it stays pending in the store). */
  private deliverEvent(event: MeterEvent): boolean {
    return this.deliver(`ocorrencia:${event.matricula}|${event.timestamp}|${event.type}`, 'ocorrencia', this.options.eventPayload(event), (outcome, attempts) => this.options.events.setDelivery(event, outcome, attempts));
  }

  private deliver(key: string, kind: 'alerta' | 'ocorrencia', payload: unknown, record: (outcome: 'entregue' | 'falhou', attempts: number) => Promise<unknown>): boolean {
    const webhook = this.options.webhook;
    if (webhook === undefined || this.queued.has(key)) return true;
    const queued = webhook.send(kind, payload, (outcome, attempts) => {
      // Still "queued" until the outcome is stored: a refill meanwhile would read it as pending and send it twice.
      this.background(record(outcome, attempts).finally(() => this.queued.delete(key)));
    });
    if (queued) this.queued.add(key);
    else this.spilled = true;
    return queued;
  }

  private background(work: Promise<unknown>): void {
    work.catch((error: unknown) => {
      this.failures++;
      this.options.logger.error({ err: error }, 'an alert could not be stored');
    });
  }
}
