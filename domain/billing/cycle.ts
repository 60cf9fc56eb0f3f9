/**
 * Billing cycles: from the customer's reading day to the next one, at 00:00
 * of the legacy time zone; the register at each boundary (the newest reading
 * at or before it, or, when that is more than an hour old, interpolated
 * between the readings around it and flagged `estimada`); and a cycle's
 * consumption per Tarifa Branca posto, from its readings.
 */
import { divideRoundHalfUp } from '../../protocol/decimal.js';
import { DAY_MS, wallClockInstant, zoneOffset } from '../../protocol/timestamp.js';
import type { Reading } from '../readings/reading.js';
import { DomainError } from '../errors.js';
import { allocateToPostos, POSTOS, zeroPostos, type Posto, type PostoAmounts, type PostoHours } from './postos.js';
import { isWorkingDay } from './calendar.js';

/** A boundary register older than this is estimated from the readings around the boundary. */
export const ESTIMATE_AFTER_MS = 3_600_000;
export const MIN_READING_DAY = 1;
/** Reading days stop at 28, so every month has one. */
export const MAX_READING_DAY = 28;

export interface Cycle {
  /** Local dates: the first day, and the day after the last (the next reading day). */
  readonly startDay: string;
  readonly endDay: string;
  /** The boundaries as instants: 00:00 of those days in the time zone. */
  readonly start: number;
  readonly end: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

function cycleBetween(startYear: number, startMonth: number, readingDay: number, timeZone: string): Cycle {
  const endMonthIndex = startMonth; // months are 1-based: the next month's index in Date.UTC
  const startWall = Date.UTC(startYear, startMonth - 1, readingDay);
  const endWall = Date.UTC(startYear, endMonthIndex, readingDay);
  const endDate = new Date(endWall);
  return {
    startDay: `${startYear}-${pad(startMonth)}-${pad(readingDay)}`,
    endDay: `${endDate.getUTCFullYear()}-${pad(endDate.getUTCMonth() + 1)}-${pad(readingDay)}`,
    start: wallClockInstant(startWall, timeZone),
    end: wallClockInstant(endWall, timeZone),
  };
}

/** The cycle that ends in `month` (`YYYY-MM`): from the reading day of the month before to the reading day of this one. */
export function cycleEndingIn(month: string, readingDay: number, timeZone: string): Cycle {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const previous = new Date(Date.UTC(year, monthNumber - 2, 1));
  return cycleBetween(previous.getUTCFullYear(), previous.getUTCMonth() + 1, readingDay, timeZone);
}

/** The cycle an instant falls in. */
export function cycleContaining(instant: number, readingDay: number, timeZone: string): Cycle {
  const local = new Date(instant + zoneOffset(instant, timeZone));
  let year = local.getUTCFullYear();
  let month = local.getUTCMonth() + 1;
  if (local.getUTCDate() < readingDay) {
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
  const cycle = cycleBetween(year, month, readingDay, timeZone);
  // 00:00 of the reading day is the boundary itself, whatever the clock's oddities there.
  return instant < cycle.start ? cycleEndingIn(`${year}-${pad(month)}`, readingDay, timeZone) : cycle;
}

/** `2026-01` -> `2025-12`. */
export function previousMonth(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m - 2, 1)).toISOString().slice(0, 7);
}

/** The month (`YYYY-MM`) a cycle is named after: the one it ends in. */
export const cycleMonth = (cycle: Cycle): string => cycle.endDay.slice(0, 7);

/**
 * How a boundary register was found: read, interpolated, the meter's first
 * reading, (`media_ciclos`) estimated as ANEEL bills a cycle without a
 * reading: the previous boundary plus the mean of the last 12 cycles, or
 * (`custo_disponibilidade`) a cycle without a reading and without a past
 * cycle to average: nothing measured, billed at the custo de disponibilidade
 * (REN 1.000/2021 art. 288 § 1º).
 */
export type RegisterFlag = 'medida' | 'estimada' | 'primeira_leitura' | 'media_ciclos' | 'custo_disponibilidade';

