/**
 * The BillingRulesStore contract, run unchanged by both backends: parameter
 * versions, monthly bandeiras and emission factors stored exactly, replaced by key, listed in
 * order, durable across a reopen.
 */
import type { Test } from 'tap';
import { parametersOn, type BillingParameters, type BillingRulesStore } from '../../database/billing-rules-store.js';

export interface BillingRulesFixture {
  readonly rules: BillingRulesStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly rules: BillingRulesStore; close(): Promise<void> }>;
}

export const PARAMETERS: BillingParameters = {
  vigenciaInicio: '2026-01-01',
  icms: { bands: [{ upToKwh: 90, rate: 0n }, { upToKwh: null, rate: 180_000n }], socialTariffExemption: { maxDailyKwh: 3 } },
  minimumKwh: { monofasica: 30, bifasica: 50, trifasica: 100 },
  cip: [
    { upToKwh: 100, cents: 500n },
    { upToKwh: null, cents: 1250n },
  ],
  dueDays: 10,
  postoHours: { ponta: [[1080, 1260]], intermediario: [[1020, 1080], [1260, 1320]] },
  social: [
    { upToKwh: 30, discount: 650_000n },
    { upToKwh: 100, discount: 400_000n },
    { upToKwh: 220, discount: 100_000n },
  ],
};

