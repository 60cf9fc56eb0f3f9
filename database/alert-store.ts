/**
 * Alerts: the alert aggregate. An alert is raised for a meter under a key
 * (its kind, plus what makes it distinct, such as the cycle of a goal
 * alert); while one is open (`ativo` or `reconhecido`) no other is raised
 * under the same meter and key. Its life: ativo -> reconhecido (someone
 * acknowledged it) -> encerrado (its condition cleared), or ativo ->
 * encerrado. Its webhook delivery state is kept with it. The specification
 * both backends pass (test/database/alert-contract.ts).
 */

import type { Alert, AlertKind, AlertState, DeliveryState } from '../domain/alerts.js';

export { ALERT_KINDS, ALERT_STATES, DELIVERY_STATES, isOpen, type Alert, type AlertKind, type AlertState, type DeliveryState } from '../domain/alerts.js';

export interface AlertQuery {
  readonly matricula?: string | undefined;
  readonly state?: AlertState | undefined;
  readonly kind?: AlertKind | undefined;
}

export type AcknowledgeOutcome = Alert | 'nao_encontrado' | 'encerrado';

export interface AlertStore {
  /** Stores `alert` (state ativo) unless one of its meter and key is open; resolves the new alert once durable, or undefined (nothing written). */
  raise(alert: Alert): Promise<Alert | undefined>;
  /** ativo -> reconhecido by `by` at `at`; an already acknowledged alert is answered as it is. Durable when it resolves. */
  acknowledge(id: string, by: string, at: number): Promise<AcknowledgeOutcome>;
  /** Closes the open alert of a meter and key, if any; resolves it closed (durable), or undefined. */
  close(matricula: string, key: string, at: number): Promise<Alert | undefined>;
  /** Records a webhook delivery's state. Durable when it resolves; unknown ids are ignored. */
  setDelivery(id: string, delivery: DeliveryState, attempts: number): Promise<void>;
  get(id: string): Promise<Alert | undefined>;
  /** Matching alerts, newest raised first, from `offset`, at most `limit`. */
  list(query: AlertQuery, offset: number, limit: number): Promise<Alert[]>;
  /** Alerts whose delivery is `pendente` (to resume after a restart), oldest first. */
  pendingDeliveries(): Promise<Alert[]>;
  /**
   * Stores an alert exactly as another store held it (state, dates,
   * delivery): migration between backends. False, writing nothing, when its
   * id is taken or it is open and its meter and key already have an open
   * alert. Durable when it resolves.
   */
  restore(alert: Alert): Promise<boolean>;
}
