/**
 * The invoice arithmetic: golden invoices worked out by hand here (each
 * figure's derivation in a comment) and rechecked by an independent
 * computation in Python's Decimal (test/reference/faturas.py), and
 * properties against plain references: pro rata by days, the Tema 69
 * gross-up, NBR 5891 rounding, the total as the sum of the printed lines.
 */
import fc from 'fast-check';
import t from 'tap';
import { DomainError } from '../../../domain/errors.js';
import { benefitOn, computeInvoice, dueDayOf, grossUp, icmsFor, type BillingRules, type CycleToBill, type PriceVersion } from '../../../domain/billing/invoice.js';
import { isWorkingDay } from '../../../domain/billing/calendar.js';
import { splitExact } from '../../../domain/billing/money.js';
import { ratio, roundNbr5891 } from '../../../domain/billing/exact.js';
import { consumptionByPosto, cycleEndingIn } from '../../../domain/billing/cycle.js';

/** R$/kWh with up to 8 places as 10^-8 units, written as a reader writes it. */
const price = (text: string): bigint => BigInt(Math.round(Number(text) * 1e8));
const rate = (text: string): bigint => BigInt(Math.round(Number(text) * 1e6));
const cents = (text: string): bigint => BigInt(Math.round(Number(text) * 100));
const kwh = (n: number): bigint => BigInt(Math.round(n * 1000));

const RULES: BillingRules = {
  // Minas Gerais: 18% on residential supply (Decreto 48.456/2022); Tarifa Social households of at most 3 kWh a day exempt.
  icms: { bands: [{ upToKwh: null, rate: rate('0.18') }], socialTariffExemption: { maxDailyKwh: 3 } },
  // Effective rates of a month, as a distributor publishes them.
  pisCofins: { pis: rate('0.0112'), cofins: rate('0.0516') },
  minimumKwh: { monofasica: 30, bifasica: 50, trifasica: 100 },
  cip: [
    { upToKwh: 100, cents: cents('5.00') },
    { upToKwh: null, cents: cents('12.50') },
  ],
  dueDays: 10,
  social: [
    { upToKwh: 30, discount: rate('0.65') },
    { upToKwh: 100, discount: rate('0.40') },
    { upToKwh: 220, discount: rate('0.10') },
  ],
};
// TE 294,59 + TUSD 412,38 R$/MWh = 0,70697 R$/kWh.
const CONVENCIONAL: PriceVersion[] = [{ from: '2025-01-01', to: null, te: price('0.29459'), tusd: price('0.41238') }];

/** Each line as [kind, kWh, unit price, value without taxes, PIS, COFINS, ICMS, value with taxes], and the totals. */
const summary = (invoice: ReturnType<typeof computeInvoice>) => ({
  items: invoice.items.map((item) => [item.kind, item.quantity, item.unitPrice, item.netCents, item.taxes.pis, item.taxes.cofins, item.taxes.icms, item.cents]),
  subtotal: invoice.subtotal,
  taxes: invoice.taxes.map((tax) => [tax.name, tax.base, tax.cents]),
  cip: invoice.cip,
  total: invoice.total,
});

