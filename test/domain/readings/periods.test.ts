/**
 * Periods of hours, days and months in a time zone, and consumption per
 * period, checked against independent definitions.
 */
import fc from 'fast-check';
import t from 'tap';
import type { Reading } from '../../../domain/readings/reading.js';
import { PeriodAccumulator, periodBoundaries, periodStart, nextPeriodStart, PERIOD_UNITS, type PeriodUnit } from '../../../domain/readings/periods.js';

const zones = ['UTC', 'America/Sao_Paulo', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) });

/** The wall clock of an instant in a zone, by Intl (independent of the code under test). */
const formats = new Map(
  zones.map((timeZone) => [timeZone, new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })]),
);
function wall(millis: number, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  const format = formats.get(timeZone) as Intl.DateTimeFormat;
  for (const part of format.formatToParts(new Date(millis))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return parts as ReturnType<typeof wall>;
}

function samePeriod(a: number, b: number, unit: PeriodUnit, zone: string): boolean {
  const [x, y] = [wall(a, zone), wall(b, zone)];
  if (x.year !== y.year || x.month !== y.month) return false;
  return unit === 'mes' || (x.day === y.day && (unit === 'dia' || x.hour === y.hour));
}

t.test('a period holds its instant, starts where the wall clock says, and the next starts where it ends', async () => {
  fc.assert(
    fc.property(instant, fc.constantFrom(...PERIOD_UNITS), fc.constantFrom(...zones), (millis, unit, zone) => {
      const start = periodStart(millis, unit, zone);
      const next = nextPeriodStart(start, unit, zone);
      t.ok(start <= millis && millis < next, `${unit} in ${zone} holds ${new Date(millis).toISOString()}`);
      t.equal(periodStart(start, unit, zone), start, 'a start is its own period start');
      t.equal(periodStart(next, unit, zone), next, 'the next start is a start');
      t.ok(samePeriod(start, millis, unit, zone), 'start is in the same calendar period');
      t.notOk(samePeriod(start - 1, start, unit, zone), 'the instant before is in the calendar period before');
    }),
    { numRuns: 250 },
  );
});

t.test('boundaries cover the range in consecutive periods, or refuse past the limit', async () => {
  fc.assert(
    fc.property(instant, fc.integer({ min: 1, max: 20 * 86_400_000 }), fc.constantFrom(...PERIOD_UNITS), fc.constantFrom(...zones), (from, span, unit, zone) => {
      const boundaries = periodBoundaries(from, from + span, unit, zone, 300);
      if (boundaries === undefined) {
        t.ok(unit === 'hora' && span > 290 * 3_600_000, 'only long runs of hours pass the limit here');
        return;
      }
      t.ok((boundaries[0] as number) <= from && (boundaries[boundaries.length - 1] as number) >= from + span);
      t.ok((boundaries[boundaries.length - 2] as number) < from + span, 'no period past the range');
      t.same(boundaries.slice(1), boundaries.slice(0, -1).map((start) => nextPeriodStart(start, unit, zone)));
    }),
    { numRuns: 100 },
  );
});

t.test('consumption per period: newest register minus the previous period\'s newest; gaps stay gaps', async () => {
  const hour = 3_600_000;
  const base = Date.UTC(2026, 0, 1);
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 12 * 60 - 1 }), { maxLength: 60 }).map((minutes) => minutes.sort((a, b) => a - b)),
      fc.array(fc.bigInt({ min: 0n, max: 5000n }), { minLength: 60, maxLength: 60 }),
      fc.integer({ min: 1, max: 7 }),
      (minutes, steps, batchSize) => {
        let register = 0n;
        const readings: Reading[] = minutes.map((m, i) => ({ matricula: '1', timestamp: base + m * 60_000, consumo: (register += steps[i] as bigint) }));
        // Periods are hours 2..11; hour 1 is the period before the first.
        const boundaries = Array.from({ length: 11 }, (_, i) => base + (i + 1) * hour);
        const accumulator = new PeriodAccumulator(boundaries, base);
        const newestFirst = [...readings].reverse();
        for (let i = 0; i < newestFirst.length; i += batchSize) accumulator.add(newestFirst.slice(i, i + batchSize));
        const periods = accumulator.periods();
        t.equal(periods.length, 10);
        periods.forEach((period, i) => {
          const inside = readings.filter((r) => r.timestamp >= period.start && r.timestamp < period.end);
          const before = readings.filter((r) => r.timestamp >= period.start - hour && r.timestamp < period.start);
          t.equal(period.start, base + (i + 1) * hour);
          t.equal(period.readings, inside.length);
          const newest = inside[inside.length - 1];
          const base_ = before[before.length - 1] ?? inside[0];
          t.equal(period.consumption, newest === undefined || base_ === undefined ? undefined : newest.consumo - base_.consumo);
          t.equal(period.complete, newest !== undefined && before.length > 0);
        });
      },
    ),
    { numRuns: 150 },
  );
});

t.test('a register that goes down gives no consumption for its period', async () => {
  const accumulator = new PeriodAccumulator([10, 20, 30], 0);
  accumulator.add([
    { matricula: '1', timestamp: 25, consumo: 5n },
    { matricula: '1', timestamp: 15, consumo: 9n },
    { matricula: '1', timestamp: 5, consumo: 1n },
  ]);
  t.same(
    accumulator.periods().map((p) => [p.readings, p.consumption, p.complete]),
    [
      [1, 8n, true],
      [1, undefined, false],
    ],
  );
});

t.test('a day that starts at a skipped midnight (São Paulo, 2005-10-16) starts when the clocks jump, and the day before ends there', async (t) => {
  const zone = 'America/Sao_Paulo';
  const jump = Date.UTC(2005, 9, 16, 3); // 00:00 at -03 became 01:00 at -02
  const dayBefore = periodStart(Date.UTC(2005, 9, 15, 12), 'dia', zone);
  t.equal(dayBefore, Date.UTC(2005, 9, 15, 3));
  t.equal(nextPeriodStart(dayBefore, 'dia', zone), jump, 'Oct 15 ends at the jump, not an hour before it');
  t.equal(periodStart(jump, 'dia', zone), jump);
  t.equal(periodStart(jump - 1, 'dia', zone), dayBefore, '23:59:59.999 of Oct 15 is still Oct 15');
  t.equal(nextPeriodStart(jump, 'dia', zone), Date.UTC(2005, 9, 17, 2));
});