export function billingRulesContract(t: Test, makeStores: (t: Test) => Promise<BillingRulesFixture>): void {
  t.test('billing rules: parameter versions and bandeiras, replaced by key, in order, durable', async (t) => {
    const fixture = await makeStores(t);
    const { rules } = fixture;
    t.same(await rules.listParameters(), []);
    const later: BillingParameters = { ...PARAMETERS, vigenciaInicio: '2026-07-01', icms: { bands: [{ upToKwh: null, rate: 200_000n }], socialTariffExemption: null } };
    t.equal(await rules.putParameters(later), 'created');
    t.equal(await rules.putParameters(PARAMETERS), 'created');
    t.same(await rules.listParameters(), [PARAMETERS, later], 'oldest first, exactly as stored');
    const corrected = { ...later, dueDays: 15 };
    t.equal(await rules.putParameters(corrected), 'replaced', 'the same start replaces');
    t.same((await rules.listParameters()).map((p) => p.dueDays), [10, 15]);
    t.equal(parametersOn(await rules.listParameters(), '2026-06-30')?.vigenciaInicio, '2026-01-01');
    t.equal(parametersOn(await rules.listParameters(), '2026-07-01')?.vigenciaInicio, '2026-07-01');
    t.equal(parametersOn(await rules.listParameters(), '2025-12-31'), undefined);

    t.equal(await rules.putFlag({ month: '2026-05', flag: 'amarela', additional: 1_885_000n }), 'created');
    t.equal(await rules.putFlag({ month: '2026-06', flag: 'vermelha_1', additional: 4_463_000n }), 'created');
    t.equal(await rules.putFlag({ month: '2026-05', flag: 'verde', additional: 0n }), 'replaced');
    t.same(await rules.listFlags('2026-01', '2026-12'), [
      { month: '2026-05', flag: 'verde', additional: 0n },
      { month: '2026-06', flag: 'vermelha_1', additional: 4_463_000n },
    ]);
    t.same(await rules.listFlags('2026-06', '2026-06'), [{ month: '2026-06', flag: 'vermelha_1', additional: 4_463_000n }], 'inclusive bounds');
    await fixture.close();
    const again = await fixture.reopen();
    t.same((await again.rules.listParameters()).map((p) => [p.vigenciaInicio, p.dueDays, p.icms.bands.map((band) => band.rate)]), [
      ['2026-01-01', 10, [0n, 180_000n]],
      ['2026-07-01', 15, [200_000n]],
    ]);
    t.same((await again.rules.listParameters())[0], PARAMETERS, 'every field survives');
    t.equal((await again.rules.listFlags('2026-05', '2026-05'))[0]?.flag, 'verde');
    await again.close();
  });

  t.test('distributor records: one per sigla, replaced, durable', async (t) => {
    const fixture = await makeStores(t);
    const { rules } = fixture;
    t.equal(await rules.distributor('CEMIG-D'), undefined);
    const record = { sigla: 'CEMIG-D', name: 'CEMIG Distribuição S.A.', cnpj: '06981180000116', address: 'Av. Barbacena, 1200, Belo Horizonte - MG', febrabanCode: '0138', pixKey: '06981180000116', pixCity: 'Belo Horizonte' };
    t.equal(await rules.putDistributor(record), 'created');
    t.equal(await rules.putDistributor({ ...record, pixKey: 'pix@cemig.com.br' }), 'replaced');
    t.equal(await rules.putDistributor({ ...record, sigla: 'TESTE-D', name: 'Distribuidora Teste S.A.' }), 'created');
    t.same((await rules.distributors()).map((r) => [r.sigla, r.pixKey]), [['CEMIG-D', 'pix@cemig.com.br'], ['TESTE-D', '06981180000116']]);
    await fixture.close();
    const again = await fixture.reopen();
    t.same(await again.rules.distributor('CEMIG-D'), { ...record, pixKey: 'pix@cemig.com.br' }, 'every field survives a restart');
    await again.close();
  });

  t.test('PIS/COFINS: one pair of effective rates per month, replaced by key, listed in month order within inclusive bounds, durable', async (t) => {
    const fixture = await makeStores(t);
    const { rules } = fixture;
    t.same(await rules.listPisCofins('0000-01', '9999-12'), []);
    t.equal(await rules.putPisCofins({ month: '2026-06', pis: 10_774n, cofins: 49_627n }), 'created');
    t.equal(await rules.putPisCofins({ month: '2026-05', pis: 11_200n, cofins: 51_600n }), 'created');
    t.equal(await rules.putPisCofins({ month: '2026-06', pis: 9_900n, cofins: 45_600n }), 'replaced');
    t.same(await rules.listPisCofins('2026-01', '2026-12'), [
      { month: '2026-05', pis: 11_200n, cofins: 51_600n },
      { month: '2026-06', pis: 9_900n, cofins: 45_600n },
    ]);
    t.same(await rules.listPisCofins('2026-06', '2026-06'), [{ month: '2026-06', pis: 9_900n, cofins: 45_600n }], 'inclusive bounds');
    await fixture.close();
    const again = await fixture.reopen();
    t.same(await again.rules.listPisCofins('2026-01', '2026-12'), [
      { month: '2026-05', pis: 11_200n, cofins: 51_600n },
      { month: '2026-06', pis: 9_900n, cofins: 45_600n },
    ], 'the same after a restart');
    await again.close();
  });

  t.test('emission factors: one per month, replaced by key, listed in month order within inclusive bounds, durable', async (t) => {
    const fixture = await makeStores(t);
    const { rules } = fixture;
    t.same(await rules.listEmissionFactors('2000-01', '2099-12'), []);
    t.equal(await rules.putEmissionFactor({ month: '2026-02', kgPerKwh: 61_700n }), 'created');
    t.equal(await rules.putEmissionFactor({ month: '2026-01', kgPerKwh: 38_500n }), 'created');
    t.equal(await rules.putEmissionFactor({ month: '2026-02', kgPerKwh: 42_600n }), 'replaced');
    t.same(await rules.listEmissionFactors('2026-01', '2026-12'), [
      { month: '2026-01', kgPerKwh: 38_500n },
      { month: '2026-02', kgPerKwh: 42_600n },
    ]);
    t.same(await rules.listEmissionFactors('2026-02', '2026-02'), [{ month: '2026-02', kgPerKwh: 42_600n }], 'inclusive bounds');
    await fixture.close();
    const again = await fixture.reopen();
    t.same(await again.rules.listEmissionFactors('2026-01', '2026-12'), [
      { month: '2026-01', kgPerKwh: 38_500n },
      { month: '2026-02', kgPerKwh: 42_600n },
    ], 'the same after a restart');
    await again.close();
  });
}