t.test('golden: convencional below the minimum, a bandeira change inside the cycle, taxes and CIP', async (t) => {
  const invoice = computeInvoice({
    startDay: '2026-05-10',
    endDay: '2026-06-10', // 31 days: 22 in May (10-31), 9 in June (1-9)
    consumption: kwh(24.5),
    modality: 'convencional',
    connection: 'monofasica', // minimum 30 kWh
    socialTariff: false,
    prices: { convencional: CONVENCIONAL },
    flags: new Map([
      ['2026-05', { flag: 'amarela', additional: price('0.01885') }],
      ['2026-06', { flag: 'vermelha_1', additional: price('0.04463') }],
    ]),
    rules: RULES,
    presentationDay: '2026-06-10',
  });
  t.equal(invoice.days, 31);
  t.equal(invoice.billable, kwh(30));
  // PIS/COFINS base = value / (1 - 0,0112 - 0,0516) = value / 0,9372; ICMS base = that / 0,82; each figure rounded once (NBR 5891).
  t.same(summary(invoice), {
    items: [
      // 24,5 x 0,70697 = 17,320765; / 0,9372 = 18,48139...; / 0,82 = 22,53828... -> 22,54; ICMS 4,0569 -> 4,06; PIS 0,20699 -> 0,21; COFINS 0,95364 -> 0,95
      ['energia', kwh(24.5), price('0.70697'), cents('17.32'), cents('0.21'), cents('0.95'), cents('4.06'), cents('22.54')],
      // 5,5 x 0,70697 = 3,888335; / 0,9372 = 4,14888; / 0,82 = 5,05961 -> 5,06
      ['disponibilidade', kwh(5.5), price('0.70697'), cents('3.89'), cents('0.05'), cents('0.21'), cents('0.91'), cents('5.06')],
      // 30 kWh x 22/31 = 21,29032... kWh (exact, printed 21,290) x 0,01885 = 0,40132...; taxed 0,52226 -> 0,52
      ['bandeira', kwh(21.29), price('0.01885'), cents('0.40'), cents('0.00'), cents('0.02'), cents('0.09'), cents('0.52')],
      // 30 x 9/31 = 8,70967... kWh (printed 8,710) x 0,04463 = 0,38872...; taxed 0,50584 -> 0,51
      ['bandeira', kwh(8.71), price('0.04463'), cents('0.39'), cents('0.00'), cents('0.02'), cents('0.09'), cents('0.51')],
    ],
    subtotal: cents('22.00'),
    taxes: [
      ['ICMS', cents('28.63'), cents('5.15')], // bases 22,54 + 5,06 + 0,52 + 0,51; amounts 4,06 + 0,91 + 0,09 + 0,09
      ['PIS', cents('23.47'), cents('0.26')], // bases 18,48 + 4,15 + 0,43 + 0,41
      ['COFINS', cents('23.47'), cents('1.20')],
    ],
    cip: cents('5.00'), // 24,5 kWh: the band up to 100 kWh
    total: cents('33.63'), // 22,54 + 5,06 + 0,52 + 0,51 + 5,00 (the old formula gave 35,24)
  });
  // Ten days after the cycle ends is Saturday 20/06/2026: the next working day (REN 1.000 art. 339); 5 working days after
  // presentation on 10/06 (art. 337, II) would be 17/06, earlier.
  t.equal(invoice.dueDay, '2026-06-22', 'the schedule, on a working day');
  t.same(
    invoice.flags.map((f) => [f.month, f.flag, f.days, f.kwh]),
    [
      ['2026-05', 'amarela', 22, kwh(21.29)],
      ['2026-06', 'vermelha_1', 9, kwh(8.71)],
    ],
  );
});

t.test('golden: tarifa social by the bands of Lei 12.212/2010 (a cycle before 05/07/2025), before taxes; the CIP of a larger consumption', async (t) => {
  const invoice = computeInvoice({
    startDay: '2025-01-05',
    endDay: '2025-02-05',
    consumption: kwh(150),
    modality: 'convencional',
    connection: 'bifasica',
    socialTariff: true,
    prices: { convencional: CONVENCIONAL },
    flags: new Map(),
    rules: RULES,
    presentationDay: '2026-06-10',
  });
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(150), price('0.70697'), cents('106.05'), cents('1.27'), cents('5.84'), cents('24.84'), cents('137.99')], // 106,0455 / 0,9372 / 0,82 = 137,9866...
      // 0,70697 x 0,65 = 0,4595305 off 30 kWh = 13,785915; taxed 17,9380 -> -17,94
      ['tarifa_social', kwh(30), -price('0.4595305'), -cents('13.79'), -cents('0.16'), -cents('0.76'), -cents('3.23'), -cents('17.94')],
      // 0,282788 x 70 = 19,79516; taxed 25,7573 -> -25,76
      ['tarifa_social', kwh(70), -price('0.282788'), -cents('19.80'), -cents('0.24'), -cents('1.09'), -cents('4.64'), -cents('25.76')],
      // 0,070697 x 50 = 3,53485; taxed 4,5996 -> -4,60
      ['tarifa_social', kwh(50), -price('0.070697'), -cents('3.53'), -cents('0.04'), -cents('0.19'), -cents('0.83'), -cents('4.60')],
    ],
    subtotal: cents('68.93'),
    taxes: [
      ['ICMS', cents('89.69'), cents('16.14')], // 150 kWh in 31 days is more than 3 kWh a day: no exemption
      ['PIS', cents('73.55'), cents('0.83')],
      ['COFINS', cents('73.55'), cents('3.80')],
    ],
    cip: cents('12.50'),
    total: cents('102.19'), // 137,99 - 17,94 - 25,76 - 4,60 + 12,50
  });
  t.equal(invoice.icmsExemption, undefined);
});

