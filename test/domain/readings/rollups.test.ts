/**
 * Hourly rollups: rollUp against a direct count, mergeRollups against
 * rolling up the union, and consumption per period from rollups against
 * PeriodAccumulator over the readings themselves (the claim every consumer
 * of rollups rests on), in whole-hour zones with and without daylight
 * saving.
 */
import fc from 'fast-check';
import t from 'tap';
import { PeriodAccumulator, periodBoundaries, periodStart, PERIOD_UNITS } from '../../../domain/readings/periods.js';
import { GAP_BEFORE, isUsable, PROLONGED_ZERO, REGRESSIVE, SPIKE, VALID } from '../../../domain/readings/quality.js';
import type { StoredReading } from '../../../domain/readings/reading.js';
import { HOUR_MS, mergeRollups, newestAtOrBefore, oldestAfter, periodsOfRollups, registerAtHour, registerPoints, rollUp, rollUpDays, rollupsFor, wholeHourBoundaries } from '../../../domain/readings/rollups.js';
import { consumptionByPosto } from '../../../domain/billing/cycle.js';
import { QualityAccumulator, rollupQuality } from '../../../domain/readings/data-quality.js';
import { postosOnWholeHours } from '../../../domain/billing/postos.js';

const START = Date.UTC(2026, 9, 30, 12);
const text = (value: unknown): string => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** Distinct instants (a store holds one reading per instant) over about 40 days, any registers, any flags. */
const readingsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 40 * 24 * 60 }), { maxLength: 300 })
  .chain((minutes) =>
    fc.tuple(
      fc.constant(minutes),
      fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: minutes.length, maxLength: minutes.length }),
      fc.array(fc.constantFrom(VALID, VALID, VALID, SPIKE, REGRESSIVE, GAP_BEFORE, PROLONGED_ZERO, SPIKE | GAP_BEFORE), { minLength: minutes.length, maxLength: minutes.length }),
    ),
  )
  .map(([minutes, registers, qualities]) =>
    minutes.map((minute, i): StoredReading => {
      const reading = { matricula: '1', timestamp: START + minute * 60_000 + (minute % 7) * 1000, consumo: registers[i] as bigint };
      return qualities[i] === VALID ? reading : { ...reading, quality: qualities[i] };
    }),
  );

t.test('rollUp: per UTC hour, every reading counted, flags counted, the oldest and newest usable ones', async () => {
  fc.assert(
    fc.property(readingsArb, (readings) => {
      const hours = rollUp(readings);
      for (let i = 1; i < hours.length; i++) if ((hours[i - 1] as { start: number }).start >= (hours[i] as { start: number }).start) return false;
      for (const rollup of hours) {
        const inHour = readings.filter((r) => r.timestamp >= rollup.start && r.timestamp < rollup.start + HOUR_MS);
        const usable = inHour.filter((r) => isUsable(r.quality ?? VALID)).sort((a, b) => a.timestamp - b.timestamp);
        if (rollup.start % HOUR_MS !== 0 || rollup.readings !== inHour.length || rollup.usable !== usable.length) return false;
        if (rollup.flagged !== inHour.filter((r) => (r.quality ?? VALID) !== VALID).length) return false;
        const first = usable[0];
        const last = usable[usable.length - 1];
        if (text(rollup.oldest) !== text(first === undefined ? undefined : { timestamp: first.timestamp, register: first.consumo })) return false;
        if (text(rollup.newest) !== text(last === undefined ? undefined : { timestamp: last.timestamp, register: last.consumo })) return false;
      }
      return hours.reduce((sum, rollup) => sum + rollup.readings, 0) === readings.length;
    }),
  );
});

t.test('mergeRollups of two disjoint parts of an hour is the rollup of their union, in any order', async () => {
  fc.assert(
    fc.property(readingsArb, fc.integer({ min: 0, max: 300 }), (readings, cut) => {
      const [a, b] = [readings.slice(0, cut), readings.slice(cut)];
      const left = new Map(rollUp(a).map((r) => [r.start, r]));
      for (const right of rollUp(b)) {
        const mine = left.get(right.start);
        left.set(right.start, mine === undefined ? right : mergeRollups(mine, right));
      }
      return text([...left.values()].sort((x, y) => x.start - y.start)) === text(rollUp(readings));
    }),
  );
});

