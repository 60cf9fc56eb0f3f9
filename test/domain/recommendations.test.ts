/** Recommendations: each rule fires and stays quiet on hand-made facts (pure). End to end: test/server/recommendations.test.ts. */
import t from 'tap';
import { recommend, type RecommendationFacts } from '../../domain/recommendations.js';

const PRICE = 80_000n; // R$ 0.80 a kWh, in 10^-3 cents
const codes = (facts: RecommendationFacts) => recommend(facts).map((r) => r.code);

t.test('tarifa_branca: only for a convencional customer whom the white tariff would have cost less', async (t) => {
  const base = { priceMilliCentsPerKwh: PRICE };
  const cheaper = recommend({ ...base, modality: { current: 'convencional', compared: 3, conventional: 30_000n, white: 27_000n } });
  t.same(cheaper.map((r) => [r.code, r.savingCents, r.savingKwh]), [['tarifa_branca', 1000n, 0n]], 'R$ 30 less over 3 cycles: R$ 10 a month');
  t.same(codes({ ...base, modality: { current: 'convencional', compared: 3, conventional: 27_000n, white: 30_000n } }), [], 'dearer');
  t.same(codes({ ...base, modality: { current: 'branca', compared: 3, conventional: 30_000n, white: 27_000n } }), [], 'already on it');
  t.same(codes({ ...base, modality: { current: 'convencional', compared: 0, conventional: 0n, white: 0n } }), [], 'nothing compared');
});

t.test('consumo_base_noturno: above 150 W, half of it a month saved', async (t) => {
  const [night] = recommend({ priceMilliCentsPerKwh: PRICE, baseload: { watts: 300n, nights: 14 } });
  t.same([night?.code, night?.savingKwh, night?.savingCents], ['consumo_base_noturno', 109_500n, 8760n], '150 W x 730 h = 109.5 kWh, at R$ 0.80 = R$ 87.60');
  t.same(codes({ priceMilliCentsPerKwh: PRICE, baseload: { watts: 150n, nights: 14 } }), [], '150 W is not above');
  t.equal(recommend({ priceMilliCentsPerKwh: null, baseload: { watts: 300n, nights: 3 } })[0]?.savingCents, 0n, 'no price known: no reais');
});

t.test('consumption up against the previous cycle and last year: over 20% only', async (t) => {
  const up = recommend({ priceMilliCentsPerKwh: PRICE, forecast: { projected: 250_000n, previous: 200_000n, lastYear: 100_000n } });
  t.same(up.map((r) => [r.code, r.savingKwh]), [['consumo_acima_ciclo_anterior', 50_000n], ['consumo_acima_ano_anterior', 150_000n]]);
  t.match(up[0]?.title, /25% mais consumo que o ciclo anterior/);
  t.same(codes({ priceMilliCentsPerKwh: PRICE, forecast: { projected: 240_000n, previous: 200_000n, lastYear: null } }), [], 'exactly 20%: quiet');
});

t.test('meta_em_risco: the forecast past the goal, in kWh or in reais', async (t) => {
  t.same(recommend({ priceMilliCentsPerKwh: PRICE, goal: { kind: 'kwh', goal: 100_000n, projected: 130_000n } }).map((r) => [r.code, r.savingKwh, r.savingCents]), [['meta_em_risco', 30_000n, 2400n]]);
  t.same(recommend({ priceMilliCentsPerKwh: PRICE, goal: { kind: 'valor', goal: 10_000n, projected: 12_000n } }).map((r) => [r.savingKwh, r.savingCents]), [[25_000n, 2000n]], 'R$ 20 over at R$ 0.80: 25 kWh');
  t.same(codes({ priceMilliCentsPerKwh: PRICE, goal: { kind: 'kwh', goal: 100_000n, projected: 100_000n } }), []);
});
