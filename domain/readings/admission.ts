/**
 * Which readings a store admits (pure: values in, a verdict out). Shared by
 * every backend so they decide alike; the store supplies what it knows of
 * the meter (its window of newest readings), the ingest the clock.
 *
 * A meter's readings normally arrive oldest first. One older than its
 * meter's newest is *late* (a forger's future reading came first, or two
 * senders share a matricula): it is stored when the store can still tell
 * it apart from what it holds, i.e. when it is not older than the meter's
 * LATE_WINDOW_READINGS newest readings; older ones are refused as
 * `atrasada`, never dropped silently.
 */
import type { Reading } from '../../protocol/meter-protocol.js';
import { assessReading, DEFAULT_QUALITY_RULES, type QualityMask, type QualityRules } from './quality.js';

/** A meter's newest readings a store keeps at hand to recognise copies and late readings. */
export const LATE_WINDOW_READINGS = 32;

/** Why a reading was refused: the `motivo` of a REJEITADA line (protocol/README.md). */
export const REFUSAL_REASONS = ['futura', 'antiga', 'intervalo', 'atrasada', 'conflito', 'nao_cadastrado'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * What became of one reading handed to a store:
 * - `stored`: newly stored;
 * - `duplicate`: the same reading (matricula, timestamp and register) is already stored;
 * - `capacity`: not stored, for now, because the store holds its limit of meters; not answered, so the meter resends;
 * - a refusal reason: refused by a rule; the meter is told, and should not resend it.
 */
export type ReadingOutcome = 'stored' | 'duplicate' | 'capacity' | RefusalReason;

export interface AdmissionRules {
  /** A meter's readings closer together than this (ms) are refused as `intervalo`; 0 allows any. */
  readonly minIntervalMs: number;
  /** Refuse readings of matriculas no customer has (`nao_cadastrado`). */
  readonly refuseUnregistered: boolean;
  /** How an admitted reading's quality is judged (domain/readings/quality.ts). */
  readonly quality: QualityRules;
}

/** How many readings of a call went which way: the counts of an AppendResult. */
export function tallyOutcomes(outcomes: readonly ReadingOutcome[]): { stored: number; duplicates: number; refused: number; rejected: number } {
  const counts = { stored: 0, duplicates: 0, refused: 0, rejected: 0 };
  for (const outcome of outcomes) {
    if (outcome === 'stored') counts.stored++;
    else if (outcome === 'duplicate') counts.duplicates++;
    else if (outcome === 'capacity') counts.refused++;
    else counts.rejected++;
  }
  return counts;
}

export const OPEN_ADMISSION: AdmissionRules = { minIntervalMs: 0, refuseUnregistered: false, quality: DEFAULT_QUALITY_RULES };

/** The earliest timestamp any meter may report (older ones defeat the log's time index and fill disks). */
export const EARLIEST_READING = Date.UTC(2000, 0, 1);

export interface TimestampRules {
  /** A reading further ahead of the server's clock than this is refused as `futura`. */
  readonly maxAheadMs: number;
  /** A reading older than this, or before 2000-01-01, is refused as `antiga`. */
  readonly maxAgeMs: number;
}

/** The stateless check of a reading's timestamp against the clock. */
export function timestampRefusal(timestamp: number, now: number, rules: TimestampRules): 'futura' | 'antiga' | undefined {
  if (timestamp > now + rules.maxAheadMs) return 'futura';
  if (timestamp < EARLIEST_READING || timestamp < now - rules.maxAgeMs) return 'antiga';
  return undefined;
}

/**
 * A register as a Number of thousandths: exact for every register the
 * protocol allows (15 significant digits, below 2^53), which is all a
 * store admits; enough to tell a copy from another reading at the same
 * instant and to judge quality.
 */
export function registerNumber(consumo: bigint): number {
  return Number(consumo);
}

/**
 * A meter's newest admitted readings, ascending, at most
 * LATE_WINDOW_READINGS: every admitted reading at or after the first one
 * here is here. `complete` when nothing older was ever admitted.
 */
export class MeterWindow {
  readonly timestamps: number[] = [];
  readonly registers: number[] = [];
  /** Each reading's quality (domain/readings/quality.ts). */
  readonly masks: QualityMask[] = [];
  complete = true;

  get newest(): number {
    return this.timestamps[this.timestamps.length - 1] ?? Number.NEGATIVE_INFINITY;
  }

  /** The index of the first timestamp >= `timestamp`. */
  private position(timestamp: number): number {
    const times = this.timestamps;
    // Readings mostly arrive newest: check the end before searching.
    if (times.length === 0 || timestamp > (times[times.length - 1] as number)) return times.length;
    let low = 0;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((times[mid] as number) < timestamp) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The verdict on `reading` given what this window holds; `'new'` when it may be stored. */
  judge(reading: Reading, rules: AdmissionRules): 'new' | 'duplicate' | 'conflito' | 'intervalo' | 'atrasada' {
    const at = this.position(reading.timestamp);
    const times = this.timestamps;
    if (times[at] === reading.timestamp) return this.registers[at] === registerNumber(reading.consumo) ? 'duplicate' : 'conflito';
    if (at === 0 && !this.complete) return 'atrasada';
    const before = times[at - 1];
    const after = times[at];
    if (before !== undefined && reading.timestamp - before < rules.minIntervalMs) return 'intervalo';
    if (after !== undefined && after - reading.timestamp < rules.minIntervalMs) return 'intervalo';
    return 'new';
  }

  /** The quality of a reading judged `'new'`, against the readings older than it here. */
  assess(reading: Reading, rules: QualityRules): QualityMask {
    return assessReading(this, this.position(reading.timestamp), reading.timestamp, registerNumber(reading.consumo), rules);
  }

  /** Records an admitted reading (judged `'new'`) with its quality, forgetting the oldest past the window's size. */
  add(timestamp: number, register: number, mask: QualityMask): void {
    const at = this.position(timestamp);
    this.timestamps.splice(at, 0, timestamp);
    this.registers.splice(at, 0, register);
    this.masks.splice(at, 0, mask);
    if (this.timestamps.length > LATE_WINDOW_READINGS) {
      this.timestamps.shift();
      this.registers.shift();
      this.masks.shift();
      this.complete = false;
    }
  }

  /** Forgets an admitted reading whose write failed. */
  remove(timestamp: number): void {
    const at = this.position(timestamp);
    if (this.timestamps[at] !== timestamp) return;
    this.timestamps.splice(at, 1);
    this.registers.splice(at, 1);
    this.masks.splice(at, 1);
  }
}
