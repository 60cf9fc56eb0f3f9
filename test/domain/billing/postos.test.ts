/**
 * Tarifa Branca's calendar and posto allocation against brute force:
 * Easter and the national holidays, the time of an interval in each posto
 * counted second by second, and exact proportional splits.
 */
import fc from 'fast-check';
import t from 'tap';
import { easter, isWorkingDay, nationalHolidays } from '../../../domain/billing/calendar.js';
import { allocateToPostos, parseSpan, POSTOS, postoHoursProblem, splitByWeights, timeInPostos, zeroPostos, type PostoHours, type MinuteSpan } from '../../../domain/billing/postos.js';
import { zoneOffset } from '../../../protocol/timestamp.js';
import { averageEstimate, averagePostoEstimate, consumptionByPosto, cycleContaining, cycleEndingIn, registerAt } from '../../../domain/billing/cycle.js';

t.test('Easter and the national holidays', async (t) => {
  t.same(easter(2024), [3, 31]);
  t.same(easter(2025), [4, 20]);
  t.same(easter(2026), [4, 5]);
  t.same(easter(2000), [4, 23]);
  t.same(easter(2038), [4, 25], 'the latest possible');
  t.same(easter(2285), [3, 22], 'the earliest possible');
  fc.assert(
    fc.property(fc.integer({ min: 1583, max: 4099 }), (year) => {
      const [month, day] = easter(year);
      const date = new Date(Date.UTC(year, month - 1, day));
      const inRange = (month === 3 && day >= 22) || (month === 4 && day <= 25);
      return date.getUTCDay() === 0 && inRange;
    }),
  );
  const y2026 = nationalHolidays(2026);
  t.equal(y2026.get('2026-02-17'), 'Carnaval (terça-feira)');
  t.equal(y2026.get('2026-04-03'), 'Paixão de Cristo');
  t.equal(y2026.get('2026-06-04'), 'Corpus Christi');
  t.equal(y2026.get('2026-11-20'), 'Dia Nacional de Zumbi e da Consciência Negra');
  t.equal(y2026.size, 12);
  t.notOk(nationalHolidays(2023).has('2023-11-20'), 'a national holiday only from 2024');
  t.notOk(isWorkingDay(Date.UTC(2026, 10, 15)), 'a Sunday');
  t.notOk(isWorkingDay(Date.UTC(2026, 3, 3)), 'Good Friday');
  t.ok(isWorkingDay(Date.UTC(2026, 3, 2)), 'the Thursday before');
});

t.test('posto hours: parsed, and overlaps refused', async (t) => {
  t.same(parseSpan('18:00-21:00'), [1080, 1260]);
  t.same(parseSpan('22:00-24:00'), [1320, 1440]);
  t.type(parseSpan('21:00-18:00'), 'string');
  t.type(parseSpan('25:00-26:00'), 'string');
  t.type(parseSpan('18h-21h'), 'string');
  t.equal(postoHoursProblem({ ponta: [[1080, 1260]], intermediario: [[1020, 1080], [1260, 1320]] }), undefined);
  t.type(postoHoursProblem({ ponta: [[1080, 1260]], intermediario: [[1200, 1300]] }), 'string');
});

const ZONES = ['America/Sao_Paulo', 'UTC', 'America/Manaus', 'America/Noronha', 'America/New_York'];

const hoursArbitrary = fc
  .array(fc.integer({ min: 0, max: 1440 }), { minLength: 2, maxLength: 6 })
  .map((points) => [...new Set(points)].sort((a, b) => a - b))
  .filter((points) => points.length >= 2)
  .map((points): PostoHours => {
    const spans: MinuteSpan[] = [];
    for (let i = 0; i + 1 < points.length; i += 2) spans.push([points[i] as number, points[i + 1] as number]);
    return { ponta: spans.slice(0, 1), intermediario: spans.slice(1) };
  });

/** The posto of each second, from the wall clock: the reference. */
function bruteForce(from: number, to: number, timeZone: string, hours: PostoHours): Record<(typeof POSTOS)[number], bigint> {
  const time = zeroPostos();
  for (let s = from; s < to; s += 1000) {
    const wall = s + zoneOffset(s, timeZone);
    const day = Math.floor(wall / 86_400_000) * 86_400_000;
    const minute = (wall - day) / 60_000;
    let posto: (typeof POSTOS)[number] = 'fora_ponta';
    if (isWorkingDay(day)) {
      if (hours.ponta.some(([a, b]) => minute >= a && minute < b)) posto = 'ponta';
      else if (hours.intermediario.some(([a, b]) => minute >= a && minute < b)) posto = 'intermediario';
    }
    time[posto] += 1000n;
  }
  return time;
}

