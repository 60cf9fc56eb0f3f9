/**
 * Timestamps on the wire: ISO-8601 UTC (`2026-11-20T23:40:00.000Z`) for the
 * project's own formats, and the original system's `dd-mm-yyyy HH:MM:SS` in
 * a named time zone. A timestamp is held as integer milliseconds since the
 * Unix epoch.
 */

/** Milliseconds in a day of UTC (a civil day in a zone with daylight saving can differ: use the zone's functions). */
export const DAY_MS = 86_400_000;
/** A calendar day as ISO 8601 writes it, `YYYY-MM-DD` (the shape; whether the day exists is another check). */
export const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Earliest and latest years accepted, so every value formats back the same. */
export const MIN_YEAR = 1970;
export const MAX_YEAR = 9999;

// Milliseconds optional, 1 to 3 digits: more would not survive a round trip.
const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/;
const LEGACY_PATTERN = /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})$/;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** Milliseconds for a UTC wall clock, or undefined when a field is out of range. */
function utcMillis(c: WallClock): number | undefined {
  if (c.year < MIN_YEAR || c.year > MAX_YEAR) return undefined;
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.hour > 23 || c.minute > 59 || c.second > 59) return undefined;
  const millis = Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second, c.millisecond);
  // Date.UTC rolls 31 April over to 1 May; a real date survives unchanged.
  if (new Date(millis).getUTCDate() !== c.day) return undefined;
  return millis;
}


