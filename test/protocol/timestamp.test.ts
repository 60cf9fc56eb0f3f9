import fc from 'fast-check';
import t from 'tap';
import { instantArbitrary, MAX_INSTANT } from './arbitraries.js';
import { formatIsoTimestamp, formatLegacyTimestamp, isValidTimeZone, parseIsoTimestamp, parseLegacyTimestamp, parseQueryTimestamp, zoneOffset } from '../../protocol/timestamp.js';

const MAX = MAX_INSTANT;

t.test('ISO timestamps round-trip', async () => {
  fc.assert(
    fc.property(instantArbitrary, (millis) => {
      t.equal(parseIsoTimestamp(formatIsoTimestamp(millis)), millis);
    }),
  );
});

t.test('ISO formatting writes what Date#toISOString writes, inside and outside four-digit years', async () => {
  const edges = fc.constantFrom(0, MAX, MAX + 1, -1, Date.UTC(2000, 1, 29), Date.UTC(2100, 2, 1) - 1, Date.UTC(2400, 1, 29, 23, 59, 59, 999));
  fc.assert(
    fc.property(fc.oneof(instantArbitrary, edges, fc.integer({ min: -8.64e15, max: 8.64e15 })), (millis) => {
      t.equal(formatIsoTimestamp(millis), new Date(millis).toISOString());
    }),
    { numRuns: 10_000 },
  );
});

t.test('ISO parsing accepts optional milliseconds and refuses impossible instants', async () => {
  t.equal(parseIsoTimestamp('2026-11-20T23:40:00Z'), Date.UTC(2026, 10, 20, 23, 40));
  t.equal(parseIsoTimestamp('2026-11-20T23:40:00.5Z'), Date.UTC(2026, 10, 20, 23, 40, 0, 500));
  t.equal(parseIsoTimestamp('2024-02-29T00:00:00.000Z'), Date.UTC(2024, 1, 29));
  for (const text of [
    '2026-11-20T23:40:00.000',
    '2026-11-20 23:40:00Z',
    '2026-11-20T23:40:00+00:00',
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-20T24:00:00Z',
    '2026-11-20T23:60:00Z',
    '2026-11-20T23:40:60Z',
    '2026-11-20T23:40:00.1234Z',
    '1969-12-31T23:59:59Z',
    '2026-1-20T23:40:00Z',
    '',
  ]) {
    t.equal(parseIsoTimestamp(text), undefined, text);
  }
});

t.test('legacy dd-mm-yyyy HH:MM:SS is local time of the configured zone', async () => {
  t.ok(isValidTimeZone('America/Sao_Paulo'));
  t.notOk(isValidTimeZone('Mars/Olympus'));
  // Sao Paulo has been UTC-3 without daylight saving since 2019.
  t.equal(parseLegacyTimestamp('05-03-2023 16:00:00', 'America/Sao_Paulo'), Date.UTC(2023, 2, 5, 19, 0));
  t.equal(parseLegacyTimestamp('05-03-2023 16:00:00', 'UTC'), Date.UTC(2023, 2, 5, 16, 0));
  // Berlin summer time (UTC+2) and winter time (UTC+1).
  t.equal(parseLegacyTimestamp('01-07-2023 12:00:00', 'Europe/Berlin'), Date.UTC(2023, 6, 1, 10, 0));
  t.equal(parseLegacyTimestamp('01-01-2023 12:00:00', 'Europe/Berlin'), Date.UTC(2023, 0, 1, 11, 0));
  // 02:30 on 26-03-2023 does not exist in Berlin; 02:30 on 29-10-2023 happens twice: the earlier instant.
  t.equal(parseLegacyTimestamp('29-10-2023 02:30:00', 'Europe/Berlin'), Date.UTC(2023, 9, 29, 0, 30));
  t.type(parseLegacyTimestamp('26-03-2023 02:30:00', 'Europe/Berlin'), 'number');
  for (const text of ['2023-03-05 16:00:00', '31-02-2023 10:00:00', '05-03-2023 16:00', '05-03-2023T16:00:00', '']) {
    t.equal(parseLegacyTimestamp(text, 'UTC'), undefined, text);
  }
});

t.test('legacy timestamps round-trip through their local formatting', async () => {
  const zones = ['UTC', 'America/Sao_Paulo', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York'];
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.constantFrom(...zones), (millis, zone) => {
      const seconds = Math.floor(millis / 1000) * 1000;
      const text = formatLegacyTimestamp(seconds, zone);
      const back = parseLegacyTimestamp(text, zone);
      t.type(back, 'number');
      // Inside a repeated hour the earlier instant is chosen, so compare wall clocks.
      t.equal(formatLegacyTimestamp(back as number, zone), text);
      t.ok(back === seconds || Math.abs((back as number) - seconds) <= 3_600_000 * 2);
    }),
    { numRuns: 300 },
  );
});