t.test('time in each posto equals a second-by-second count (weekends, holidays, time zones with and without DST)', async (t) => {
  fc.assert(
    fc.property(
      // From Dec 2025 to Dec 2026, including Carnival, Easter, Corpus Christi and New York's DST changes.
      fc.integer({ min: Date.UTC(2025, 11, 1) / 1000, max: Date.UTC(2026, 11, 1) / 1000 }),
      fc.integer({ min: 1, max: 30 * 3600 }),
      fc.constantFrom(...ZONES),
      hoursArbitrary,
      (fromS, seconds, zone, hours) => {
        const from = fromS * 1000;
        const to = from + seconds * 1000;
        const fast = timeInPostos(from, to, zone, hours);
        const slow = bruteForce(from, to, zone, hours);
        if (fast.ponta !== slow.ponta || fast.intermediario !== slow.intermediario || fast.fora_ponta !== slow.fora_ponta) {
          throw new Error(`${zone} ${new Date(from).toISOString()}+${seconds}s: ${JSON.stringify(fast, (_, v) => (typeof v === 'bigint' ? String(v) : v))} vs ${JSON.stringify(slow, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
        }
        return true;
      },
    ),
    { numRuns: 60 },
  );
  const hours = { ponta: [[1080, 1260]] as MinuteSpan[], intermediario: [[1020, 1080], [1260, 1320]] as MinuteSpan[] };
  // Friday 3 Apr 2026 (Good Friday) 17:30 to 18:30 in São Paulo: a holiday, all fora de ponta.
  const friday = Date.UTC(2026, 3, 3, 20, 30);
  t.same(timeInPostos(friday, friday + 3_600_000, 'America/Sao_Paulo', hours), { ponta: 0n, intermediario: 0n, fora_ponta: 3_600_000n });
  // The Thursday before, same hours: half intermediário, half ponta.
  const thursday = friday - 86_400_000;
  t.same(timeInPostos(thursday, thursday + 3_600_000, 'America/Sao_Paulo', hours), { ponta: 1_800_000n, intermediario: 1_800_000n, fora_ponta: 0n });
});

t.test('splits are exact: the parts add up, each within one unit of its share', async (t) => {
  const amounts = fc.record({ ponta: fc.bigInt({ min: 0n, max: 10n ** 12n }), intermediario: fc.bigInt({ min: 0n, max: 10n ** 12n }), fora_ponta: fc.bigInt({ min: 0n, max: 10n ** 12n }) });
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), amounts, (amount, weights) => {
      const parts = splitByWeights(amount, weights);
      const total = weights.ponta + weights.intermediario + weights.fora_ponta;
      if (total === 0n) return parts.ponta + parts.intermediario + parts.fora_ponta === 0n;
      if (parts.ponta + parts.intermediario + parts.fora_ponta !== amount) return false;
      return POSTOS.every((posto) => {
        const exact = amount * weights[posto];
        const low = parts[posto] * total;
        return low <= exact + total && exact < low + total + total && (weights[posto] !== 0n || parts[posto] === 0n);
      });
    }),
  );
  const hours = { ponta: [[1080, 1260]] as MinuteSpan[], intermediario: [] };
  const wednesday = Date.UTC(2026, 2, 4, 20, 0); // 17:00 in São Paulo
  t.same(allocateToPostos(wednesday, wednesday + 4 * 3_600_000, 3000n, 'America/Sao_Paulo', hours), { ponta: 2250n, intermediario: 0n, fora_ponta: 750n }, '3 of 4 hours in ponta');
});

t.test('a cycle\'s consumption per posto: the fast path (intervals inside one span) equals allocating every interval', async (t) => {
  const hours = { ponta: [[1080, 1260]] as MinuteSpan[], intermediario: [[1020, 1080], [1260, 1320]] as MinuteSpan[] };
  fc.assert(
    fc.property(
      fc.constantFrom(...ZONES),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 1) }),
      fc.array(fc.record({ gapS: fc.integer({ min: 1, max: 8 * 3600 }), used: fc.bigInt({ min: 0n, max: 5000n }) }), { minLength: 1, maxLength: 80 }),
      (zone, start, steps) => {
        const points = [{ timestamp: start, register: 0n }];
        for (const step of steps) {
          const last = points[points.length - 1] as { timestamp: number; register: bigint };
          points.push({ timestamp: last.timestamp + step.gapS * 1000, register: last.register + step.used });
        }
        const fast = consumptionByPosto(points, zone, hours);
        const reference = zeroPostos();
        for (let i = 1; i < points.length; i++) {
          const a = points[i - 1] as { timestamp: number; register: bigint };
          const b = points[i] as { timestamp: number; register: bigint };
          const parts = allocateToPostos(a.timestamp, b.timestamp, b.register - a.register, zone, hours);
          for (const posto of POSTOS) reference[posto] += parts[posto];
        }
        return POSTOS.every((posto) => fast[posto] === reference[posto]);
      },
    ),
    { numRuns: 200 },
  );
});

t.test('cycles and boundary registers', async (t) => {
  const zone = 'America/Sao_Paulo';
  const cycle = cycleEndingIn('2026-03', 10, zone);
  t.same(cycle, { startDay: '2026-02-10', endDay: '2026-03-10', start: Date.UTC(2026, 1, 10, 3), end: Date.UTC(2026, 2, 10, 3) });
  t.same(cycleEndingIn('2026-01', 28, zone).startDay, '2025-12-28', 'across a year');
  t.same(cycleContaining(Date.UTC(2026, 2, 10, 2, 59), 10, zone).endDay, '2026-03-10', 'a minute before the boundary: the cycle that ends there');
  t.same(cycleContaining(Date.UTC(2026, 2, 10, 3), 10, zone).startDay, '2026-03-10', 'at the boundary: the next cycle');
  const boundary = Date.UTC(2026, 2, 10, 3);
  const r = (minutes: number, consumo: bigint) => ({ matricula: '1', timestamp: boundary + minutes * 60_000, consumo });
  t.same(registerAt(boundary, r(-59, 1000n), r(30, 2000n))?.flag, 'medida', 'a reading within the hour before is the register');
  const estimated = registerAt(boundary, r(-120, 1000n), r(60, 4000n));
  t.same([estimated?.register, estimated?.flag], [3000n, 'estimada'], 'two hours before and one after: two thirds of the way');
  t.equal(registerAt(boundary, r(-120, 1000n), undefined), undefined, 'nothing after an old reading: open');
  t.same(registerAt(boundary, undefined, r(10, 5000n))?.flag, 'primeira_leitura');
});

t.test('a cycle without a reading: the mean of the known past cycles, in total (Convencional) and per posto (Branca)', async (t) => {
  const start = { timestamp: 0, register: 5_000_000n, flag: 'medida' as const, readings: [] };
  const amounts = fc.record({ ponta: fc.bigInt({ min: 0n, max: 10n ** 9n }), intermediario: fc.bigInt({ min: 0n, max: 10n ** 9n }), fora_ponta: fc.bigInt({ min: 0n, max: 10n ** 9n }) });
  fc.assert(
    fc.property(fc.array(fc.option(amounts, { nil: null }), { maxLength: 15 }), (previous) => {
      const considered = previous.slice(0, 12).filter((p): p is NonNullable<typeof p> => p !== null);
      const estimate = averagePostoEstimate(start, 99, previous);
      const total = averageEstimate(start, 99, previous.map((p) => (p === null ? null : p.ponta + p.intermediario + p.fora_ponta)));
      if (considered.length === 0) {
        t.equal(estimate, undefined);
        t.equal(total, undefined);
        return;
      }
      const n = BigInt(considered.length);
      for (const posto of POSTOS) {
        const sum = considered.reduce((s, p) => s + p[posto], 0n);
        const mean = (estimate as NonNullable<typeof estimate>).byPosto[posto];
        t.ok(mean * n * 2n > sum * 2n - n && mean * n * 2n <= sum * 2n + n, 'each posto at its mean, rounded half-up');
      }
      const { byPosto, end } = estimate as NonNullable<typeof estimate>;
      t.same([end.timestamp, end.flag, end.register], [99, 'media_ciclos', start.register + byPosto.ponta + byPosto.intermediario + byPosto.fora_ponta], 'the end register adds the postos up');
      const difference = (end.register - (total as NonNullable<typeof total>).register);
      t.ok(difference >= -1n && difference <= 1n, 'within the rounding of three postos of the total mean');
    }),
    { numRuns: 300 },
  );
  t.same(averagePostoEstimate(start, 1, [{ ponta: 5_000n, intermediario: 10_000n, fora_ponta: 15_000n }, null, { ponta: 7_000n, intermediario: 0n, fora_ponta: 20_000n }])?.byPosto, { ponta: 6_000n, intermediario: 5_000n, fora_ponta: 17_500n });
});