t.test('due dates: 5 working days after presentation at least (REN 1.000 art. 337, II), counted without the day itself (art. 656 § 2º), never on a weekend or holiday (art. 339)', async (t) => {
  t.equal(dueDayOf('2026-06-10', 10, '2026-06-10'), '2026-06-22', 'the schedule (Saturday 20/06) moved to Monday');
  t.equal(dueDayOf('2026-06-10', 10, '2026-12-06'), '2026-12-11', 'a reissue on Sunday 06/12/2026: its own due date, 5 working days later (7-11/12)');
  t.equal(dueDayOf('2026-06-10', 10, '2026-12-04'), '2026-12-11', 'presented on Friday 04/12: 7, 8, 9, 10, 11/12');
  t.equal(dueDayOf('2026-11-10', 0, '2026-11-13'), '2026-11-23', 'presented on Friday 13/11/2026: 16, 17, 18, 19 (20/11 is a national holiday since 2024), 23/11');
  t.equal(dueDayOf('2026-04-01', 2, '2026-03-31'), '2026-04-08', 'across Good Friday (03/04/2026): 1, 2, 6, 7, 8/04');
  t.equal(dueDayOf('2026-12-20', 5, '2026-12-21'), '2026-12-29', 'across Christmas: 22, 23, 24, 28, 29/12 (the schedule, 25/12, is earlier)');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3650 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 400 }), (offset, dueDays, late) => {
      const day = (n: number): string => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
      const end = day(offset);
      const presented = day(offset + late);
      const due = dueDayOf(end, dueDays, presented);
      const working = (d: string): boolean => isWorkingDay(Date.parse(`${d}T00:00:00Z`));
      let count = 0;
      for (let d = day(offset + late + 1); d <= due; d = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)) if (working(d)) count++;
      return working(due) && count >= 5 && due >= day(offset + dueDays);
    }),
  );
});

t.test('refusals: no tariff in force, tarifa social with branca, a cycle of no days', async (t) => {
  const base: CycleToBill = { startDay: '2024-12-20', endDay: '2025-01-20', consumption: kwh(100), modality: 'convencional', connection: 'trifasica', socialTariff: false, prices: { convencional: CONVENCIONAL }, flags: new Map(), rules: RULES, presentationDay: '2025-01-20' };
  const refusal = (cycle: CycleToBill): DomainError | undefined => {
    try {
      computeInvoice(cycle);
      return undefined;
    } catch (error) {
      return error instanceof DomainError ? error : undefined;
    }
  };
  t.equal(refusal(base)?.code, 'tarifa_indisponivel');
  t.match(refusal(base)?.message, '20/12/2024', 'names the first day without a tariff');
  t.equal(refusal({ ...base, startDay: '2025-02-01', endDay: '2025-03-01', modality: 'branca', socialTariff: true })?.code, 'tarifa_social_branca');
  t.equal(refusal({ ...base, startDay: '2025-02-01', endDay: '2025-02-01' })?.code, 'ciclo_invalido');
});

t.test('pro rata by days when the tariff changes within the cycle: each printed quantity within half a Wh of its exact share', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 29 }), fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.integer({ min: 100, max: 99_999 }), fc.integer({ min: 100, max: 99_999 }), (changeDay, consumption, p1, p2) => {
      const prices: PriceVersion[] = [
        { from: '2025-01-01', to: `2026-03-${String(changeDay).padStart(2, '0')}`, te: BigInt(p1) * 1000n, tusd: 0n },
        { from: `2026-03-${String(changeDay + 1).padStart(2, '0')}`, to: null, te: BigInt(p2) * 1000n, tusd: 0n },
      ];
      const invoice = computeInvoice({ startDay: '2026-03-01', endDay: '2026-03-31', consumption, modality: 'convencional', connection: 'monofasica', socialTariff: false, prices: { convencional: prices }, flags: new Map(), rules: { ...RULES, minimumKwh: { monofasica: 0, bifasica: 0, trifasica: 0 } }, presentationDay: '2026-03-31' });
      const energy = invoice.items.filter((item) => item.kind === 'energia');
      if (energy.length !== 2) return false;
      const [a, b] = energy as [(typeof energy)[0], (typeof energy)[0]];
      // Days 1..changeDay at the first price, the rest (30 - changeDay) at the second: a's exact share is consumption x changeDay / 30.
      const near = (printed: bigint, days: number): boolean => {
        const diff = printed * 30n - consumption * BigInt(days);
        return (diff < 0n ? -diff : diff) <= 15n;
      };
      return near(a.quantity, changeDay) && near(b.quantity, 30 - changeDay) && a.unitPrice === BigInt(p1) * 1000n && b.unitPrice === BigInt(p2) * 1000n;
    }),
  );
});

