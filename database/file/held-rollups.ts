/**
 * The hourly rollups of readings stored since the last flush, per meter slot
 * (hour-rollups.ts), in memory. Between two flushes a meter touches one
 * hour, or two when an hour ends: those live in two lanes of columns indexed
 * by slot (68 bytes a meter, allocated as slots are given, no object per
 * meter), which is what a million meters reporting within the same few
 * seconds cost. A third hour (a late reading), registers past 2^53
 * thousandths of a kWh and hours of more than 65,535 readings go to a map
 * beside; an hour is in one place only.
 */
import { isUsable, VALID, type QualityMask } from '../../domain/readings/quality.js';
import { HOUR_MS, hourOf, mergeRollups, rollupOf, type HourRollup } from '../../domain/readings/rollups.js';

/** Slot -> hour -> rollup: what a flush writes. */
export type SlotHours = Map<number, Map<number, HourRollup>>;

const INITIAL_SLOTS = 1024;
const LANES = 2;
/** A lane without an hour. */
const NONE = -1;
/** The most readings a lane counts (a reading every 55 ms for an hour); past it the hour moves to the map beside. */
const MAX_LANE_COUNT = 0xffff;

export class HeldRollups {
  /** Per lane (slot * LANES + lane): the hour held, in hours since the epoch, or NONE. */
  private hour = new Int32Array(INITIAL_SLOTS * LANES).fill(NONE);
  /** Counts up to MAX_LANE_COUNT; an hour that would pass it moves beside. */
  private readings = new Uint16Array(INITIAL_SLOTS * LANES);
  private flagged = new Uint16Array(INITIAL_SLOTS * LANES);
  private usable = new Uint16Array(INITIAL_SLOTS * LANES);
  /** The oldest and newest usable reading: ms into the hour, and register (thousandths), when `usable` is above 0. */
  private oldestAt = new Uint32Array(INITIAL_SLOTS * LANES);
  private newestAt = new Uint32Array(INITIAL_SLOTS * LANES);
  private oldestRegister = new Float64Array(INITIAL_SLOTS * LANES);
  private newestRegister = new Float64Array(INITIAL_SLOTS * LANES);
  /** Slots with a lane set since the last drain, each once (`listed`). */
  private slots: number[] = [];
  private listed = new Uint8Array(INITIAL_SLOTS);
  /** Lanes with an hour. */
  private lanes = 0;
  private extra: SlotHours = new Map();
  private extraHours = 0;

  /** Hours held. */
  get size(): number {
    return this.lanes + this.extraHours;
  }

  /** A durable reading of the meter in `slot`. */
  add(slot: number, timestamp: number, register: bigint, quality: QualityMask): void {
    this.ensure(slot);
    const value = Number(register);
    let lane = Number.isSafeInteger(value) ? this.laneFor(slot, hourOf(timestamp)) : this.evictHour(slot, hourOf(timestamp));
    if (lane !== NONE && (this.readings[lane] as number) >= MAX_LANE_COUNT) lane = this.evictHour(slot, hourOf(timestamp));
    if (lane === NONE) {
      this.mergeExtra(slot, rollupOf(timestamp, register, quality));
      return;
    }
    this.readings[lane] = (this.readings[lane] as number) + 1;
    if (quality !== VALID) this.flagged[lane] = (this.flagged[lane] as number) + 1;
    if (isUsable(quality)) this.addUsable(lane, timestamp - hourOf(timestamp), value, timestamp - hourOf(timestamp), value, 1);
  }

  /** Adds a rollup of readings not yet held (disjoint from what is). */
  merge(slot: number, rollup: HourRollup): void {
    this.ensure(slot);
    const safe = (point: { register: bigint } | undefined): boolean => point === undefined || Number.isSafeInteger(Number(point.register));
    let lane = safe(rollup.oldest) && safe(rollup.newest) ? this.laneFor(slot, rollup.start) : this.evictHour(slot, rollup.start);
    if (lane !== NONE && (this.readings[lane] as number) + rollup.readings > MAX_LANE_COUNT) lane = this.evictHour(slot, rollup.start);
    if (lane === NONE) {
      this.mergeExtra(slot, rollup);
      return;
    }
    this.readings[lane] = (this.readings[lane] as number) + rollup.readings;
    this.flagged[lane] = (this.flagged[lane] as number) + rollup.flagged;
    if (rollup.oldest !== undefined && rollup.newest !== undefined) {
      this.addUsable(lane, rollup.oldest.timestamp - rollup.start, Number(rollup.oldest.register), rollup.newest.timestamp - rollup.start, Number(rollup.newest.register), rollup.usable);
    }
  }

  /** A copy of the meter's held hours (empty when none). */
  of(slot: number): Map<number, HourRollup> {
    const hours = new Map<number, HourRollup>();
    for (const [hour, rollup] of this.extra.get(slot) ?? []) hours.set(hour, { ...rollup });
    if (slot < this.listed.length) {
      for (let lane = slot * LANES; lane < slot * LANES + LANES; lane++) {
        if (this.hour[lane] === NONE) continue;
        const rollup = this.column(lane);
        hours.set(rollup.start, rollup);
      }
    }
    return hours;
  }

