/**
 * What the head-end knows of a meter's supply and power from the events it
 * reported: cut or connected (corte_executado, religacao_executada) and
 * with or without power (falta_energia, retorno_energia). Pure; an event
 * older than the one that set the current value changes nothing, so copies
 * and late arrivals cannot turn the state back.
 */
import type { MeterEventType } from '../protocol/meter-commands.js';

export interface MeterCondition {
  readonly supply: 'ligado' | 'cortado';
  /** When the supply state was last reported (ms), null: never. */
  readonly supplyAt: number | null;
  readonly powered: boolean;
  readonly powerAt: number | null;
}

export const SUPPLY_EVENTS: readonly MeterEventType[] = ['corte_executado', 'religacao_executada'];
export const POWER_EVENTS: readonly MeterEventType[] = ['falta_energia', 'retorno_energia'];

export const NORMAL_CONDITION: MeterCondition = Object.freeze({ supply: 'ligado', supplyAt: null, powered: true, powerAt: null });

/** The condition after an event at `timestamp` of `type`. */
export function afterEvent(condition: MeterCondition, type: MeterEventType, timestamp: number): MeterCondition {
  if (SUPPLY_EVENTS.includes(type)) {
    if (condition.supplyAt !== null && timestamp < condition.supplyAt) return condition;
    return { ...condition, supply: type === 'corte_executado' ? 'cortado' : 'ligado', supplyAt: timestamp };
  }
  if (POWER_EVENTS.includes(type)) {
    if (condition.powerAt !== null && timestamp < condition.powerAt) return condition;
    return { ...condition, powered: type === 'retorno_energia', powerAt: timestamp };
  }
  return condition;
}

/** Whether the condition is the one every meter starts in. */
export function isNormal(condition: MeterCondition): boolean {
  return condition.supply === 'ligado' && condition.powered;
}