t.test('consumption per hour, day and month from rollups equals PeriodAccumulator over the usable readings, in whole-hour zones', async () => {
  const zones = ['UTC', 'America/Sao_Paulo', 'America/Manaus', 'America/Noronha', 'America/Rio_Branco', 'America/New_York', 'Europe/Lisbon'];
  fc.assert(
    fc.property(readingsArb, fc.constantFrom(...zones), fc.constantFrom(...PERIOD_UNITS), fc.integer({ min: -2 * 24 * 60, max: 40 * 24 * 60 }), fc.integer({ min: 1, max: 45 * 24 * 60 }), (readings, zone, unit, from, span) => {
      const boundaries = periodBoundaries(START + from * 60_000, START + (from + span) * 60_000, unit, zone, 5000) as number[];
      const previousStart = periodStart((boundaries[0] as number) - 1, unit, zone);
      if (!wholeHourBoundaries([previousStart, ...boundaries])) return false;
      const accumulator = new PeriodAccumulator(boundaries, previousStart);
      accumulator.add(readings.filter((r) => isUsable(r.quality ?? VALID)).sort((a, b) => b.timestamp - a.timestamp));
      return text(periodsOfRollups(boundaries, previousStart, rollUp(readings))) === text(accumulator.periods());
    }),
    { numRuns: 300 },
  );
});

t.test('rollUpDays: per local day, every reading counted, flags counted, the oldest and newest usable ones, as grouping the readings by day', async () => {
  const zones = ['UTC', 'America/Sao_Paulo', 'America/Noronha', 'America/Rio_Branco', 'America/New_York', 'Europe/Lisbon'];
  fc.assert(
    fc.property(readingsArb, fc.constantFrom(...zones), (readings, zone) => {
      const byDay = new Map<number, StoredReading[]>();
      for (const reading of readings) {
        const day = periodStart(reading.timestamp, 'dia', zone);
        byDay.set(day, [...(byDay.get(day) ?? []), reading]);
      }
      const expected = [...byDay.entries()].sort(([a], [b]) => a - b).map(([start, inDay]) => ({ ...(rollUp(inDay).reduce((a, b) => mergeRollups(a, b))), start }));
      return text(rollUpDays(rollUp(readings), zone)) === text(expected);
    }),
    { numRuns: 300 },
  );
});

t.test('consumption per day and month from daily rollups equals PeriodAccumulator over the usable readings, when the periods are days of the rollups\' zone', async () => {
  const zones = ['UTC', 'America/Sao_Paulo', 'America/Noronha', 'America/Rio_Branco', 'America/New_York', 'Europe/Lisbon'];
  fc.assert(
    fc.property(readingsArb, fc.constantFrom(...zones), fc.constantFrom('dia' as const, 'mes' as const), fc.integer({ min: -2 * 24 * 60, max: 40 * 24 * 60 }), fc.integer({ min: 1, max: 45 * 24 * 60 }), (readings, zone, unit, from, span) => {
      const boundaries = periodBoundaries(START + from * 60_000, START + (from + span) * 60_000, unit, zone, 5000) as number[];
      const previousStart = periodStart((boundaries[0] as number) - 1, unit, zone);
      if (rollupsFor([previousStart, ...boundaries], zone) !== 'dia') throw new Error(`days and months of ${zone} are its days`);
      const accumulator = new PeriodAccumulator(boundaries, previousStart);
      accumulator.add(readings.filter((r) => isUsable(r.quality ?? VALID)).sort((a, b) => b.timestamp - a.timestamp));
      return text(periodsOfRollups(boundaries, previousStart, rollUpDays(rollUp(readings), zone))) === text(accumulator.periods());
    }),
    { numRuns: 300 },
  );
});

t.test('rollupsFor: days of the zone from daily rollups, other whole hours from hourly ones, half hours from neither', async (t) => {
  const days = (zone: string) => periodBoundaries(START, START + 3 * 86_400_000, 'dia', zone, 10) as number[];
  t.equal(rollupsFor(days('America/Sao_Paulo'), 'America/Sao_Paulo'), 'dia');
  t.equal(rollupsFor(days('America/Bahia'), 'America/Sao_Paulo'), 'dia', 'another zone of the same offsets');
  t.equal(rollupsFor(days('America/Manaus'), 'America/Sao_Paulo'), 'hora', 'days of another offset are whole hours');
  t.equal(rollupsFor(periodBoundaries(START, START + 86_400_000, 'hora', 'America/Sao_Paulo', 30) as number[], 'America/Sao_Paulo'), 'hora');
  t.equal(rollupsFor(days('Asia/Kolkata'), 'Asia/Kolkata'), undefined, 'a day of a half-hour zone is not whole UTC hours');
});

