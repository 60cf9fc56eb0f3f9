/**
 * Which facts raise which alerts, and which clear them (pure). An alert is
 * keyed per meter so that one condition is one alert however often it is
 * seen: the 1.5x rule while it fires, a goal per cycle, flagged readings
 * until a usable one follows, and the meter events a person must act on.
 */
import type { MeterEventType } from '../protocol/meter-commands.js';

/** The alert entity (its store: database/alert-store.ts). */
export const ALERT_KINDS = ['consumo_elevado', 'meta_em_risco', 'leitura_sinalizada', 'falta_energia', 'violacao_tampa', 'subtensao', 'sobretensao', 'limite_excedido'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_STATES = ['ativo', 'reconhecido', 'encerrado'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
/** `desativada`: no WEBHOOK_URL when it was raised. */
export const DELIVERY_STATES = ['pendente', 'entregue', 'falhou', 'desativada'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface Alert {
  readonly id: string;
  readonly matricula: string;
  readonly kind: AlertKind;
  /** What one open alert per meter stands for: the kind, or the kind and its occasion (`meta_em_risco:2026-11`). */
  readonly key: string;
  readonly state: AlertState;
  /** Why, in words a person reads (Portuguese, as the API). */
  readonly detail: string;
  /** ms since the epoch. */
  readonly raisedAt: number;
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: number | null;
  readonly closedAt: number | null;
  readonly delivery: DeliveryState;
  readonly deliveryAttempts: number;
}

export const isOpen = (alert: Alert): boolean => alert.state !== 'encerrado';

export type AlertDecision =
  | { readonly action: 'raise'; readonly kind: AlertKind; readonly key: string; readonly detail: string }
  | { readonly action: 'close'; readonly key: string };

/** Meter events that are alerts, and the event that clears each (undefined: a person closes it by acknowledging; it closes when raised again... never). */
const EVENT_ALERTS: Partial<Record<MeterEventType, { kind: AlertKind; detail: string }>> = {
  falta_energia: { kind: 'falta_energia', detail: 'O medidor avisou falta de energia (último suspiro).' },
  violacao_tampa: { kind: 'violacao_tampa', detail: 'O medidor avisou violação da tampa.' },
  subtensao: { kind: 'subtensao', detail: 'Tensão abaixo de 90% da nominal.' },
  sobretensao: { kind: 'sobretensao', detail: 'Tensão acima de 110% da nominal.' },
  limite_excedido: { kind: 'limite_excedido', detail: 'O limite de demanda do medidor foi atingido.' },
};

/** Events that clear an alert: power back clears the power failure. */
const CLEARS: Partial<Record<MeterEventType, AlertKind>> = { retorno_energia: 'falta_energia' };

export function decideForEvent(type: MeterEventType, detail: string): AlertDecision | undefined {
  const raises = EVENT_ALERTS[type];
  if (raises !== undefined) return { action: 'raise', kind: raises.kind, key: raises.kind, detail: detail === '' ? raises.detail : `${raises.detail} (${detail})` };
  const clears = CLEARS[type];
  return clears === undefined ? undefined : { action: 'close', key: clears };
}

export const CONSUMPTION_KEY = 'consumo_elevado';
export const FLAGGED_KEY = 'leitura_sinalizada';
/** One goal alert per cycle: the cycle's month is in its key. */
export const goalKey = (cycleMonth: string): string => `meta_em_risco:${cycleMonth}`;
