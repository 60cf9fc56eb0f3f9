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
import { assessReading, DEFAULT_QUALITY_RULES, type QualityMask, type QualityRules, type QualityWindow } from './quality.js';

/** A meter's newest readings a store keeps at hand to recognise copies and late readings; a power of two (MeterWindow's ring doubles its capacity up to it). */
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
 *
 * Held in one array used as a ring (timestamp, register, flags for each
 * reading) whose capacity doubles up to the window's size: a server keeps one per meter (a
 * million by default), and three arrays grown by Node's rule (half again
 * plus 16 slots) cost about a kilobyte for a meter that sent one reading
 * (bench/RESULTS.md section 17). A store may add a reading `pending`
 * (queued, not yet durable) and settle it once written; its quality is the
 * same either way.
 */
export class MeterWindow implements QualityWindow {
  /**
   * A ring: reading i (0 the oldest) in slot (head + i) mod capacity, slot k
   * at [STRIDE * k]: timestamp, register (thousandths, registerNumber),
   * quality mask with PENDING_BIT. The capacity is a power of two.
   */
  private data: number[] = [];
  private capacity = 0;
  private head = 0;
  /** Readings held. */
  length = 0;
  complete = true;

  private slot(i: number): number {
    return STRIDE * ((this.head + i) & (this.capacity - 1));
  }

  timestampAt(i: number): number {
    return this.data[this.slot(i)] as number;
  }

  registerAt(i: number): number {
    return this.data[this.slot(i) + 1] as number;
  }

  maskAt(i: number): QualityMask {
    return (this.data[this.slot(i) + 2] as number) & ~PENDING_BIT;
  }

  /** Whether reading `i` (0 the oldest) is queued and not yet durable. */
  isPending(i: number): boolean {
    return ((this.data[this.slot(i) + 2] as number) & PENDING_BIT) !== 0;
  }

  get newest(): number {
    return this.length === 0 ? Number.NEGATIVE_INFINITY : this.timestampAt(this.length - 1);
  }

  /** The index of the first timestamp >= `timestamp`. */
  private position(timestamp: number): number {
    const length = this.length;
    // Readings mostly arrive newest: check the end before searching.
    if (length === 0 || timestamp > this.timestampAt(length - 1)) return length;
    let low = 0;
    let high = length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.timestampAt(mid) < timestamp) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The verdict on `reading` given what this window holds; `'new'` when it may be stored. */
  judge(reading: Reading, rules: AdmissionRules): 'new' | 'duplicate' | 'conflito' | 'intervalo' | 'atrasada' {
    const { timestamp } = reading;
    const at = this.position(timestamp);
    if (at < this.length && this.timestampAt(at) === timestamp) return this.registerAt(at) === registerNumber(reading.consumo) ? 'duplicate' : 'conflito';
    if (at === 0 && !this.complete) return 'atrasada';
    if (at > 0 && timestamp - this.timestampAt(at - 1) < rules.minIntervalMs) return 'intervalo';
    if (at < this.length && this.timestampAt(at) - timestamp < rules.minIntervalMs) return 'intervalo';
    return 'new';
  }

  /** The quality of a reading judged `'new'`, against the readings older than it here. */
  assess(reading: Reading, rules: QualityRules): QualityMask {
    return assessReading(this, this.position(reading.timestamp), reading.timestamp, registerNumber(reading.consumo), rules);
  }

  /** Records an admitted reading (judged `'new'`) with its quality, forgetting the oldest past the window's size; `pending` until settled. */
  add(timestamp: number, register: number, mask: QualityMask, pending = false): void {
    let at = this.position(timestamp);
    if (this.length === LATE_WINDOW_READINGS) {
      // Full: the oldest goes; a reading older than all kept is itself the one past the size.
      this.complete = false;
      if (at === 0) return;
      this.head = (this.head + 1) & (this.capacity - 1);
      this.length--;
      at--;
    } else if (this.length === this.capacity) this.grow();
    if (at < this.length - at) {
      // Fewer readings before `at` than after it (a window filled newest first): those move down one slot, the ring's head back.
      this.head = (this.head - 1) & (this.capacity - 1);
      for (let i = 0; i < at; i++) this.copySlot(i + 1, i);
    } else {
      // Readings after `at` move up one slot (none in the usual case: the new reading is the newest).
      for (let i = this.length; i > at; i--) this.copySlot(i - 1, i);
    }
    this.length++;
    this.put(at, timestamp, register, pending ? mask | PENDING_BIT : mask);
  }

  /** Marks the reading at `timestamp` durable; false when it is no longer here. */
  settle(timestamp: number): boolean {
    const at = this.position(timestamp);
    if (at === this.length || this.timestampAt(at) !== timestamp) return false;
    this.data[this.slot(at) + 2] = this.maskAt(at);
    return true;
  }

  /** Forgets an admitted reading whose write failed. */
  remove(timestamp: number): void {
    const at = this.position(timestamp);
    if (at === this.length || this.timestampAt(at) !== timestamp) return;
    for (let i = at; i < this.length - 1; i++) this.copySlot(i + 1, i);
    this.length--;
  }

  private put(i: number, timestamp: number, register: number, flags: number): void {
    const data = this.data;
    const at = this.slot(i);
    data[at] = timestamp;
    data[at + 1] = register;
    data[at + 2] = flags;
  }

  private copySlot(from: number, to: number): void {
    const data = this.data;
    const source = this.slot(from);
    const target = this.slot(to);
    data[target] = data[source] as number;
    data[target + 1] = data[source + 1] as number;
    data[target + 2] = data[source + 2] as number;
  }

  /** Doubles the capacity: a new array of exactly that many slots (nothing allocated beyond it), readings from slot 0. */
  private grow(): void {
    const capacity = Math.min(LATE_WINDOW_READINGS, Math.max(1, 2 * this.capacity));
    const data = new Array<number>(STRIDE * capacity).fill(0);
    for (let i = 0; i < this.length; i++) {
      const source = this.slot(i);
      data[STRIDE * i] = this.data[source] as number;
      data[STRIDE * i + 1] = this.data[source + 1] as number;
      data[STRIDE * i + 2] = this.data[source + 2] as number;
    }
    this.data = data;
    this.capacity = capacity;
    this.head = 0;
  }
}

/** Slots per reading in MeterWindow's array. */
const STRIDE = 3;
/** Marks a reading queued in a window and not yet durable; outside the quality bits (domain/readings/quality.ts). */
const PENDING_BIT = 0x80;