t.test('the canonical fast path agrees with an independent reading of every 24-char timestamp shape', async () => {
  const reference = (text: string): number | undefined => {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/.exec(text);
    if (m === null || Number(m[1]) < 1970) return undefined;
    const millis = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
    return new Date(millis).toISOString() === text ? millis : undefined;
  };
  const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
  const shaped = fc
    .tuple(fc.integer({ min: 1900, max: 9999 }), two(13), two(32), two(25), two(61), two(61), fc.integer({ min: 0, max: 999 }))
    .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}Z`);
  fc.assert(
    fc.property(fc.oneof(shaped, fc.string({ minLength: 24, maxLength: 24 })), (text) => {
      if (parseIsoTimestamp(text) !== reference(text)) throw new Error(`differs for ${text}`);
    }),
    { numRuns: 5000 },
  );
});

t.test('query timestamps: dates, wall clocks in a zone, Z and offsets', async () => {
  const sp = 'America/Sao_Paulo';
  t.equal(parseQueryTimestamp('2026-11-20', 'UTC'), Date.UTC(2026, 10, 20));
  t.equal(parseQueryTimestamp('2026-11-20', sp), Date.UTC(2026, 10, 20, 3), 'midnight in São Paulo is 03:00Z');
  t.equal(parseQueryTimestamp('2026-11-20T10:30', sp), Date.UTC(2026, 10, 20, 13, 30));
  t.equal(parseQueryTimestamp('2026-11-20T10:30:15.5Z', sp), Date.UTC(2026, 10, 20, 10, 30, 15, 500), 'Z wins over the zone');
  t.equal(parseQueryTimestamp('2026-11-20T10:30:00+05:30', sp), Date.UTC(2026, 10, 20, 5, 0));
  t.equal(parseQueryTimestamp('2026-11-20T10:30:00-03:00', 'UTC'), Date.UTC(2026, 10, 20, 13, 30));
  for (const bad of ['', '2026-11-31', '2026-13-01', '20-11-2026', '2026-11-20T25:00', '2026-11-20T10:00+24:00', '2026-11-20 10:00', '2026-11-20T10', 'hoje']) {
    t.equal(parseQueryTimestamp(bad, 'UTC'), undefined, `refused: ${JSON.stringify(bad)}`);
  }
  // Any instant written canonically or with its offset in any zone reads back as itself.
  fc.assert(
    fc.property(instantArbitrary, fc.integer({ min: -14 * 60, max: 14 * 60 }), fc.constantFrom('UTC', sp, 'Asia/Kolkata'), (millis, offsetMinutes, zone) => {
      t.equal(parseQueryTimestamp(formatIsoTimestamp(millis), zone), millis);
      const local = formatIsoTimestamp(millis + offsetMinutes * 60_000).slice(0, 23);
      const sign = offsetMinutes < 0 ? '-' : '+';
      const abs = Math.abs(offsetMinutes);
      const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      const parsed = parseQueryTimestamp(local + offset, zone);
      // Out-of-range local years are refused, never misread.
      if (parsed !== undefined) t.equal(parsed, millis);
    }),
  );
});

t.test('the cached zone offset agrees with Intl at every instant, across daylight-saving changes', async (t) => {
  const zones = ['America/Sao_Paulo', 'Europe/London', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC'];
  const intl = (millis: number, timeZone: string): number => {
    const parts: Record<string, number> = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
        .formatToParts(new Date(millis))
        .filter((part) => part.type !== 'literal')
        .map((part) => [part.type, Number(part.value)]),
    );
    return Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0) - (millis - (((millis % 1000) + 1000) % 1000));
  };
  fc.assert(
    fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }), (zone, millis) => {
      t.equal(zoneOffset(millis, zone), intl(millis, zone));
    }),
    { numRuns: 3000 },
  );
  // Around the 2018 São Paulo change (2018-11-04 00:00 local, 03:00 UTC), second by second.
  for (let millis = Date.UTC(2018, 10, 4, 2, 59, 0); millis < Date.UTC(2018, 10, 4, 3, 1, 0); millis += 500) t.equal(zoneOffset(millis, 'America/Sao_Paulo'), intl(millis, 'America/Sao_Paulo'));
});

t.test('formatIsoTimestamp agrees with toISOString for runs of instants in the same few seconds (its per-second cache)', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253_402_300_000_000 }), fc.array(fc.integer({ min: -2500, max: 2500 }), { minLength: 1, maxLength: 40 }), (base, offsets) => {
      for (const offset of offsets) {
        const millis = Math.max(0, base + offset);
        if (formatIsoTimestamp(millis) !== new Date(millis).toISOString()) return false;
      }
      return true;
    }),
    { numRuns: 2000 },
  );
});
