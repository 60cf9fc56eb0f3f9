/**
 * `/consumo` priced by the billing rules when they are configured (issue
 * 27 §4: a card read "155 kWh · R$ 465,00 a R$ 3,00/kWh" while the invoice
 * for 150 kWh was R$ 197,28): the tariff in force, the month's bandeira and
 * the taxes, worked by hand below; the flat TARIFA only without billing,
 * and said so. The estimate's arithmetic is a property test against a
 * rational reference.
 */
import fc from 'fast-check';
import t from 'tap';
import { estimateCents, unitPriceOn, withTaxes, type EstimateRules } from '../../domain/billing/estimate.js';
import { startTestServer, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { billingReadyServer, send } from './billing-fixtures.js';
import { DAY_MS } from '../../protocol/timestamp.js';

const op = { token: TEST_OPERATOR_TOKEN };

t.test('a day of 10 kWh: R$ 9,20 at the tariff with taxes, R$ 9,44 with the bandeira amarela; the flat TARIFA without billing', async (t) => {
  const server = await billingReadyServer(t, { TZ_LEGADO: 'UTC', TARIFA: '3' });
  const port = server.http.port;
  // 2.5 kWh every 6 h from 2 to 5 May 2026 (UTC): 10 kWh on the 3rd.
  const readings = Array.from({ length: 13 }, (_, i) => ({ matricula: '13456789', timestamp: Date.UTC(2026, 4, 2) + i * 6 * 3_600_000, consumo: 1_000_000n + BigInt(i) * 2500n }));
  await server.stores.store.append(readings);
  const query = '/consumo?matricula=13456789&agrupar=dia&inicio=2026-05-03&fim=2026-05-04&fuso=UTC';
  let answer = (await send(port, 'GET', query, undefined, op)).json;
  // 10 kWh x (0,29459 + 0,41238) = 7,0697 net; ÷ (1 − 0,0112 − 0,0516) ÷ (1 − 0,18) = 9,19930... → 9,20 (Tema 69). R$/kWh with taxes: 0,70697 ÷ 0,768504 = 0,919930150... → 0,91993015.
  t.same(answer.precificacao, { origem: 'faturamento', estimativa: true, distribuidora: 'TESTE-D', modalidade: 'convencional', inclui: ['energia', 'bandeira', 'tributos'], faturamento_configurado: true });
  t.same([answer.consumo_total, answer.tarifa, answer.valor_total, answer.periodos[0].valor], [10, 0.91993015, 9.2, 9.2]);
  t.equal((await send(port, 'PUT', '/faturamento/bandeiras/2026-05', { bandeira: 'amarela', adicional_kwh: '0.01885' }, op)).status, 201);
  answer = (await send(port, 'GET', query, undefined, op)).json;
  // 10 x (0,70697 + 0,01885) = 7,2582; ÷ 0,768504 = 9,44458... → 9,44; R$/kWh 0,72582 ÷ 0,768504 = 0,944458324... → 0,94445832.
  t.same([answer.tarifa, answer.valor_total, answer.periodos[0].valor], [0.94445832, 9.44, 9.44]);

  const flat = await startTestServer(t, { env: { TARIFA: '3' } });
  await flat.stores.store.append(readings);
  answer = (await send(flat.http.port, 'GET', query, undefined, op)).json;
  t.same([answer.precificacao, answer.tarifa, answer.valor_total], [{ origem: 'tarifa_fixa', estimativa: false, faturamento_configurado: false }, 3, 30], 'no billing: the flat TARIFA, said so');
});

t.test('the estimate is the exact rational of the Tema 69 gross-up, rounded once (NBR 5891, half to even)', async () => {
  const rules = (te: bigint, tusd: bigint, additional: bigint, taxes: { icms: bigint; pis: bigint; cofins: bigint }): EstimateRules => ({
    modality: 'convencional',
    prices: { convencional: [{ from: '2000-01-01', to: null, te, tusd }] },
    flagAdditional: () => additional,
    taxes: () => taxes,
    postoHours: undefined,
    timeZone: 'UTC',
  });
  /** n / d rounded half to even, n >= 0, d > 0. */
  const roundHalfEven = (n: bigint, d: bigint): bigint => {
    const q = n / d;
    const r2 = 2n * (n % d);
    return r2 > d || (r2 === d && q % 2n === 1n) ? q + 1n : q;
  };
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 8n }), fc.bigInt({ min: 0n, max: 10n ** 8n }), fc.bigInt({ min: 0n, max: 10n ** 7n }), fc.bigInt({ min: 0n, max: 300_000n }), fc.bigInt({ min: 0n, max: 20_000n }), fc.bigInt({ min: 0n, max: 90_000n }), (kwh, te, tusd, additional, icms, pis, cofins) => {
      const taxes = { icms, pis, cofins };
      const cents = estimateCents({ start: 0, end: DAY_MS, day: '2026-05-03', consumption: kwh }, rules(te, tusd, additional, taxes));
      // kWh (10^-3) x price (10^-8) = 10^-11 R$, x 10^6 / (10^6 - PIS - COFINS) x 10^6 / (10^6 - ICMS), to cents: one division.
      const numerator = kwh * (te + tusd + additional) * 10n ** 12n;
      const denominator = (10n ** 6n - pis - cofins) * (10n ** 6n - icms) * 10n ** 9n;
      const unit = roundHalfEven((te + tusd + additional) * 10n ** 12n, (10n ** 6n - pis - cofins) * (10n ** 6n - icms));
      return cents === roundHalfEven(numerator, denominator) && unitPriceOn('2026-05-03', rules(te, tusd, additional, taxes)) === unit && withTaxes(te + tusd + additional, taxes) === unit;
    }),
  );
});
