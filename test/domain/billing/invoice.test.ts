/**
 * The invoice arithmetic: golden invoices worked out by hand here (each
 * figure's derivation in a comment), and properties against plain BigInt
 * references (pro rata by days, gross-up, the sum of the lines).
 */
import fc from 'fast-check';
import t from 'tap';
import { DomainError } from '../../../domain/errors.js';
import { computeInvoice, type BillingRules, type CycleToBill, type PriceVersion } from '../../../domain/billing/invoice.js';
import { grossUp, splitExact } from '../../../domain/billing/money.js';
import { consumptionByPosto, cycleEndingIn } from '../../../domain/billing/cycle.js';

/** R$/kWh with up to 8 places as 10^-8 units, written as a reader writes it. */
const price = (text: string): bigint => BigInt(Math.round(Number(text) * 1e8));
const rate = (text: string): bigint => BigInt(Math.round(Number(text) * 1e6));
const cents = (text: string): bigint => BigInt(Math.round(Number(text) * 100));
const kwh = (n: number): bigint => BigInt(Math.round(n * 1000));

const RULES: BillingRules = {
  taxes: { icms: rate('0.18'), pis: rate('0.0165'), cofins: rate('0.076') },
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

const summary = (invoice: ReturnType<typeof computeInvoice>) => ({
  items: invoice.items.map((item) => [item.kind, item.quantity, item.unitPrice, item.cents]),
  subtotal: invoice.subtotal,
  taxBase: invoice.taxBase,
  taxes: invoice.taxes.map((tax) => [tax.name, tax.cents]),
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
  });
  t.equal(invoice.days, 31);
  t.equal(invoice.billable, kwh(30));
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(24.5), price('0.70697'), cents('17.32')], // 24,5 x 0,70697 = 17,320765
      ['disponibilidade', kwh(5.5), price('0.70697'), cents('3.89')], // 5,5 x 0,70697 = 3,888335
      // 30 kWh pro rata 22:31 and 9:31 = 21,290.32 and 8,709.68 Wh: floors 21,290 and 8,709, the spare Wh to the larger remainder (June).
      ['bandeira', kwh(21.29), price('0.01885'), cents('0.40')], // 21,290 x 0,01885 = 0,4013165
      ['bandeira', kwh(8.71), price('0.04463'), cents('0.39')], // 8,710 x 0,04463 = 0,3887273
    ],
    subtotal: cents('22.00'),
    taxBase: cents('30.24'), // 22,00 / (1 - 0,2725) = 30,2405...
    taxes: [
      ['ICMS', cents('5.44')], // 30,24 x 0,18 = 5,4432
      ['PIS', cents('0.50')], // 30,24 x 0,0165 = 0,49896
      ['COFINS', cents('2.30')], // 30,24 x 0,076 = 2,29824
    ],
    cip: cents('5.00'), // 24,5 kWh: the band up to 100 kWh
    total: cents('35.24'), // 22,00 + 5,44 + 0,50 + 2,30 + 5,00
  });
  t.equal(invoice.dueDay, '2026-06-20', 'ten days after the cycle ends');
  t.same(
    invoice.flags.map((f) => [f.month, f.flag, f.days, f.kwh]),
    [
      ['2026-05', 'amarela', 22, kwh(21.29)],
      ['2026-06', 'vermelha_1', 9, kwh(8.71)],
    ],
  );
});

t.test('golden: tarifa social by bands, before taxes; the CIP of a larger consumption', async (t) => {
  const invoice = computeInvoice({
    startDay: '2026-01-05',
    endDay: '2026-02-05',
    consumption: kwh(150),
    modality: 'convencional',
    connection: 'bifasica',
    socialTariff: true,
    prices: { convencional: CONVENCIONAL },
    flags: new Map(),
    rules: RULES,
  });
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(150), price('0.70697'), cents('106.05')], // 106,0455
      ['tarifa_social', kwh(30), -price('0.4595305'), -cents('13.79')], // 0,70697 x 0,65 = 0,4595305; x 30 = 13,785915
      ['tarifa_social', kwh(70), -price('0.282788'), -cents('19.80')], // 0,70697 x 0,40 = 0,282788; x 70 = 19,79516
      ['tarifa_social', kwh(50), -price('0.070697'), -cents('3.53')], // 0,70697 x 0,10 = 0,070697; x 50 = 3,53485
    ],
    subtotal: cents('68.93'),
    taxBase: cents('94.75'), // 68,93 / 0,7275 = 94,7491...
    taxes: [
      ['ICMS', cents('17.06')], // 94,75 x 0,18 = 17,055: half-up
      ['PIS', cents('1.56')], // 1,563375
      ['COFINS', cents('7.20')], // 7,201
    ],
    cip: cents('12.50'),
    total: cents('107.25'),
  });
});