t.test('NBR 5891 rounding: below half keeps, above half raises, exactly half leaves the last digit even; symmetric for negatives', async (t) => {
  t.same([ratio(42345n, 1000n), ratio(42355n, 1000n), ratio(423451n, 10000n), ratio(42344999n, 1000000n), ratio(-42345n, 1000n), ratio(1n, 3n), ratio(2n, 3n)].map((r) => roundNbr5891(r, 2)), [4234n, 4236n, 4235n, 4234n, -4234n, 33n, 67n]);
  // Against a reference on decimal text: the digits after the kept ones decide.
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 0, max: 6 }), (units, drop) => {
      const value = ratio(units, 10n ** BigInt(drop + 2));
      const magnitude = (units < 0n ? -units : units).toString().padStart(drop + 1, '0');
      const kept = BigInt(magnitude.slice(0, magnitude.length - drop) || '0');
      const rest = magnitude.slice(magnitude.length - drop);
      const half = drop === 0 ? 'x' : `5${'0'.repeat(drop - 1)}`;
      const up = drop > 0 && (rest > half || (rest === half && kept % 2n === 1n));
      const expected = (kept + (up ? 1n : 0n)) * (units < 0n ? -1n : 1n);
      return roundNbr5891(value, 2) === expected;
    }),
  );
});

t.test('the Tema 69 gross-up is exact: the line is its value plus PIS, COFINS and ICMS; ICMS on the whole, PIS/COFINS on the whole less ICMS', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 0, max: 120_000 }), (units, icmsRate, pisRate, cofinsRate) => {
      const net = ratio(units, 10n ** 11n);
      const r = grossUp(net, BigInt(icmsRate), { pis: BigInt(pisRate), cofins: BigInt(cofinsRate) });
      const eq = (a: { num: bigint; den: bigint }, b: { num: bigint; den: bigint }): boolean => a.num * b.den === b.num * a.den;
      const plus = (...xs: Array<{ num: bigint; den: bigint }>) => xs.reduce((acc, x) => ratio(acc.num * x.den + x.num * acc.den, acc.den * x.den), ratio(0n));
      const times = (x: { num: bigint; den: bigint }, millionths: number) => ratio(x.num * BigInt(millionths), x.den * 1_000_000n);
      return eq(plus(net, r.pis, r.cofins, r.icms), r.gross) && eq(r.icms, times(r.gross, icmsRate)) && eq(r.pis, times(r.pisCofinsBase, pisRate)) && eq(r.cofins, times(r.pisCofinsBase, cofinsRate)) && eq(plus(r.pisCofinsBase, r.icms), r.gross);
    }),
  );
});

