/**
 * The fleet as this server knows it: when each meter was last heard (its
 * last stored reading's arrival, or after a restart its newest reading's
 * time, from the store), its newest readings (enough for the alert), and
 * stored readings per second. About 300 bytes per meter.
 */
import type { Reading, ReadingOutcome } from '../database/store.js';
import { ALERT_READINGS, alertOf } from '../domain/readings/consumption.js';
import { isUsable, VALID, type QualityMask } from '../domain/readings/quality.js';
import { usable } from '../database/usable-readings.js';
import type { FleetMeter } from '../domain/fleet-table.js';
import { afterEvent, isNormal, NORMAL_CONDITION, type MeterCondition } from '../domain/meter-condition.js';
import type { MeterEvent } from '../database/event-store.js';

/** The simulated meters' default send interval, in seconds. */
export const DEFAULT_SEND_INTERVAL_S = 15;
/** Send intervals without a reading after which a meter counts as silent. */
export const DEFAULT_SILENT_INTERVALS = 3;
/** Seconds without a reading after which a meter counts as silent: `intervalos` send intervals of `intervalo_s`. */
export function silentAfter(fields: { intervalo_s?: number | undefined; intervalos?: number | undefined }): number {
  return (fields.intervalo_s ?? DEFAULT_SEND_INTERVAL_S) * (fields.intervalos ?? DEFAULT_SILENT_INTERVALS);
}

/** Seconds of history behind the readings-per-second figure. */
export const RATE_WINDOW_S = 10;
/** Silent meters listed by name in a summary (the count covers them all). */
export const SILENT_LISTED = 50;

export interface FleetSummary {
  readonly medidores_vistos: number;
  /** Silent: nothing heard for longer than the threshold, and not known to be without power. */
  readonly medidores_silenciosos: number;
  /** Meters whose supply was cut (they said so: corte_executado). */
  readonly medidores_cortados: number;
  /** Meters that sent a last gasp (falta_energia) and not yet retorno_energia. */
  readonly medidores_sem_energia: number;
  readonly leituras_por_segundo: number;
  /** The silent meters heard from longest ago, first. */
  readonly silenciosos: ReadonlyArray<{ readonly matricula: string; readonly silencio_s: number }>;
  readonly silencio_apos_s: number;
}

interface MeterState {
  readonly matricula: string;
  heardAt: number;
  /** The server that stored its newest reading (a change feed origin); undefined: this one, or not known since a restart. */
  heardBy: string | undefined;
  recent: Reading[];
  alert: boolean | null;
  /** Whether the alert centre was told the alert fires (and not yet that it ended). */
  raised?: boolean;
  /** Decisions in a row, since it was raised, where the rule did not fire. */
  clearing?: number;
}

/**
 * Decisions in a row (each over newer readings) the 1.5x rule must not fire
 * before its alert ends. A reading asked for on demand ("Ler agora") a
 * second after the last makes a period too short to fire, then the next
 * regular reading fires again: with one decision that closed the alert
 * and opened another seconds later. Two keep one episode one alert (an
 * off-delay, as alarm management calls it).
 */
const CLEAR_AFTER_DECISIONS = 2;

export class FleetTracker {
  private readonly lastHeard = new Map<string, MeterState>();
  /** The meters whose supply or power is not normal, from their events (every other meter is normal). */
  readonly conditions = new Map<string, MeterCondition>();
  /** Readings stored in each of the last RATE_WINDOW_S whole seconds, by second modulo the window. */
  private readonly perSecond = new Array<number>(RATE_WINDOW_S).fill(0);
  private readonly secondOf = new Array<number>(RATE_WINDOW_S).fill(-1);
  private readonly nowSeconds: () => number;

