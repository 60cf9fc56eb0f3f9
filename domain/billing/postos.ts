/**
 * Tarifa Branca's postos: which hours of a working day are ponta and
 * intermediário (everything else, weekends and national holidays are fora
 * de ponta), and how the consumption of an interval between two readings is
 * allocated to them: in proportion to the interval's time in each posto,
 * exactly (largest remainder, so the parts add up to the whole).
 */
import { DAY_MS, wallClockInstant, zoneOffset } from '../../protocol/timestamp.js';
import { isWorkingDay } from './calendar.js';
import { splitExact } from './money.js';

export const POSTOS = ['ponta', 'intermediario', 'fora_ponta'] as const;
export type Posto = (typeof POSTOS)[number];

/** A span of a day in minutes from midnight, end exclusive (24:00 is 1440). */
export type MinuteSpan = readonly [number, number];

export interface PostoHours {
  readonly ponta: readonly MinuteSpan[];
  readonly intermediario: readonly MinuteSpan[];
}

const MINUTE_MS = 60_000;
const SPAN = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/** `"18:00-21:00"` as minutes of the day, or a reason it is not one. */
export function parseSpan(text: string): MinuteSpan | string {
  const match = SPAN.exec(text);
  if (match === null) return 'deve ser HH:MM-HH:MM';
  const start = Number(match[1]) * 60 + Number(match[2]);
  const end = Number(match[3]) * 60 + Number(match[4]);
  if (end > 1440) return 'deve terminar até 24:00';
  if (end <= start) return 'deve terminar depois de começar (no mesmo dia)';
  return [start, end];
}

/** Why a set of posto hours is not usable, or undefined: spans must not overlap, within or across postos. */
/**
 * Whether every posto edge from `from` to `to` falls on a whole UTC hour:
 * spans of whole hours, in a zone a whole number of hours off UTC at both
 * ends (every zone of Brazil's). Then readings inside one UTC hour never
 * straddle a posto change, and hourly rollups allocate exactly.
 */
export function postosOnWholeHours(hours: PostoHours, timeZone: string, from: number, to: number): boolean {
  const wholeHour = (minutes: number): boolean => minutes % 60 === 0;
  if (![...hours.ponta, ...hours.intermediario].every(([a, b]) => wholeHour(a) && wholeHour(b))) return false;
  return zoneOffset(from, timeZone) % (60 * MINUTE_MS) === 0 && zoneOffset(to, timeZone) % (60 * MINUTE_MS) === 0;
}

export function postoHoursProblem(hours: PostoHours): string | undefined {
  const all = [...hours.ponta, ...hours.intermediario].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < all.length; i++) {
    if ((all[i] as MinuteSpan)[0] < (all[i - 1] as MinuteSpan)[1]) return 'os intervalos de ponta e intermediário não podem se sobrepor';
  }
  if (hours.ponta.length === 0) return 'é preciso ao menos um intervalo de ponta';
  return undefined;
}

export type PostoAmounts = Record<Posto, bigint>;

export const zeroPostos = (): PostoAmounts => ({ ponta: 0n, intermediario: 0n, fora_ponta: 0n });

/** Milliseconds of `[from, to)` in each posto, by the wall clock of `timeZone`. */
export function timeInPostos(from: number, to: number, timeZone: string, hours: PostoHours): PostoAmounts {
  const time = zeroPostos();
  if (to <= from) return time;
  let wallDay = Math.floor((from + zoneOffset(from, timeZone)) / DAY_MS) * DAY_MS;
  for (;;) {
    const dayStart = wallClockInstant(wallDay, timeZone);
    if (dayStart >= to) break;
    if (isWorkingDay(wallDay)) {
      for (const posto of ['ponta', 'intermediario'] as const) {
        for (const [startMin, endMin] of hours[posto]) {
          const a = Math.max(from, wallClockInstant(wallDay + startMin * MINUTE_MS, timeZone));
          const b = Math.min(to, wallClockInstant(wallDay + endMin * MINUTE_MS, timeZone));
          if (b > a) time[posto] += BigInt(b - a);
        }
      }
    }
    wallDay += DAY_MS;
  }
  time.fora_ponta = BigInt(to - from) - time.ponta - time.intermediario;
  return time;
}

/** Splits `amount` in proportion to each posto's weight exactly (see splitExact; ties in POSTOS order). */
export function splitByWeights(amount: bigint, weights: PostoAmounts): PostoAmounts {
  const [ponta, intermediario, fora_ponta] = splitExact(amount, POSTOS.map((posto) => weights[posto])) as [bigint, bigint, bigint];
  return { ponta, intermediario, fora_ponta };
}

/** The consumption of one interval between readings, allocated to postos by its time in each. */
export function allocateToPostos(from: number, to: number, consumption: bigint, timeZone: string, hours: PostoHours): PostoAmounts {
  return splitByWeights(consumption, timeInPostos(from, to, timeZone, hours));
}