  /** The slots with an hour held, each once. */
  slotsHeld(): readonly number[] {
    const slots = [...this.slots];
    for (const slot of this.extra.keys()) if (this.listed[slot] !== 1) slots.push(slot);
    return slots;
  }

  /** Lets go of everything held. */
  clear(): void {
    for (const slot of this.slots) {
      for (let lane = slot * LANES; lane < slot * LANES + LANES; lane++) this.hour[lane] = NONE;
      this.listed[slot] = 0;
    }
    this.slots = [];
    this.lanes = 0;
    this.extra = new Map();
    this.extraHours = 0;
  }


  /** The lane holding the slot's `hour`, or a free one given to it; NONE when the hour is beside (or must go there). */
  private laneFor(slot: number, hour: number): number {
    const index = hour / HOUR_MS;
    let free = NONE;
    for (let lane = slot * LANES; lane < slot * LANES + LANES; lane++) {
      if (this.hour[lane] === index) return lane;
      if (free === NONE && this.hour[lane] === NONE) free = lane;
    }
    if (free === NONE || (this.extra.size > 0 && this.extra.get(slot)?.has(hour) === true)) return NONE;
    this.hour[free] = index;
    this.readings[free] = 0;
    this.flagged[free] = 0;
    this.usable[free] = 0;
    this.lanes++;
    if (this.listed[slot] === 0) {
      this.listed[slot] = 1;
      this.slots.push(slot);
    }
    return free;
  }

  /** A register past 2^53 for the slot's `hour`: the hour moves beside if a lane holds it. NONE. */
  private evictHour(slot: number, hour: number): number {
    for (let lane = slot * LANES; lane < slot * LANES + LANES; lane++) {
      if (this.hour[lane] !== hour / HOUR_MS) continue;
      const rollup = this.column(lane);
      this.hour[lane] = NONE;
      this.lanes--;
      this.mergeExtra(slot, rollup);
    }
    return NONE;
  }

  private addUsable(lane: number, oldestAt: number, oldestRegister: number, newestAt: number, newestRegister: number, count: number): void {
    if ((this.usable[lane] as number) === 0 || oldestAt < (this.oldestAt[lane] as number)) {
      this.oldestAt[lane] = oldestAt;
      this.oldestRegister[lane] = oldestRegister;
    }
    if ((this.usable[lane] as number) === 0 || newestAt > (this.newestAt[lane] as number)) {
      this.newestAt[lane] = newestAt;
      this.newestRegister[lane] = newestRegister;
    }
    this.usable[lane] = (this.usable[lane] as number) + count;
  }

  private column(lane: number): HourRollup {
    const hour = (this.hour[lane] as number) * HOUR_MS;
    const usable = this.usable[lane] as number;
    return {
      start: hour,
      readings: this.readings[lane] as number,
      flagged: this.flagged[lane] as number,
      usable,
      oldest: usable === 0 ? undefined : { timestamp: hour + (this.oldestAt[lane] as number), register: BigInt(this.oldestRegister[lane] as number) },
      newest: usable === 0 ? undefined : { timestamp: hour + (this.newestAt[lane] as number), register: BigInt(this.newestRegister[lane] as number) },
    };
  }

  private mergeExtra(slot: number, rollup: HourRollup): void {
    const before = this.extra.get(slot)?.size ?? 0;
    addTo(this.extra, slot, { ...rollup });
    this.extraHours += (this.extra.get(slot) as Map<number, HourRollup>).size - before;
  }

  /** Grows the columns (doubling) to hold `slot`. */
  private ensure(slot: number): void {
    if (slot < this.listed.length) return;
    let slots = this.listed.length;
    while (slots <= slot) slots *= 2;
    const grow = <T extends Int32Array | Uint32Array | Uint16Array | Float64Array | Uint8Array>(old: T, made: T): T => {
      made.set(old as never);
      return made;
    };
    this.hour = grow(this.hour, new Int32Array(slots * LANES).fill(NONE));
    this.readings = grow(this.readings, new Uint16Array(slots * LANES));
    this.flagged = grow(this.flagged, new Uint16Array(slots * LANES));
    this.usable = grow(this.usable, new Uint16Array(slots * LANES));
    this.oldestAt = grow(this.oldestAt, new Uint32Array(slots * LANES));
    this.newestAt = grow(this.newestAt, new Uint32Array(slots * LANES));
    this.oldestRegister = grow(this.oldestRegister, new Float64Array(slots * LANES));
    this.newestRegister = grow(this.newestRegister, new Float64Array(slots * LANES));
    this.listed = grow(this.listed, new Uint8Array(slots));
  }
}

/** Adds a rollup to a slot's hours, merged with the hour's. */
export function addTo(into: SlotHours, slot: number, rollup: HourRollup): void {
  let hours = into.get(slot);
  if (hours === undefined) into.set(slot, (hours = new Map()));
  const known = hours.get(rollup.start);
  hours.set(rollup.start, known === undefined ? rollup : mergeRollups(known, rollup));
}