  constructor(nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {
    this.nowSeconds = nowSeconds;
  }

  /**
   * Notes the readings a store call stored (those whose outcome is
   * `stored`): here, or on another server (`from`: its feed origin).
   * A meter was last heard when its newest stored reading was taken (never
   * later than now): what every server sharing the store reads alike,
   * whichever of them took the reading, and whenever it learnt of it.
   * Unusable ones (`qualities`) count as heard but drive no alert.
   */
  heard(readings: readonly Reading[], outcomes: readonly ReadingOutcome[], qualities: readonly QualityMask[], from?: { readonly origin: string }): void {
    const current = this.nowSeconds();
    const by = from?.origin;
    let stored = 0;
    for (let i = 0; i < readings.length; i++) {
      if (outcomes[i] !== 'stored') continue;
      stored++;
      const reading = readings[i] as Reading;
      const now = Math.min(current, Math.floor(reading.timestamp / 1000));
      const state = this.lastHeard.get(reading.matricula);
      const counts = isUsable(qualities[i] ?? VALID);
      if (state === undefined) this.lastHeard.set(reading.matricula, { matricula: reading.matricula, heardAt: now, heardBy: by, recent: counts ? [reading] : [], alert: null });
      else {
        if (now >= state.heardAt) {
          state.heardAt = now;
          state.heardBy = by;
        }
        if (!counts) continue;
        // The alert is decided when the fleet table asks, not here: ingest stays free of BigInt arithmetic.
        if (insertNewestFirst(state.recent, reading)) this.stale.add(state);
      }
    }
    this.count(current, stored);
  }

  /**
   * Meters as the store knows them (each meter's newest readings, newest
   * first): last heard when their newest reading was taken. At start-up,
   * and again when changes may have been missed (`refresh`): a meter then
   * takes the store's newest readings, and a later time heard, from it.
   */
  seed(meters: readonly (readonly Reading[])[], refresh = false): void {
    const now = this.nowSeconds();
    for (const recent of meters) {
      const newest = recent[0];
      if (newest === undefined) continue;
      const known = this.lastHeard.get(newest.matricula);
      if (known !== undefined && !refresh) continue;
      const kept = recent.filter(usable).slice(0, ALERT_READINGS);
      const heardAt = Math.min(now, Math.floor(newest.timestamp / 1000));
      if (known === undefined) {
        this.lastHeard.set(newest.matricula, { matricula: newest.matricula, heardAt, heardBy: undefined, recent: kept, alert: alertOf(kept), raised: alertOf(kept) === true });
        continue;
      }
      if (heardAt > known.heardAt) {
        known.heardAt = heardAt;
        known.heardBy = undefined;
      }
      known.recent = kept;
      this.stale.add(known);
    }
    this.cached = undefined;
  }

  /** The feed origin of the server that stored the meter's newest reading; undefined: this server, or not known. */
  heardBy(matricula: string): string | undefined {
    return this.lastHeard.get(matricula)?.heardBy;
  }

  /** Applies meters' events to their supply and power state (in any order: older events change nothing). */
  noted(events: readonly Pick<MeterEvent, 'matricula' | 'type' | 'timestamp'>[]): void {
    for (const event of events) {
      const before = this.conditions.get(event.matricula) ?? NORMAL_CONDITION;
      const after = afterEvent(before, event.type, event.timestamp);
      if (after === before) continue;
      // Remembered while not normal, and also after, so an older event arriving late cannot flip it back.
      this.conditions.set(event.matricula, after);
    }
  }

  /** When `matricula` was last heard (whole seconds), undefined: never. */
  heardAt(matricula: string): number | undefined {
    return this.lastHeard.get(matricula)?.heardAt;
  }

  conditionOf(matricula: string): MeterCondition {
    return this.conditions.get(matricula) ?? NORMAL_CONDITION;
  }

  /** Every meter known, in no order: live read-only views (the fleet table reads them synchronously). */
  meters(): FleetMeter[] {
    this.decideAlerts();
    return [...this.lastHeard.values()];
  }

  /** Meters whose 1.5x alert started (true) or ended (false) since the last call: what the alert centre raises and closes. */
  takeAlertChanges(): Array<{ readonly matricula: string; readonly alert: boolean }> {
    this.decideAlerts();
    const changes = [...this.alertChanges].map(([matricula, alert]) => ({ matricula, alert }));
    this.alertChanges.clear();
    return changes;
  }

  /** Decides the alert of every meter whose newest readings changed, noting those whose alert starts or ends (see CLEAR_AFTER_DECISIONS). */
  private decideAlerts(): void {
    for (const state of this.stale) {
      state.alert = alertOf(state.recent);
      const raised = state.raised ?? false;
      if (state.alert === true) {
        state.clearing = 0;
        if (!raised) {
          state.raised = true;
          this.alertChanges.set(state.matricula, true);
        }
      } else if (raised) {
        state.clearing = (state.clearing ?? 0) + 1;
        if (state.clearing >= CLEAR_AFTER_DECISIONS) {
          state.raised = false;
          state.clearing = 0;
          this.alertChanges.set(state.matricula, false);
        }
      }
    }
    this.stale.clear();
  }

  /** matricula -> whether its alert fires now, for the meters whose alert flipped since takeAlertChanges last ran. */
  private readonly alertChanges = new Map<string, boolean>();

  /** Meters whose newest readings changed since their alert was last decided. */
  private readonly stale = new Set<MeterState>();

  now(): number {
    return this.nowSeconds();
  }

  private count(now: number, readings: number): void {
    const slot = now % RATE_WINDOW_S;
    if (this.secondOf[slot] !== now) {
      this.secondOf[slot] = now;
      this.perSecond[slot] = 0;
    }
    this.perSecond[slot] = (this.perSecond[slot] as number) + readings;
  }

  /**
   * The fleet now; a meter is silent when nothing of it was stored for more
   * than `silentAfterS` seconds. The walk over every meter is made at most
   * once a second, whatever thresholds clients ask for: each answer is then
   * a binary search and a filter of the longest-silent list.
   */
  summary(silentAfterS: number): FleetSummary {
    const now = this.nowSeconds();
    const view = this.view(now);
    // Meters heard at or before `now - silentAfterS - 1` are silent: those in the buckets before the first later one.
    const cutoff = now - silentAfterS;
    let low = 0;
    let high = view.seconds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((view.seconds[mid] as number) < cutoff) low = mid + 1;
      else high = mid;
    }
    const silentCount = low === 0 ? 0 : (view.cumulative[low - 1] as number);
    let cut = 0;
    let withoutPower = 0;
    let silentWithoutPower = 0;
    for (const [matricula, condition] of this.conditions) {
      if (isNormal(condition)) continue;
      if (condition.supply === 'cortado') cut++;
      if (condition.powered) continue;
      withoutPower++;
      const heardAt = this.lastHeard.get(matricula)?.heardAt;
      if (heardAt !== undefined && now - heardAt > silentAfterS) silentWithoutPower++;
    }
    const listed = view.longestSilent.filter((entry) => now - entry.heardAt > silentAfterS && this.conditionOf(entry.matricula).powered).map((entry) => ({ matricula: entry.matricula, silencio_s: now - entry.heardAt }));
    return { medidores_vistos: this.lastHeard.size, medidores_silenciosos: silentCount - silentWithoutPower, medidores_cortados: cut, medidores_sem_energia: withoutPower, leituras_por_segundo: view.rate, silenciosos: listed, silencio_apos_s: silentAfterS };
  }

