/**
 * One simulated meter, without I/O: a cumulative register that grows on
 * each tick, readings taken from it, and the bounded buffer of readings not
 * yet acknowledged, sent oldest first until an ACK covers them.
 */
import { REGISTER_SCALE, powerOfTen } from '../protocol/decimal.js';
import { verifyMac } from '../protocol/meter-auth.js';
import { MeterSigner } from './meter-signer.js';
import { MAX_DATAGRAM_BYTES, packLines, serializeReading, type Reading, type ServerLine } from '../protocol/meter-protocol.js';
import { serializeEvent, type EventAck, type EventLine, type MeterEventType } from '../protocol/meter-commands.js';
import type { Quantities } from '../protocol/quantities.js';

/** Events kept while unacknowledged; past it the oldest is dropped. */
export const MAX_PENDING_EVENTS = 100;

/** The original meters add a random whole number of units from 0 to this each tick. */
export const MAX_INCREMENT_UNITS = 20;
const UNIT = powerOfTen(REGISTER_SCALE);
/** The shortest reading line plus its separator (`MEDICAO;1;<24-char timestamp>;0` and LF). */
const MIN_LINE_BYTES = 37;

export interface Peak {
  /** Consumption multiplier, in thousandths (2.5x is 2500n). */
  readonly factorThousandths: bigint;
  /** Milliseconds after start when the peak begins. */
  readonly afterMs: number;
}

export interface MeterSettings {
  readonly matricula: string;
  /** Starting register, in thousandths. */
  readonly initialRegister: bigint;
  readonly seed: number;
  /** Smallest increment in whole units (default 0): each is uniform from this to MAX_INCREMENT_UNITS. */
  readonly minIncrementUnits?: number | undefined;
  readonly peak?: Peak | undefined;
  /** Most readings kept while unacknowledged; past it the oldest is dropped. */
  readonly maxPending: number;
  /** The meter's key: when given, every reading line carries its HMAC, and events an invocation counter too. */
  readonly key?: Buffer | undefined;
  /** The newest invocation counter the meter used before (its saved state); 0 when none. */
  readonly counter?: bigint | undefined;
  /** Nominal voltage in V (127 or 220): when given, every reading carries electrical quantities measured around it. */
  readonly nominalVoltage?: number | undefined;
}

/** A voltage further than this from nominal (a tenth, as PRODIST Módulo 8 bounds adequate supply) raises subtensao or sobretensao. */
export const VOLTAGE_EVENT_FRACTION = 0.1;
/** Noise of the simulated voltage around nominal (+/- 2%) and frequency around 60 Hz (+/- 0.05 Hz). */
const VOLTAGE_NOISE = 0.02;
const FREQUENCY_NOISE_HZ = 0.05;
const NOMINAL_FREQUENCY_HZ = 60;
/**
 * The hours of a home's use one tick of the simulation stands for, when
 * power is derived from the register: time runs fast (a tick every second
 * or less), and what a tick adds is a third of a day's consumption.
 */
const HOURS_PER_TICK = 8;
/** Simulated power factor: uniform in 0.85-0.99. */
const POWER_FACTOR_MIN = 0.85;
const POWER_FACTOR_SPAN = 0.14;

export interface MeterCounters {
  /** Readings taken from the register. */
  produced: number;
  /** Readings put in datagrams (resends count again). */
  sent: number;
  /** Readings an ACK covered. */
  acknowledged: number;
  /** Readings dropped unacknowledged because the buffer was full. */
  dropped: number;
  /** Readings the server refused (REJEITADA): logged and not resent. */
  rejected: number;
  /** Server lines ignored: unsigned or wrongly signed for a keyed meter, or an ACK beyond the newest reading sent. */
  ignored: number;
}