t.test('refusals: no tariff in force, tarifa social with branca, a cycle of no days', async (t) => {
  const base: CycleToBill = { startDay: '2024-12-20', endDay: '2025-01-20', consumption: kwh(100), modality: 'convencional', connection: 'trifasica', socialTariff: false, prices: { convencional: CONVENCIONAL }, flags: new Map(), rules: RULES };
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

t.test('pro rata by days when the tariff changes within the cycle: quantities add up, each within a Wh of its share', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 29 }), fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.integer({ min: 100, max: 99_999 }), fc.integer({ min: 100, max: 99_999 }), (changeDay, consumption, p1, p2) => {
      const prices: PriceVersion[] = [
        { from: '2025-01-01', to: `2026-03-${String(changeDay).padStart(2, '0')}`, te: BigInt(p1) * 1000n, tusd: 0n },
        { from: `2026-03-${String(changeDay + 1).padStart(2, '0')}`, to: null, te: BigInt(p2) * 1000n, tusd: 0n },
      ];
      const invoice = computeInvoice({ startDay: '2026-03-01', endDay: '2026-03-31', consumption, modality: 'convencional', connection: 'monofasica', socialTariff: false, prices: { convencional: prices }, flags: new Map(), rules: { ...RULES, minimumKwh: { monofasica: 0, bifasica: 0, trifasica: 0 } } });
      const energy = invoice.items.filter((item) => item.kind === 'energia');
      if (energy.length !== 2) return false;
      const [a, b] = energy as [(typeof energy)[0], (typeof energy)[0]];
      if (a.quantity + b.quantity !== consumption) return false;
      // Days 1..changeDay at the first price, the rest (30 - changeDay) at the second: a's exact share is consumption x changeDay / 30.
      const exact = consumption * BigInt(changeDay);
      return a.quantity * 30n <= exact + 30n && exact < (a.quantity + 1n) * 30n + 30n && a.unitPrice === BigInt(p1) * 1000n && b.unitPrice === BigInt(p2) * 1000n;
    }),
  );
});

t.test('gross-up and the total: base x (1 - rates) is the subtotal to within half a cent; the total is the sum of the lines', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 10n }), fc.integer({ min: 0, max: 900_000 }), (subtotal, rateMillionths) => {
      const r = BigInt(rateMillionths);
      const base = grossUp(subtotal, r);
      // |base x (1e6 - r) - subtotal x 1e6| <= (1e6 - r) / 2
      const diff = base * (1_000_000n - r) - subtotal * 1_000_000n;
      return (diff < 0n ? -diff : diff) * 2n <= 1_000_000n - r;
    }),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 7n }), fc.boolean(), (consumption, social) => {
      const invoice = computeInvoice({ startDay: '2026-02-10', endDay: '2026-03-10', consumption, modality: 'convencional', connection: 'trifasica', socialTariff: social, prices: { convencional: CONVENCIONAL }, flags: new Map([['2026-02', { flag: 'vermelha_2', additional: price('0.07877') }]]), rules: RULES });
      const lines = invoice.items.reduce((sum, item) => sum + item.cents, 0n);
      return lines === invoice.subtotal && invoice.total === lines + invoice.taxes.reduce((sum, tax) => sum + tax.cents, 0n) + invoice.cip;
    }),
  );
  t.same(splitExact(10n, [1n, 1n, 1n]), [4n, 3n, 3n], 'ties go to the earlier weight');
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
  });
  t.same(summary(invoice), {
    items: [
      ['energia', kwh(5), price('1.88'), cents('9.40')],
      ['energia', kwh(10), price('1.20'), cents('12.00')],
      ['energia', kwh(15), price('0.62'), cents('9.30')],
      ['disponibilidade', kwh(20), price('0.62'), cents('12.40')], // 50 - 30 kWh at fora de ponta
      // 50 kWh pro rata 12:31 (March) and 19:31 (April): 19,354.8 and 30,645.2 Wh; the spare Wh to March's larger remainder.
      ['bandeira', kwh(30.645), price('0.01885'), cents('0.58')], // 30,645 x 0,01885 = 0,57765825
    ],
    subtotal: cents('43.68'),
    taxBase: cents('60.04'), // 43,68 / 0,7275 = 60,0412...
    taxes: [
      ['ICMS', cents('10.81')], // 10,8072
      ['PIS', cents('0.99')], // 0,99066
      ['COFINS', cents('4.56')], // 4,56304
    ],
    cip: cents('5.00'),
    total: cents('65.04'),
  });
  t.same(invoice.flags.map((f) => [f.month, f.flag, f.days, f.kwh]), [
    ['2026-03', 'verde', 12, kwh(19.355)],
    ['2026-04', 'amarela', 19, kwh(30.645)],
  ]);
});
