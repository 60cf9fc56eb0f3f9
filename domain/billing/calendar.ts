/**
 * Brazil's national holidays, for the Tarifa Branca's postos (on weekends
 * and these days every hour is fora de ponta) and for the business days
 * that count an invoice's due date (REN 1.000/2021 arts. 337, 339, 656). The list is ANEEL's (REN
 * 1.000/2021, definition of posto tarifário ponta, carried over from REN
 * 414/2010 art. 2): Carnival Tuesday, Good Friday and Corpus Christi (from
 * Easter), and 1 Jan, 21 Apr, 1 May, 7 Sep, 12 Oct, 2 Nov, 15 Nov and 25 Dec;
 * plus 20 Nov from 2024 (Lei 14.759/2023 made it a national holiday).
 */
import { DAY_MS } from '../../protocol/timestamp.js';

/** Easter Sunday of a Gregorian year as [month 1-12, day] (the anonymous Gregorian algorithm, Meeus/Jones/Butcher). */
export function easter(year: number): [number, number] {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return [month, day];
}

const FIXED: ReadonlyArray<readonly [number, number, string]> = [
  [1, 1, 'Confraternização Universal'],
  [4, 21, 'Tiradentes'],
  [5, 1, 'Dia do Trabalho'],
  [9, 7, 'Independência'],
  [10, 12, 'Nossa Senhora Aparecida'],
  [11, 2, 'Finados'],
  [11, 15, 'Proclamação da República'],
  [12, 25, 'Natal'],
];
/** Days from Easter Sunday. */
const MOVABLE: ReadonlyArray<readonly [number, string]> = [
  [-47, 'Carnaval (terça-feira)'],
  [-2, 'Paixão de Cristo'],
  [60, 'Corpus Christi'],
];
const BLACK_CONSCIOUSNESS_FROM = 2024;

/** A calendar date as `YYYY-MM-DD`. */
export function isoDay(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const cache = new Map<number, ReadonlyMap<string, string>>();

/** The national holidays of `year`, by `YYYY-MM-DD`, with their names. */
export function nationalHolidays(year: number): ReadonlyMap<string, string> {
  const known = cache.get(year);
  if (known !== undefined) return known;
  const days = new Map<string, string>();
  for (const [month, day, name] of FIXED) days.set(isoDay(year, month, day), name);
  if (year >= BLACK_CONSCIOUSNESS_FROM) days.set(isoDay(year, 11, 20), 'Dia Nacional de Zumbi e da Consciência Negra');
  const [month, day] = easter(year);
  const sunday = Date.UTC(year, month - 1, day);
  for (const [offset, name] of MOVABLE) {
    const date = new Date(sunday + offset * DAY_MS);
    days.set(isoDay(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()), name);
  }
  cache.set(year, days);
  return days;
}

/** Whether a calendar day (given as UTC midnight of that date) is a working day: Monday to Friday and not a national holiday. */
export function isWorkingDay(dayUtcMidnight: number): boolean {
  const date = new Date(dayUtcMidnight);
  const weekday = date.getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  return !nationalHolidays(date.getUTCFullYear()).has(isoDay(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()));
}

const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`);
const dayText = (instant: number): string => new Date(instant).toISOString().slice(0, 10);

/** `day` when it is a working day, else the next one (`YYYY-MM-DD`). */
export function nextWorkingDay(day: string): string {
  let instant = dayNumber(day);
  while (!isWorkingDay(instant)) instant += DAY_MS;
  return dayText(instant);
}

/**
 * The day `count` working days after `day`: the day itself not counted, the
 * last one counted (REN 1.000/2021 art. 656 § 2º: "excluindo o dia da
 * cientificação e incluindo o do vencimento").
 */
export function addWorkingDays(day: string, count: number): string {
  let instant = dayNumber(day);
  for (let left = count; left > 0; ) {
    instant += DAY_MS;
    if (isWorkingDay(instant)) left--;
  }
  return dayText(instant);
}