/** mulberry32: a small, fast, seedable PRNG; enough for simulated consumption. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives a meter's own seed from a fleet seed, so every meter differs but a run repeats. */
export function meterSeed(fleetSeed: number, matricula: string): number {
  let hash = fleetSeed >>> 0;
  for (let i = 0; i < matricula.length; i++) hash = Math.imul(hash ^ matricula.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export class SimulatedMeter {
  readonly matricula: string;
  readonly counters: MeterCounters = { produced: 0, sent: 0, acknowledged: 0, dropped: 0, rejected: 0, ignored: 0 };
  private readonly key: Buffer | undefined;
  /** Signs readings, events and (shared with MeterControl) answers: one invocation counter per meter. */
  readonly signer: MeterSigner;
  private registerValue: bigint;
  private readonly random: () => number;
  private readonly peak: Peak | undefined;
  private readonly minIncrementUnits: number;
  private readonly maxPending: number;
  private readonly serialize: (reading: Reading) => string;
  /** Events not yet acknowledged, oldest first. */
  private readonly pendingEventList: EventLine[] = [];
  /** Unacknowledged readings, oldest first. */
  private readonly pendingReadings: Reading[] = [];
  private lastTimestamp = Number.NEGATIVE_INFINITY;
  /** Newest timestamp put in a datagram so far. */
  private lastSentTimestamp = Number.NEGATIVE_INFINITY;
  private readonly nominalVoltage: number | undefined;
  /** A separate stream, so that measuring quantities leaves the register's sequence as it was. */
  private readonly noise: () => number;
  /** Increments (thousandths) and ticks since the last reading: the mean power it reports. */
  private incrementSinceReading = 0n;
  private ticksSinceReading = 0;
  /** Whether the last measured voltage was outside nominal +/- 10% (an event is raised on the way out, once). */
  private voltageOutOfRange = false;
  /** A simulated voltage disturbance, as a fraction of nominal (-0.2 is a 20% sag); 0 when none. */
  voltageDeviation = 0;

  constructor(settings: MeterSettings) {
    this.matricula = settings.matricula;
    this.registerValue = settings.initialRegister;
    this.random = seededRandom(settings.seed);
    this.peak = settings.peak;
    this.minIncrementUnits = settings.minIncrementUnits ?? 0;
    this.maxPending = settings.maxPending;
    const key = settings.key;
    this.key = key;
    this.signer = new MeterSigner(key, settings.counter ?? 0n);
    this.serialize = key === undefined ? serializeReading : (reading) => this.signer.reading(serializeReading(reading));
    this.nominalVoltage = settings.nominalVoltage;
    this.noise = seededRandom(settings.seed ^ 0x9e3779b9);
  }

  get register(): bigint {
    return this.registerValue;
  }

  get pending(): number {
    return this.pendingReadings.length;
  }

  /** The unacknowledged readings, oldest first (for tests and diagnostics). */
  pendingReadingsForTest(): readonly Reading[] {
    return this.pendingReadings;
  }

  /**
   * One increment: a whole number of units from the minimum to 20, times
   * the peak factor once `elapsedMs` reaches it, and at most `cap`
   * thousandths when a demand limit is set. Whether the cap bit.
   */
  tick(elapsedMs: number, cap: bigint | null = null): boolean {
    const units = BigInt(this.minIncrementUnits + Math.floor(this.random() * (MAX_INCREMENT_UNITS - this.minIncrementUnits + 1)));
    const peak = this.peak;
    const increment = peak !== undefined && elapsedMs >= peak.afterMs ? units * peak.factorThousandths : units * UNIT;
    const capped = cap !== null && increment > cap;
    const added = capped ? cap : increment;
    this.registerValue += added;
    this.incrementSinceReading += added;
    this.ticksSinceReading++;
    return capped;
  }

  /** Sets the register (a restart restores it from the meter's saved state). */
  restoreRegister(register: bigint): void {
    this.registerValue = register;
  }

  get pendingEvents(): readonly EventLine[] {
    return this.pendingEventList;
  }

  /** Records an event to report until the server acknowledges it. */
  raise(type: MeterEventType, timestamp: number, detail = ''): void {
    // Two events of one type at one instant are one fact for the server: keep them a millisecond apart.
    let at = timestamp;
    while (this.pendingEventList.some((e) => e.type === type && e.timestamp === at)) at++;
    this.pendingEventList.push({ matricula: this.matricula, timestamp: at, type, detail });
    if (this.pendingEventList.length > MAX_PENDING_EVENTS) this.pendingEventList.shift();
  }

  /** The datagram of unacknowledged events (signed when keyed), oldest first; undefined when none. */
  eventDatagram(): string | undefined {
    if (this.pendingEventList.length === 0) return undefined;
    // Each sending signs again with a new counter: the server refuses a line it took before as a replay.
    const lines = this.pendingEventList.map((event) => this.signer.counted(serializeEvent(event)));
    return packLines(lines)[0];
  }

  /** Forgets an acknowledged event (already checked to be authentic). Whether it was pending. */
  acknowledgeEvent(ack: EventAck): boolean {
    const at = this.pendingEventList.findIndex((e) => e.type === ack.type && e.timestamp === ack.timestamp);
    if (at === -1) return false;
    this.pendingEventList.splice(at, 1);
    return true;
  }

  /** Whether a line of the server's carries this meter's key (always true for an unkeyed meter). */
  authentic(signature: { readonly content: string; readonly mac: string } | undefined): boolean {
    const key = this.key;
    return key === undefined || (signature !== undefined && verifyMac(signature.content, signature.mac, key));
  }

  /**
   * Takes a reading of the register at `now` into the buffer, at least
   * `spacingMs` after the previous one. Returns how many old readings were
   * dropped to make room.
   */
  takeReading(now: number, spacingMs = 1): number {
    const timestamp = now >= this.lastTimestamp + spacingMs ? now : this.lastTimestamp + spacingMs;
    this.lastTimestamp = timestamp;
    const quantities = this.measure(timestamp);
    this.pendingReadings.push(quantities === undefined ? { matricula: this.matricula, timestamp, consumo: this.registerValue } : { matricula: this.matricula, timestamp, consumo: this.registerValue, quantities });
    this.counters.produced++;
    let dropped = 0;
    while (this.pendingReadings.length > this.maxPending) {
      this.pendingReadings.shift();
      dropped++;
    }
    this.counters.dropped += dropped;
    return dropped;
  }

  /**
   * The quantities at a reading, when the meter measures them: mean power
   * since the last reading (a tick stands for HOURS_PER_TICK hours of a
   * home, so the 1 to 20 kWh a tick adds are 0.1 to 2.5 kW, and the demo's
   * 4x spike about 9 kW), voltage around nominal (with any disturbance),
   * power factor 0.85 to 0.99, current from them (a few A to some tens),
   * 60 Hz. Leaving nominal +/- 10% raises
   * `subtensao` or `sobretensao`, once per excursion.
   */
  private measure(timestamp: number): Quantities | undefined {
    const nominal = this.nominalVoltage;
    if (nominal === undefined) return undefined;
    const powerKw = this.ticksSinceReading === 0 ? 0 : Number(this.incrementSinceReading / BigInt(this.ticksSinceReading)) / 1000 / HOURS_PER_TICK;
    this.incrementSinceReading = 0n;
    this.ticksSinceReading = 0;
    const voltage = nominal * (1 + this.voltageDeviation + (this.noise() * 2 - 1) * VOLTAGE_NOISE);
    const powerFactor = POWER_FACTOR_MIN + this.noise() * POWER_FACTOR_SPAN;
    const frequency = NOMINAL_FREQUENCY_HZ + (this.noise() * 2 - 1) * FREQUENCY_NOISE_HZ;
    const outside = Math.abs(voltage - nominal) > nominal * VOLTAGE_EVENT_FRACTION;
    if (outside && !this.voltageOutOfRange) {
      this.raise(voltage < nominal ? 'subtensao' : 'sobretensao', timestamp, `tensão ${voltage.toFixed(1).replace('.', ',')} V, nominal ${nominal} V`);
    }
    this.voltageOutOfRange = outside;
    const thousandths = (value: number): number => Math.round(value * 1000);
    return {
      voltage: thousandths(voltage),
      current: thousandths((powerKw * 1000) / (voltage * powerFactor)),
      activePower: thousandths(powerKw),
      powerFactor: thousandths(powerFactor),
      frequency: thousandths(frequency),
    };
  }

  /**
   * The one datagram to send now: the oldest unacknowledged readings that
   * fit. Never more than one per send, and always starting from the oldest:
   * the ACK is cumulative, so if a later datagram could arrive while an
   * earlier one is lost, the server would store the newer readings, its ACK
   * would cover the lost older ones, and they would be gone for good.
   */
  nextDatagram(): string | undefined {
    if (this.pendingReadings.length === 0) return undefined;
    // Serialize only what can fit: a reading line plus its separator is at least this long.
    const fits = Math.ceil(MAX_DATAGRAM_BYTES / MIN_LINE_BYTES);
    const [datagram] = packLines(this.pendingReadings.slice(0, fits).map(this.serialize));
    const carried = (datagram as string).split('\n').length;
    this.counters.sent += carried;
    const newestCarried = (this.pendingReadings[carried - 1] as Reading).timestamp;
    if (newestCarried > this.lastSentTimestamp) this.lastSentTimestamp = newestCarried;
    return datagram;
  }

  /**
   * Whether a line from the server may be acted on: a keyed meter takes
   * only lines signed with its key (then nobody else can make it forget a
   * reading); an ACK never covers more than the newest reading sent.
   */
  trusts(line: ServerLine): boolean {
    const trusted = this.authentic(line.signature) && (line.kind !== 'ack' || line.timestamp <= this.lastSentTimestamp);
    if (!trusted) this.counters.ignored++;
    return trusted;
  }

  /**
   * Applies a cumulative ACK: forgets every reading up to `timestamp`.
   * Returns true when it covered everything sent so far and more is pending
   * (the moment to send the next datagram of a backlog without waiting).
   */
  acknowledge(timestamp: number): boolean {
    if (timestamp > this.lastSentTimestamp) return false;
    let covered = 0;
    while (covered < this.pendingReadings.length && (this.pendingReadings[covered] as Reading).timestamp <= timestamp) covered++;
    if (covered > 0) {
      this.pendingReadings.splice(0, covered);
      this.counters.acknowledged += covered;
    }
    return covered > 0 && timestamp >= this.lastSentTimestamp && this.pendingReadings.length > 0;
  }

  /** Applies a refusal: the reading is dropped and counted, never resent. Returns whether it was pending. */
  reject(timestamp: number): boolean {
    const at = this.pendingReadings.findIndex((reading) => reading.timestamp === timestamp);
    if (at === -1) return false;
    this.pendingReadings.splice(at, 1);
    this.counters.rejected++;
    return true;
  }
}