/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The value of `count` ASCII digits at `offset`, or -1 if any is not a digit. */
function digitsAt(text: string, offset: number, count: number): number {
  let value = 0;
  for (let i = offset; i < offset + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The canonical form `YYYY-MM-DDTHH:MM:SS.sssZ` (what this project writes
 * and meters send), read by char codes without allocating: the hot path
 * of ingest and of reading the log at start-up. -1 when not that form.
 */
function parseCanonicalIso(text: string): number {
  if (text.length !== 24 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) {
    return -1;
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const millisecond = digitsAt(text, 20, 3);
  if (year < MIN_YEAR || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || millisecond < 0) return -1;
  if (day > daysInMonth(year, month)) return -1;
  return daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + millisecond;
}

/** Parses ISO-8601 UTC with a `Z`; undefined when malformed or not a real instant. */
export function parseIsoTimestamp(text: string): number | undefined {
  const canonical = parseCanonicalIso(text);
  if (canonical >= 0) return canonical;
  const m = ISO_PATTERN.exec(text);
  if (m === null) return undefined;
  return utcMillis({
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
    millisecond: m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0')),
  });
}

/** The second last formatted and its text up to the milliseconds (`YYYY-MM-DDTHH:MM:SS.`): ingest formats thousands of instants of the same second in a row. */
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** Formats as `YYYY-MM-DDTHH:MM:SS.sssZ`, the canonical form stored and sent. */
export function formatIsoTimestamp(millis: number): string {
  if (!Number.isInteger(millis) || millis < 0 || millis > MAX_FOUR_DIGIT_YEAR_MILLIS) return new Date(millis).toISOString();
  const millisecond = millis % 1000;
  const second = millis - millisecond;
  if (second !== cachedSecond) {
    cachedPrefix = formatSecondPrefix(second);
    cachedSecond = second;
  }
  return `${cachedPrefix}${millisecond < 10 ? '00' : millisecond < 100 ? '0' : ''}${millisecond}Z`;
}

/** `YYYY-MM-DDTHH:MM:SS.` of a whole second, by arithmetic rather than through a Date (several times cheaper). */
function formatSecondPrefix(millis: number): string {
  const days = Math.floor(millis / DAY_MS);
  const { year, month, day } = civilFromDays(days);
  const seconds = (millis - days * DAY_MS) / 1000;
  return `${year}-${PADDED[month]}-${PADDED[day]}T${PADDED[Math.floor(seconds / 3600)]}:${PADDED[Math.floor(seconds / 60) % 60]}:${PADDED[seconds % 60]}.`;
}

/** 9999-12-31T23:59:59.999Z: past it toISOString writes a six-digit year. */
const MAX_FOUR_DIGIT_YEAR_MILLIS = 253_402_300_799_999;
const PADDED = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/** The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days). */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day: dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1 };
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = offsetFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when the runtime knows this IANA time zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `timeZone` from UTC at instant `millis`, in milliseconds, asked of Intl (dear: a formatToParts call). */
function intlZoneOffset(millis: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(millis))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return asUtc - (millis - (((millis % 1000) + 1000) % 1000));
}

/** Days remembered per time zone before its cache starts over (about 270 years of days). */
const MAX_CACHED_DAYS = 100_000;

/** One UTC day of a zone: its offset at the start, and, when the offset changes within it, the instant and the new offset. */
interface ZoneDay {
  readonly offset: number;
  readonly changeAt?: number;
  readonly offsetAfter?: number;
}

const zoneDays = new Map<string, Map<number, ZoneDay>>();

/**
 * A UTC day of a zone, found once with a few Intl calls and then kept: the
 * offsets at its two ends, and when they differ, the change's instant by
 * binary search to the second. Assumes a zone changes its offset at most
 * once within a UTC day, which holds for every zone in the IANA database
 * since 1970.
 */
function zoneDay(day: number, timeZone: string): ZoneDay {
  let days = zoneDays.get(timeZone);
  if (days === undefined) zoneDays.set(timeZone, (days = new Map()));
  let entry = days.get(day);
  if (entry !== undefined) return entry;
  const start = day * DAY_MS;
  const before = days.get(day - 1);
  const offset = before === undefined ? intlZoneOffset(start, timeZone) : (before.offsetAfter ?? before.offset);
  const atEnd = days.get(day + 1)?.offset ?? intlZoneOffset(start + DAY_MS, timeZone);
  if (atEnd === offset) {
    entry = { offset };
  } else {
    // The last second with the old offset, then the first with the new.
    let low = start;
    let high = start + DAY_MS;
    while (high - low > 1000) {
      const mid = low + Math.floor((high - low) / 2000) * 1000;
      if (intlZoneOffset(mid, timeZone) === offset) low = mid;
      else high = mid;
    }
    entry = { offset, changeAt: high, offsetAfter: atEnd };
  }
  if (days.size >= MAX_CACHED_DAYS) days.clear();
  days.set(day, entry);
  return entry;
}

/**
 * Offset of `timeZone` from UTC at instant `millis`, in milliseconds. The
 * zone's transitions are cached per day: a year of hourly periods costs a
 * few hundred Intl calls once, then map lookups (a request must never hold
 * the event loop for long).
 */
export function zoneOffset(millis: number, timeZone: string): number {
  if (!Number.isFinite(millis)) return intlZoneOffset(millis, timeZone);
  const entry = zoneDay(Math.floor(millis / DAY_MS), timeZone);
  return entry.changeAt !== undefined && millis >= entry.changeAt ? (entry.offsetAfter as number) : entry.offset;
}

/**
 * The instant at which the wall clock of `timeZone` shows `wall` (a wall
 * clock written as if it were UTC milliseconds). A wall clock repeated when
 * clocks go back resolves to the earlier of its two instants; one skipped
 * when they go forward, to the instant after the gap (where the skipped
 * time would have been: a day that starts at a skipped midnight starts when
 * the clocks jump).
 */
export function wallClockInstant(wall: number, timeZone: string): number {
  // Two candidate offsets: the one in force a day before and a day after.
  // The earliest candidate whose offset agrees with itself wins.
  const candidates = [wall - zoneOffset(wall - DAY_MS, timeZone), wall - zoneOffset(wall + DAY_MS, timeZone)].sort((a, b) => a - b);
  for (const instant of candidates) {
    if (instant + zoneOffset(instant, timeZone) === wall) return instant;
  }
  // Skipped: the earlier candidate lies before the gap, the later one after it.
  return candidates[1] as number;
}

/** Parses the original system's `dd-mm-yyyy HH:MM:SS`, a wall-clock time in `timeZone` (see wallClockInstant). */
export function parseLegacyTimestamp(text: string, timeZone: string): number | undefined {
  const m = LEGACY_PATTERN.exec(text);
  if (m === null) return undefined;
  const wall = utcMillis({
    year: Number(m[3]),
    month: Number(m[2]),
    day: Number(m[1]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
    millisecond: 0,
  });
  return wall === undefined ? undefined : wallClockInstant(wall, timeZone);
}

/**
 * Parses a time a person types in a query: `2026-11-20`,
 * `2026-11-20T10:00`, `2026-11-20T10:00:00.5`, each optionally followed by
 * `Z` or an offset such as `-03:00`. Without one it is a wall clock in
 * `timeZone`. Undefined when malformed or not a real date.
 */
export function parseQueryTimestamp(text: string, timeZone: string): number | undefined {
  const m = QUERY_PATTERN.exec(text);
  if (m === null) return undefined;
  const wall = utcMillis({
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    millisecond: m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0')),
  });
  if (wall === undefined) return undefined;
  const zone = m[8];
  if (zone === undefined) return wallClockInstant(wall, timeZone);
  if (zone === 'Z') return wall;
  const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  if (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59) return undefined;
  return wall - (zone[0] === '-' ? -1 : 1) * offsetMinutes * 60_000;
}

const QUERY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Formats an instant as `dd-mm-yyyy HH:MM:SS` in `timeZone` (the original's format). */
export function formatLegacyTimestamp(millis: number, timeZone: string): string {
  const local = new Date(millis + zoneOffset(millis, timeZone));
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(local.getUTCDate())}-${two(local.getUTCMonth() + 1)}-${local.getUTCFullYear()} ${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}`;
}

/** The local month (`YYYY-MM`) of an instant in a time zone. */
export function localMonth(millis: number, timeZone: string): string {
  return formatIsoTimestamp(millis + zoneOffset(millis, timeZone)).slice(0, 7);
}

/** The local calendar day (`YYYY-MM-DD`) of an instant in `timeZone`. */
export function localDay(millis: number, timeZone: string): string {
  return formatIsoTimestamp(millis + zoneOffset(millis, timeZone)).slice(0, 10);
}