t.test('wholeHourBoundaries: a day of a half-hour zone is not whole UTC hours', async (t) => {
  const boundaries = periodBoundaries(START, START + 3 * 86_400_000, 'dia', 'Asia/Kolkata', 10) as number[];
  t.notOk(wholeHourBoundaries(boundaries));
  t.ok(wholeHourBoundaries(periodBoundaries(START, START + 3 * 86_400_000, 'dia', 'America/Sao_Paulo', 10) as number[]));
});

t.test('registerAtHour: the newest usable reading at or before a whole hour, at most a given age, as a search of the readings finds it', async () => {
  fc.assert(
    fc.property(readingsArb, fc.integer({ min: -2, max: 40 * 24 + 2 }), fc.integer({ min: 0, max: 60 }), (readings, hourIndex, minutes) => {
      const instant = Math.floor(START / HOUR_MS) * HOUR_MS + hourIndex * HOUR_MS;
      const maxAge = minutes * 60_000;
      const usable = readings.filter((r) => isUsable(r.quality ?? VALID) && r.timestamp <= instant).sort((a, b) => b.timestamp - a.timestamp);
      const newest = usable[0];
      const expected = newest !== undefined && instant - newest.timestamp <= maxAge ? newest.consumo : undefined;
      // Readings exactly on the hour too.
      const byHour = new Map(rollUp(readings).map((rollup) => [rollup.start, rollup]));
      return registerAtHour(byHour, instant, maxAge) === expected;
    }),
    { numRuns: 500 },
  );
  const onTheHour: StoredReading[] = [{ matricula: '1', timestamp: 5 * HOUR_MS, consumo: 7n }, { matricula: '1', timestamp: 5 * HOUR_MS - 60_000, consumo: 6n }];
  const byHour = new Map(rollUp(onTheHour).map((rollup) => [rollup.start, rollup]));
  if (registerAtHour(byHour, 5 * HOUR_MS, 900_000) !== 7n) throw new Error('a reading at the hour itself is the newest at or before it');
});

t.test('newestAtOrBefore and oldestAfter: a boundary\'s readings found in the hourly rollups, as a search of the usable readings finds them', async () => {
  fc.assert(
    fc.property(readingsArb, fc.integer({ min: -2, max: 40 * 24 + 2 }), fc.integer({ min: 0, max: 50 * 24 * 60 }), (readings, hourIndex, widthMinutes) => {
      const at = Math.floor(START / HOUR_MS) * HOUR_MS + hourIndex * HOUR_MS;
      const until = at + widthMinutes * 60_000;
      const usable = readings.filter((r) => isUsable(r.quality ?? VALID)).sort((a, b) => a.timestamp - b.timestamp);
      const before = usable.filter((r) => r.timestamp <= at).at(-1);
      const hours = rollUp(readings);
      const found = newestAtOrBefore(hours, at);
      if (text(found) !== text(before === undefined ? undefined : { timestamp: before.timestamp, register: before.consumo })) return false;
      if (before?.timestamp === at) return true;
      const after = usable.find((r) => r.timestamp > at && r.timestamp <= until);
      return text(oldestAfter(hours, at, until)) === text(after === undefined ? undefined : { timestamp: after.timestamp, register: after.consumo });
    }),
    { numRuns: 300 },
  );
});

t.test('consumption by posto between the hours\' oldest and newest readings equals it between every usable reading, postos of whole hours', async () => {
  const hours = { ponta: [[18 * 60, 21 * 60]] as const, intermediario: [[17 * 60, 18 * 60], [21 * 60, 22 * 60]] as const };
  const zone = 'America/Sao_Paulo';
  const rising = fc
    .uniqueArray(fc.integer({ min: 1, max: 20 * 24 * 60 - 1 }), { minLength: 0, maxLength: 200 })
    .chain((minutes) => fc.tuple(fc.constant(minutes.sort((a, b) => a - b)), fc.array(fc.bigInt({ min: 0n, max: 5000n }), { minLength: minutes.length + 1, maxLength: minutes.length + 1 })));
  fc.assert(
    fc.property(rising, ([minutes, steps]) => {
      // Registers that only grow (usable readings of a healthy meter), from the cycle's start to its end.
      let register = 1000n;
      const points = [{ timestamp: START, register }];
      for (const [i, minute] of minutes.entries()) points.push({ timestamp: START + minute * 60_000 + (minute % 3) * 17_000, register: (register += steps[i] as bigint) });
      points.push({ timestamp: START + 20 * 86_400_000, register: register + (steps[minutes.length] as bigint) });
      const start = points[0] as { timestamp: number; register: bigint };
      const end = points[points.length - 1] as { timestamp: number; register: bigint };
      const inner = points.slice(1, -1);
      const inside = { from: Math.floor(start.timestamp / HOUR_MS) * HOUR_MS + HOUR_MS, to: Math.floor(end.timestamp / HOUR_MS) * HOUR_MS };
      const asReadings = inner.filter((p) => p.timestamp >= inside.from && p.timestamp < inside.to).map((p): StoredReading => ({ matricula: '1', timestamp: p.timestamp, consumo: p.register }));
      const composed = [start, ...inner.filter((p) => p.timestamp < inside.from), ...registerPoints(rollUp(asReadings)), ...inner.filter((p) => p.timestamp >= inside.to), end];
      if (!postosOnWholeHours(hours, zone, start.timestamp, end.timestamp)) return false;
      return text(consumptionByPosto(composed, zone, hours)) === text(consumptionByPosto(points, zone, hours));
    }),
    { numRuns: 200 },
  );
});