/**
 * The end of a cycle with no reading after it and no past cycle to average:
 * the start register again (no consumption measured), so the invoice bills
 * the custo de disponibilidade. The next cycle starts from the register at
 * its own start, so what was consumed meanwhile is never charged later (art.
 * 288 § 2º: "vedada futura compensação").
 */
export function availabilityOnly(start: BoundaryRegister, end: number): BoundaryRegister {
  return { timestamp: end, register: start.register, flag: 'custo_disponibilidade', readings: [] };
}

/** Cycles averaged when a cycle has no reading (REN 1000/2021: the mean of the last 12 billed cycles). */
export const AVERAGE_CYCLES = 12;

/**
 * The end register of a cycle that has no reading after its end: its start
 * plus the mean (rounded half-up to the thousandth) of the consumption of
 * the AVERAGE_CYCLES cycles before it that are known (`previous`, newest
 * first; null where unknown). Undefined when none is known.
 */
export function averageEstimate(start: BoundaryRegister, end: number, previous: readonly (bigint | null)[]): BoundaryRegister | undefined {
  const known = previous.slice(0, AVERAGE_CYCLES).filter((consumption): consumption is bigint => consumption !== null);
  if (known.length === 0) return undefined;
  const mean = divideRoundHalfUp(known.reduce((sum, consumption) => sum + consumption, 0n), BigInt(known.length));
  return { timestamp: end, register: start.register + mean, flag: 'media_ciclos', readings: [] };
}

/**
 * A Tarifa Branca cycle without a reading after its end: each posto at the
 * mean (rounded half-up to the thousandth) of what it consumed in the
 * AVERAGE_CYCLES cycles before that are known (`previous`, newest first;
 * null where unknown), the end register at the start plus their sum.
 * Undefined when none is known.
 */
export function averagePostoEstimate(start: BoundaryRegister, end: number, previous: readonly (PostoAmounts | null)[]): { readonly end: BoundaryRegister; readonly byPosto: PostoAmounts } | undefined {
  const known = previous.slice(0, AVERAGE_CYCLES).filter((amounts): amounts is PostoAmounts => amounts !== null);
  if (known.length === 0) return undefined;
  const byPosto = zeroPostos();
  for (const posto of POSTOS) byPosto[posto] = divideRoundHalfUp(known.reduce((sum, amounts) => sum + amounts[posto], 0n), BigInt(known.length));
  const total = byPosto.ponta + byPosto.intermediario + byPosto.fora_ponta;
  return { end: { timestamp: end, register: start.register + total, flag: 'media_ciclos', readings: [] }, byPosto };
}

export interface BoundaryRegister {
  readonly timestamp: number;
  /** Thousandths of a kWh. */
  readonly register: bigint;
  readonly flag: RegisterFlag;
  /** The readings it comes from. */
  readonly readings: readonly Reading[];
}

/**
 * The register at a boundary, from the newest reading at or before it and
 * the first after it. Undefined when nothing was read after a boundary
 * whose newest reading is too old (the cycle is still open) or nothing at
 * all was read around it. A meter first read after the boundary starts from
 * its first reading (`primeira_leitura`): what it consumed before is unknown.
 */
export function registerAt(boundary: number, before: Reading | undefined, after: Reading | undefined): BoundaryRegister | undefined {
  if (before !== undefined && boundary - before.timestamp <= ESTIMATE_AFTER_MS) return { timestamp: boundary, register: before.consumo, flag: 'medida', readings: [before] };
  if (before !== undefined && after !== undefined) {
    const register = before.consumo + divideRoundHalfUp((after.consumo - before.consumo) * BigInt(boundary - before.timestamp), BigInt(after.timestamp - before.timestamp));
    return { timestamp: boundary, register, flag: 'estimada', readings: [before, after] };
  }
  if (before === undefined && after !== undefined) return { timestamp: boundary, register: after.consumo, flag: 'primeira_leitura', readings: [after] };
  return undefined;
}