t.test('random invoices: the total is the sum of the printed line values and the CIP; each line prints its own taxes; bases are the sums of the lines', async (t) => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 7n }),
      fc.boolean(),
      fc.constantFrom<'monofasica' | 'bifasica' | 'trifasica'>('monofasica', 'bifasica', 'trifasica'),
      fc.integer({ min: 1, max: 27 }),
      fc.integer({ min: 0, max: 250_000 }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.integer({ min: 0, max: 90_000 }),
      (consumption, social, connection, changeDay, icms, pis, cofins) => {
        const prices: PriceVersion[] = [
          { from: '2025-01-01', to: `2026-02-${String(changeDay).padStart(2, '0')}`, te: price('0.29459'), tusd: price('0.41238') },
          { from: `2026-02-${String(changeDay + 1).padStart(2, '0')}`, to: null, te: price('0.31021'), tusd: price('0.44820') },
        ];
        const rules: BillingRules = { ...RULES, icms: { bands: [{ upToKwh: null, rate: BigInt(icms) }], socialTariffExemption: null }, pisCofins: { pis: BigInt(pis), cofins: BigInt(cofins) } };
        const invoice = computeInvoice({ startDay: '2026-02-10', endDay: '2026-03-10', consumption, modality: 'convencional', connection, socialTariff: social, prices: { convencional: prices, tarifa_social_1: prices, tarifa_social_2: prices }, flags: new Map([['2026-02', { flag: 'vermelha_2', additional: price('0.07877') }]]), rules, presentationDay: '2026-03-10' });
        const sum = (pick: (item: (typeof invoice.items)[number]) => bigint): bigint => invoice.items.reduce((s, item) => s + pick(item), 0n);
        const [icmsLine, pisLine, cofinsLine] = invoice.taxes;
        return (
          invoice.total === sum((i) => i.cents) + invoice.cip &&
          invoice.subtotal === sum((i) => i.netCents) &&
          icmsLine?.base === sum((i) => i.cents) &&
          icmsLine.cents === sum((i) => i.taxes.icms) &&
          pisLine?.base === sum((i) => i.taxes.pisCofinsBase) &&
          pisLine.cents === sum((i) => i.taxes.pis) &&
          cofinsLine?.cents === sum((i) => i.taxes.cofins) &&
          invoice.items.every((i) => i.taxes.icmsBase === i.cents && (i.cents - i.netCents - i.taxes.pis - i.taxes.cofins - i.taxes.icms) ** 2n <= 4n)
        );
      },
    ),
  );
  t.same(splitExact(10n, [1n, 1n, 1n]), [4n, 3n, 3n], 'ties go to the earlier weight');
});

t.test("golden: a tariff change inside the cycle prices the energy and the minimum's complement pro rata by days", async (t) => {
  const invoice = computeInvoice({
    startDay: '2026-05-13',
    endDay: '2026-06-12', // 30 days: 15 at the old tariff (13-27/05), 15 at the new (28/05-11/06)
    consumption: kwh(20),
    modality: 'convencional',
    connection: 'monofasica',
    socialTariff: false,
    prices: { convencional: [{ from: '2025-05-28', to: '2026-05-27', te: price('0.29459'), tusd: price('0.41238') }, { from: '2026-05-28', to: null, te: price('0.31021'), tusd: price('0.44820') }] },
    flags: new Map(),
    rules: RULES,
    presentationDay: '2026-06-10',
  });
  t.same(summary(invoice).items, [
    ['energia', kwh(10), price('0.70697'), cents('7.07'), cents('0.08'), cents('0.39'), cents('1.66'), cents('9.20')], // 10 x 0,70697 = 7,0697 -> 9,1993
    ['energia', kwh(10), price('0.75841'), cents('7.58'), cents('0.09'), cents('0.42'), cents('1.78'), cents('9.87')], // 7,5841 -> 9,8687
    ['disponibilidade', kwh(5), price('0.70697'), cents('3.53'), cents('0.04'), cents('0.19'), cents('0.83'), cents('4.60')], // 3,53485 -> 4,5997
    ['disponibilidade', kwh(5), price('0.75841'), cents('3.79'), cents('0.05'), cents('0.21'), cents('0.89'), cents('4.93')], // 3,79205 -> 4,9343
  ]);
  t.equal(invoice.total, cents('33.60'), '9,20 + 9,87 + 4,60 + 4,93 + CIP 5,00');
});