  private cached: FleetView | undefined;

  /** The fleet's silences as of `now`, rebuilt at most once a second. */
  private view(now: number): FleetView {
    if (this.cached?.now === now) return this.cached;
    const counts = new Map<number, number>();
    const longest: Array<{ matricula: string; heardAt: number }> = [];
    for (const [matricula, { heardAt }] of this.lastHeard) {
      counts.set(heardAt, (counts.get(heardAt) ?? 0) + 1);
      // The map is in first-heard order, not silence order: keep the longest silences seen so far.
      if (longest.length < SILENT_LISTED) longest.push({ matricula, heardAt });
      else if (heardAt < (longest[longest.length - 1] as { heardAt: number }).heardAt) longest[longest.length - 1] = { matricula, heardAt };
      else continue;
      longest.sort((a, b) => a.heardAt - b.heardAt);
    }
    const seconds = [...counts.keys()].sort((a, b) => a - b);
    const cumulative: number[] = [];
    let running = 0;
    for (const second of seconds) cumulative.push((running += counts.get(second) as number));
    // Whole seconds before this one, so a second still filling does not drag the rate down.
    let total = 0;
    for (let i = 0; i < RATE_WINDOW_S; i++) {
      const second = this.secondOf[i] as number;
      if (second < now && second >= now - RATE_WINDOW_S) total += this.perSecond[i] as number;
    }
    this.cached = { now, seconds, cumulative, longestSilent: longest, rate: total / RATE_WINDOW_S };
    this.builds++;
    return this.cached;
  }

  /** How many times the walk over every meter was made (tests: at most once a second). */
  builds = 0;
}

interface FleetView {
  readonly now: number;
  /** Distinct last-heard seconds, ascending, and how many meters were last heard at or before each. */
  readonly seconds: readonly number[];
  readonly cumulative: readonly number[];
  /** The meters heard from longest ago, oldest first, at most SILENT_LISTED. */
  readonly longestSilent: ReadonlyArray<{ readonly matricula: string; readonly heardAt: number }>;
  readonly rate: number;
}

/**
 * Puts a reading among a meter's newest (newest first), keeping
 * ALERT_READINGS; a late reading lands in its place. Whether it was kept.
 */
function insertNewestFirst(recent: Reading[], reading: Reading): boolean {
  let at = 0;
  while (at < recent.length && (recent[at] as Reading).timestamp > reading.timestamp) at++;
  if (at >= ALERT_READINGS) return false;
  recent.splice(at, 0, reading);
  if (recent.length > ALERT_READINGS) recent.length = ALERT_READINGS;
  return true;
}