/** Where each posto's span of a day begins and ends, cached per day: most intervals between readings lie in one span. */
class PostoClock {
  private readonly days = new Map<number, { edges: number[]; postos: Posto[] }>();
  constructor(
    private readonly timeZone: string,
    private readonly hours: PostoHours,
  ) {}

  /** The posto at `instant` and when its span ends. */
  segment(instant: number): { posto: Posto; end: number } {
    const wallDay = Math.floor((instant + zoneOffset(instant, this.timeZone)) / DAY_MS) * DAY_MS;
    let day = this.days.get(wallDay);
    if (day === undefined) {
      day = this.dayOf(wallDay);
      if (this.days.size > 1000) this.days.clear();
      this.days.set(wallDay, day);
    }
    let i = 0;
    while (i < day.postos.length - 1 && (day.edges[i + 1] as number) <= instant) i++;
    return { posto: day.postos[i] as Posto, end: day.edges[i + 1] as number };
  }

  private dayOf(wallDay: number): { edges: number[]; postos: Posto[] } {
    const start = wallClockInstant(wallDay, this.timeZone);
    const end = wallClockInstant(wallDay + DAY_MS, this.timeZone);
    if (!isWorkingDay(wallDay)) return { edges: [start, end], postos: ['fora_ponta'] };
    const spans: Array<{ from: number; to: number; posto: Posto }> = [];
    for (const posto of ['ponta', 'intermediario'] as const) {
      for (const [a, b] of this.hours[posto]) spans.push({ from: wallClockInstant(wallDay + a * 60_000, this.timeZone), to: wallClockInstant(wallDay + b * 60_000, this.timeZone), posto });
    }
    spans.sort((x, y) => x.from - y.from);
    const edges = [start];
    const postos: Posto[] = [];
    let at = start;
    for (const span of spans) {
      if (span.to <= span.from) continue;
      if (span.from > at) {
        postos.push('fora_ponta');
        edges.push(span.from);
      }
      postos.push(span.posto);
      edges.push(span.to);
      at = span.to;
    }
    if (at < end) {
      postos.push('fora_ponta');
      edges.push(end);
    }
    return { edges, postos };
  }
}

export interface RegisterPoint {
  readonly timestamp: number;
  readonly register: bigint;
}

/**
 * Sums the consumption of intervals between readings per posto, each
 * interval allocated in proportion to its time in each (see
 * allocateToPostos); intervals may come in any order, so a history read
 * newest first is summed as it streams.
 */
export class PostoAccumulator {
  readonly total: PostoAmounts = zeroPostos();
  private readonly clock: PostoClock;

  constructor(
    private readonly timeZone: string,
    private readonly hours: PostoHours,
  ) {
    this.clock = new PostoClock(timeZone, hours);
  }

  /** The interval from `a` to `b` (a before b). */
  add(a: RegisterPoint, b: RegisterPoint): void {
    const consumed = b.register - a.register;
    if (consumed < 0n) throw new DomainError('leituras_inconsistentes', `O registro diminuiu entre ${new Date(a.timestamp).toISOString()} e ${new Date(b.timestamp).toISOString()}.`);
    if (consumed === 0n || b.timestamp <= a.timestamp) return;
    const segment = this.clock.segment(a.timestamp);
    if (b.timestamp <= segment.end) {
      this.total[segment.posto] += consumed;
      return;
    }
    const parts = allocateToPostos(a.timestamp, b.timestamp, consumed, this.timeZone, this.hours);
    this.total.ponta += parts.ponta;
    this.total.intermediario += parts.intermediario;
    this.total.fora_ponta += parts.fora_ponta;
  }
}

/** The consumption between consecutive points (oldest first) per posto. */
export function consumptionByPosto(points: readonly RegisterPoint[], timeZone: string, hours: PostoHours): PostoAmounts {
  const accumulator = new PostoAccumulator(timeZone, hours);
  for (let i = 1; i < points.length; i++) accumulator.add(points[i - 1] as RegisterPoint, points[i] as RegisterPoint);
  return accumulator.total;
}