t.test('golden: a Tarifa Social household of at most 3 kWh a day pays no ICMS (MG), and says why', async (t) => {
  // April 2025: the bands of Lei 12.212/2010 still.
  const invoice = computeInvoice({ startDay: '2025-04-01', endDay: '2025-05-01', consumption: kwh(60), modality: 'convencional', connection: 'monofasica', socialTariff: true, prices: { convencional: CONVENCIONAL }, flags: new Map(), rules: RULES, presentationDay: '2025-05-01' });
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(60), price('0.70697'), cents('42.42'), cents('0.51'), cents('2.34'), 0n, cents('45.26')], // 42,4182 / 0,9372 = 45,2605
      ['tarifa_social', kwh(30), -price('0.4595305'), -cents('13.79'), -cents('0.16'), -cents('0.76'), 0n, -cents('14.71')],
      ['tarifa_social', kwh(30), -price('0.282788'), -cents('8.48'), -cents('0.10'), -cents('0.47'), 0n, -cents('9.05')],
    ],
    subtotal: cents('20.15'),
    taxes: [
      ['ICMS', cents('21.50'), 0n],
      ['PIS', cents('21.50'), cents('0.25')],
      ['COFINS', cents('21.50'), cents('1.11')],
    ],
    cip: cents('5.00'),
    total: cents('26.50'),
  });
  t.match(invoice.icmsExemption, /baixa renda/);
  t.equal(icmsFor(RULES.icms, kwh(93), 31, true).rate, 0n, '93 kWh in 31 days is 3 kWh a day: exempt');
  t.equal(icmsFor(RULES.icms, kwh(93.001), 31, true).rate, rate('0.18'), 'a Wh more is not');
  t.equal(icmsFor(RULES.icms, kwh(10), 31, false).rate, rate('0.18'), 'without the Tarifa Social, never');
  const bands = { bands: [{ upToKwh: 50, rate: 0n }, { upToKwh: 200, rate: rate('0.12') }, { upToKwh: null, rate: rate('0.18') }], socialTariffExemption: null };
  t.same([kwh(50), kwh(51), kwh(200), kwh(200.001)].map((c) => icmsFor(bands, c, 30, false).rate), [0n, rate('0.12'), rate('0.12'), rate('0.18')], 'the band that holds the consumption sets the rate of the whole invoice');
});

t.test('golden: Tarifa Branca from readings across postos, a national holiday and a weekend; the minimum on the total', async (t) => {
  const zone = 'America/Sao_Paulo';
  const hours = { ponta: [[18 * 60, 21 * 60]] as Array<[number, number]>, intermediario: [[17 * 60, 18 * 60], [21 * 60, 22 * 60]] as Array<[number, number]> };
  const cycle = cycleEndingIn('2026-04', 20, zone); // 20/03/2026 to 20/04/2026, 31 days
  // São Paulo is UTC-3 all year: local h:mm is UTC h+3.
  const at = (day: string, hh: number, mm = 0) => Date.parse(`${day}T00:00:00Z`) + (hh + 3) * 3_600_000 + mm * 60_000;
  const points = [
    { timestamp: cycle.start, register: kwh(1000) },
    { timestamp: at('2026-04-01', 17), register: kwh(1000) }, // nothing until Wednesday 17:00
    { timestamp: at('2026-04-01', 19), register: kwh(1010) }, // 17-18 intermediário, 18-19 ponta: 5 + 5
    { timestamp: at('2026-04-03', 18), register: kwh(1010) },
    { timestamp: at('2026-04-03', 20), register: kwh(1016) }, // Good Friday, a national holiday: 6 fora de ponta
    { timestamp: at('2026-04-04', 18), register: kwh(1016) },
    { timestamp: at('2026-04-04', 19), register: kwh(1020) }, // Saturday: 4 fora de ponta
    { timestamp: at('2026-04-06', 21, 30), register: kwh(1020) },
    { timestamp: at('2026-04-06', 22, 30), register: kwh(1030) }, // Monday 21:30-22:00 intermediário, 22:00-22:30 fora: 5 + 5
    { timestamp: cycle.end, register: kwh(1030) },
  ];
  const byPosto = consumptionByPosto(points, zone, hours);
  t.same(byPosto, { ponta: kwh(5), intermediario: kwh(10), fora_ponta: kwh(15) });
  const branca = (te: string, tusd: string): PriceVersion[] => [{ from: '2025-07-01', to: null, te: price(te), tusd: price(tusd) }];
  const invoice = computeInvoice({
    startDay: cycle.startDay,
    endDay: cycle.endDay,
    consumption: kwh(30),
    byPosto,
    modality: 'branca',
    connection: 'bifasica', // minimum 50 kWh
    socialTariff: false,
    prices: { ponta: branca('0.48', '1.40'), intermediario: branca('0.30', '0.90'), fora_ponta: branca('0.27', '0.35') },
    flags: new Map([['2026-04', { flag: 'amarela', additional: price('0.01885') }]]), // March unset: verde
    rules: RULES,
    presentationDay: '2026-06-10',
  });
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(5), price('1.88'), cents('9.40'), cents('0.11'), cents('0.52'), cents('2.20'), cents('12.23')], // 9,40 / 0,9372 / 0,82 = 12,2311
      ['energia', kwh(10), price('1.20'), cents('12.00'), cents('0.14'), cents('0.66'), cents('2.81'), cents('15.61')], // 15,6142
      ['energia', kwh(15), price('0.62'), cents('9.30'), cents('0.11'), cents('0.51'), cents('2.18'), cents('12.10')], // 12,1010
      ['disponibilidade', kwh(20), price('0.62'), cents('12.40'), cents('0.15'), cents('0.68'), cents('2.90'), cents('16.14')], // 50 - 30 kWh at fora de ponta: 16,1351
      // 50 kWh x 19/31 (April) = 30,64516... kWh (printed 30,645) x 0,01885 = 0,57766; taxed 0,75164 -> 0,75
      ['bandeira', kwh(30.645), price('0.01885'), cents('0.58'), cents('0.01'), cents('0.03'), cents('0.14'), cents('0.75')],
    ],
    subtotal: cents('43.68'),
    taxes: [
      ['ICMS', cents('56.83'), cents('10.23')],
      ['PIS', cents('46.60'), cents('0.52')],
      ['COFINS', cents('46.60'), cents('2.40')],
    ],
    cip: cents('5.00'),
    total: cents('61.83'),
  });
  t.same(invoice.flags.map((f) => [f.month, f.flag, f.days, f.kwh]), [
    ['2026-03', 'verde', 12, kwh(19.355)],
    ['2026-04', 'amarela', 19, kwh(30.645)],
  ]);
});