t.test('rollupQuality: for a meter at a steady cadence, silent for whole hours, the same received, valid and completeness as QualityAccumulator over its readings', async () => {
  fc.assert(
    fc.property(
      fc.constantFrom(60, 300, 900, 1800, 3600, 7200),
      fc.integer({ min: 0, max: 59 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 10 * 24 - 1 }), { maxLength: 60 }),
      fc.array(fc.constantFrom(VALID, VALID, VALID, GAP_BEFORE, PROLONGED_ZERO), { minLength: 1, maxLength: 50 }),
      fc.constantFrom('America/Sao_Paulo', 'UTC', 'America/Manaus'),
      (cadenceS, offsetMinutes, silentHours, flags, zone) => {
        const from = Math.floor(START / HOUR_MS) * HOUR_MS;
        const to = from + 10 * 24 * HOUR_MS;
        const silent = new Set(silentHours.map((h) => from + h * HOUR_MS));
        const readings: StoredReading[] = [];
        for (let at = from + offsetMinutes * 60_000, i = 0; at < to; at += cadenceS * 1000, i++) {
          if (silent.has(Math.floor(at / HOUR_MS) * HOUR_MS)) continue;
          const quality = flags[i % flags.length] as number;
          readings.push(quality === VALID ? { matricula: '1', timestamp: at, consumo: BigInt(i) } : { matricula: '1', timestamp: at, consumo: BigInt(i), quality });
        }
        const accumulator = new QualityAccumulator(from, to, zone);
        accumulator.add([...readings].reverse());
        const { total } = accumulator.report();
        return text(rollupQuality(rollUp(readings), from, to, zone)) === text({ received: total.received, valid: total.valid, completeness: total.completeness });
      },
    ),
    { numRuns: 150 },
  );
});

t.test('rollupQuality from daily rollups: for a meter at a steady cadence, silent for whole days, the same as QualityAccumulator over its readings', async () => {
  fc.assert(
    fc.property(
      fc.constantFrom(60, 300, 900, 1800, 3600, 7200),
      fc.integer({ min: 0, max: 59 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 6 }),
      fc.array(fc.constantFrom(VALID, VALID, VALID, GAP_BEFORE, PROLONGED_ZERO), { minLength: 1, maxLength: 50 }),
      fc.constantFrom('America/Sao_Paulo', 'UTC', 'America/Manaus'),
      (cadenceS, offsetMinutes, silentDays, flags, zone) => {
        const from = periodStart(START, 'dia', zone);
        const to = from + 10 * 24 * HOUR_MS;
        const silent = new Set(silentDays.map((d) => from + d * 24 * HOUR_MS));
        const readings: StoredReading[] = [];
        for (let at = from + offsetMinutes * 60_000, i = 0; at < to; at += cadenceS * 1000, i++) {
          if (silent.has(periodStart(at, 'dia', zone))) continue;
          const quality = flags[i % flags.length] as number;
          readings.push(quality === VALID ? { matricula: '1', timestamp: at, consumo: BigInt(i) } : { matricula: '1', timestamp: at, consumo: BigInt(i), quality });
        }
        const accumulator = new QualityAccumulator(from, to, zone);
        accumulator.add([...readings].reverse());
        const { total } = accumulator.report();
        return text(rollupQuality(rollUpDays(rollUp(readings), zone), from, to, zone)) === text({ received: total.received, valid: total.valid, completeness: total.completeness });
      },
    ),
    { numRuns: 150 },
  );
});