/** CEMIG-D's rows from 28/05/2026 (REH 3.589/2026), R$/MWh ÷ 1000: residential, Tarifa Social (both bands), Desconto Social by band. */
const row = (te: string, tusd: string): PriceVersion[] => [{ from: '2026-05-28', to: '2027-05-27', te: price(te), tusd: price(tusd) }];
const SOCIAL_PRICES = {
  convencional: row('0.31021', '0.59308'),
  tarifa_social_1: row('0.29702', '0.41831'),
  tarifa_social_2: row('0.29702', '0.41831'),
  desconto_social_1: row('0.30876', '0.42767'),
  desconto_social_2: row('0.31021', '0.59308'),
};
const june = (consumption: number, benefit: 'tarifa_social' | 'desconto_social', connection: 'monofasica' | 'trifasica' = 'monofasica') =>
  computeInvoice({ startDay: '2026-06-10', endDay: '2026-07-10', consumption: kwh(consumption), modality: 'convencional', connection, socialTariff: false, benefit, prices: SOCIAL_PRICES, flags: new Map(), rules: RULES, presentationDay: '2026-07-10' });

t.test('golden: the Tarifa Social since Lei 15.235/2025 from the tariff file\'s rows: 60 kWh are free (ICMS exempt at 2 kWh a day): only the CIP', async (t) => {
  const invoice = june(60, 'tarifa_social');
  t.same(summary(invoice), {
    items: [
      // 60 x 0,71533 = 42,9198; / 0,9372 = 45,7958... (ICMS exempt) -> 45,80; the benefit takes it all back.
      ['energia', kwh(60), price('0.71533'), cents('42.92'), cents('0.51'), cents('2.36'), 0n, cents('45.80')],
      ['tarifa_social', kwh(60), -price('0.71533'), -cents('42.92'), -cents('0.51'), -cents('2.36'), 0n, -cents('45.80')],
    ],
    subtotal: 0n,
    taxes: [
      ['ICMS', 0n, 0n],
      ['PIS', 0n, 0n],
      ['COFINS', 0n, 0n],
    ],
    cip: cents('5.00'),
    total: cents('5.00'),
  });
  t.match(invoice.items[1]?.description, 'Benefício Tarifa Social: 100% até 80 kWh (Lei 15.235/2025)');
});

t.test('golden: the Tarifa Social at 150 kWh: 80 free, 70 at the tariff; 5 kWh a day pays ICMS', async (t) => {
  const invoice = june(150, 'tarifa_social');
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(80), price('0.71533'), cents('57.23'), cents('0.68'), cents('3.15'), cents('13.40'), cents('74.46')], // 57,2264 / 0,768504 = 74,4646...
      ['energia', kwh(70), price('0.71533'), cents('50.07'), cents('0.60'), cents('2.76'), cents('11.73'), cents('65.16')], // 50,0731 -> 65,1566...
      ['tarifa_social', kwh(80), -price('0.71533'), -cents('57.23'), -cents('0.68'), -cents('3.15'), -cents('13.40'), -cents('74.46')],
    ],
    subtotal: cents('50.07'),
    taxes: [
      ['ICMS', cents('65.16'), cents('11.73')],
      ['PIS', cents('53.43'), cents('0.60')],
      ['COFINS', cents('53.43'), cents('2.76')],
    ],
    cip: cents('12.50'),
    total: cents('77.66'),
  });
});

t.test('golden: the Desconto Social since 01/01/2026: up to 120 kWh at the faixa 01 row (no CDE quota), the rest at faixa 02', async (t) => {
  t.same(summary(june(100, 'desconto_social')).items, [['energia', kwh(100), price('0.73643'), cents('73.64'), cents('0.88'), cents('4.05'), cents('17.25'), cents('95.83')]]);
  const invoice = june(150, 'desconto_social');
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(120), price('0.73643'), cents('88.37'), cents('1.06'), cents('4.87'), cents('20.70'), cents('114.99')],
      ['energia', kwh(30), price('0.90329'), cents('27.10'), cents('0.32'), cents('1.49'), cents('6.35'), cents('35.26')],
    ],
    subtotal: cents('115.47'),
    taxes: [
      ['ICMS', cents('150.25'), cents('27.05')],
      ['PIS', cents('123.20'), cents('1.38')],
      ['COFINS', cents('123.20'), cents('6.36')],
    ],
    cip: cents('12.50'),
    total: cents('162.75'),
  });
});

t.test('the benefits reach the minimum: a Tarifa Social household of 20 kWh pays nothing for energy; a trifásica one of 40 kWh pays for 20 of its 100', async (t) => {
  const small = june(20, 'tarifa_social');
  t.same(small.items.map((i) => [i.kind, i.quantity, i.cents]), [
    ['energia', kwh(20), cents('15.27')], // 20 x 0,71533 / 0,9372 = 15,2654... (ICMS exempt)
    ['disponibilidade', kwh(10), cents('7.63')], // 7,6327...
    ['tarifa_social', kwh(30), -cents('22.90')], // 22,8981... one line over the 30 kWh billed
  ]);
  t.equal(small.total, cents('5.00'), 'only the CIP');
  const tri = june(40, 'tarifa_social', 'trifasica');
  t.same(tri.items.map((i) => [i.kind, i.quantity]), [
    ['energia', kwh(40)],
    ['disponibilidade', kwh(40)], // the complement up to 80 kWh in faixa 1
    ['disponibilidade', kwh(20)], // the rest of the 100 in faixa 2
    ['tarifa_social', kwh(80)],
  ]);
  t.equal(tri.billable, kwh(100));
});

t.test('the rule of its time: a Tarifa Social cycle ending before 05/07/2025 by the old bands, one ending after by the rows; the Desconto Social only from 2026', async (t) => {
  const prices = { convencional: CONVENCIONAL, tarifa_social_1: CONVENCIONAL, tarifa_social_2: CONVENCIONAL, desconto_social_1: CONVENCIONAL, desconto_social_2: CONVENCIONAL };
  const cycle = (startDay: string, endDay: string, benefit: 'tarifa_social' | 'desconto_social') => computeInvoice({ startDay, endDay, consumption: kwh(100), modality: 'convencional', connection: 'monofasica', socialTariff: false, benefit, prices, flags: new Map(), rules: RULES, presentationDay: endDay });
  t.same(cycle('2025-06-05', '2025-07-05', 'tarifa_social').items.map((i) => i.kind), ['energia', 'tarifa_social', 'tarifa_social'], 'last day 04/07/2025: 65% and 40% bands');
  t.match(cycle('2025-06-06', '2025-07-06', 'tarifa_social').items.at(-1)?.description, '100% até 80 kWh', 'last day 05/07/2025: the law in force');
  t.same(cycle('2025-12-01', '2026-01-01', 'desconto_social').items.map((i) => i.description), ['Energia elétrica (TE + TUSD)'], 'December 2025: no Desconto Social yet');
  t.match(cycle('2025-12-02', '2026-01-02', 'desconto_social').items[0]?.description, 'Desconto Social, faixa 1');
  t.equal(benefitOn({ kind: 'desconto_social', from: '2026-01-01', to: '2026-06-30' }, true, '2026-07-01'), null, 'a recorded benefit decides alone, by its validity');
  t.equal(benefitOn(undefined, true, '2026-07-01'), 'tarifa_social', 'the undated flag, when none is recorded');
});
