/**
 * The TariffStore contract, run unchanged by both backends: tariffs are
 * added idempotently, an overlapping validity of the same key is refused
 * (within one call too, and when calls race), what is in force on a day is
 * listed, and everything survives a reopen.
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import { compareTariffs, judgeTariff, tariffKey, validitiesOverlap, type Tariff, type TariffStore } from '../../database/tariff-store.js';

export interface TariffFixture {
  readonly tariffs: TariffStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly tariffs: TariffStore; close(): Promise<void> }>;
}

const tariff = (overrides: Partial<Tariff> = {}): Tariff => ({
  distribuidora: 'TESTE-D',
  modalidade: 'convencional',
  posto: 'nao_se_aplica',
  vigenciaInicio: '2025-04-22',
  vigenciaFim: '2026-04-21',
  te: 29_459_000n,
  tusd: 41_238_000n,
  resolucao: 'REH 1.234/2025',
  ...overrides,
});

export function tariffContract(t: Test, makeStores: (t: Test) => Promise<TariffFixture>): void {
  t.test('tariffs: idempotent, overlaps refused, in force by day, durable', async (t) => {
    const fixture = await makeStores(t);
    const { tariffs } = fixture;
    const current = tariff();
    const next = tariff({ vigenciaInicio: '2026-04-22', vigenciaFim: null, te: 30_000_000n, tusd: 42_000_000n, resolucao: 'REH 2.000/2026' });
    const branca = ['ponta', 'intermediario', 'fora_ponta'].map((posto, i) => tariff({ modalidade: 'branca', posto: posto as Tariff['posto'], te: BigInt(i + 1) * 10_000_000n, tusd: BigInt(i + 1) * 20_000_000n }));
    const first = await tariffs.addTariffs([current, next, ...branca]);
    t.equal(first.added.length, 5);
    const again = await tariffs.addTariffs([current, next]);
    t.same([again.added.length, again.unchanged.length, again.refused.length], [0, 2, 0], 'importing twice adds nothing');
    t.same(await tariffs.all(), [current, next, ...branca].sort(compareTariffs), 'all: every tariff, in compareTariffs order');
    const clash = tariff({ vigenciaInicio: '2026-01-01', vigenciaFim: '2026-06-30', te: 1n });
    const refused = await tariffs.addTariffs([clash, tariff({ distribuidora: 'OUTRA-D' })]);
    t.equal(refused.refused.length, 1, 'an overlapping validity of the same key is refused');
    t.same(refused.refused[0]?.conflictsWith, current, 'naming what it overlaps');
    t.equal(refused.added.length, 1, 'another distributor is another key');
    const inOneCall = await tariffs.addTariffs([tariff({ distribuidora: 'NOVA-D', vigenciaInicio: '2020-01-01', vigenciaFim: '2020-12-31' }), tariff({ distribuidora: 'NOVA-D', vigenciaInicio: '2020-06-01', vigenciaFim: '2021-05-31' })]);
    t.same([inOneCall.added.length, inOneCall.refused.length], [1, 1], 'the second of one call is judged against the first');

    const inForce = await tariffs.tariffsInForce('2026-04-21');
    t.same(inForce.filter((x) => x.distribuidora === 'TESTE-D').map((x) => [x.modalidade, x.posto, x.te]), [
      ['branca', 'fora_ponta', 30_000_000n],
      ['branca', 'intermediario', 20_000_000n],
      ['branca', 'ponta', 10_000_000n],
      ['convencional', 'nao_se_aplica', 29_459_000n],
    ]);
    t.same((await tariffs.tariffsInForce('2026-04-22')).filter((x) => x.distribuidora === 'TESTE-D').map((x) => x.resolucao), ['REH 2.000/2026'], 'the day the new one starts, only it (branca ended the day before)');
    t.same((await tariffs.tariffsInForce('2099-01-01')).map((x) => x.vigenciaFim), [null], 'open-ended: in force until replaced');
    t.same((await tariffs.tariffsBetween('TESTE-D', '2026-04-10', '2026-05-10')).filter((x) => x.modalidade === 'convencional').map((x) => x.vigenciaInicio), ['2025-04-22', '2026-04-22'], 'both versions of a cycle that spans the change');
    await fixture.close();
    const reopened = await fixture.reopen();
    t.same((await reopened.tariffs.tariffsBetween('TESTE-D', '2000-01-01', '2099-12-31')).length, 5, 'durable');
    t.same((await reopened.tariffs.addTariffs([current])).unchanged.length, 1, 'and still idempotent after a restart');
    await reopened.close();
  });

  t.test('tariffs: concurrent calls never store two overlapping tariffs of one key', async (t) => {
    const fixture = await makeStores(t);
    const racers = Array.from({ length: 8 }, (_, i) => fixture.tariffs.addTariffs([tariff({ vigenciaInicio: `2024-0${i + 1}-01`, vigenciaFim: null, te: BigInt(i) })]));
    const results = await Promise.all(racers);
    t.equal(results.reduce((sum, r) => sum + r.added.length, 0), 1, 'exactly one of eight overlapping tariffs is stored');
    t.equal((await fixture.tariffs.tariffsBetween('TESTE-D', '2000-01-01', '2099-12-31')).length, 1);
    await fixture.close();
  });

  t.test('tariffs: any sequence of additions leaves no two overlapping tariffs of one key (model-based)', async (t) => {
    const fixture = await makeStores(t);
    const day = fc.integer({ min: 0, max: 60 }).map((n) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString().slice(0, 10));
    const candidate = fc.record({ start: day, length: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }), te: fc.bigInt({ min: 0n, max: 3n }), posto: fc.constantFrom('nao_se_aplica', 'ponta') }).map((c) =>
      tariff({ modalidade: c.posto === 'ponta' ? 'branca' : 'convencional', posto: c.posto as Tariff['posto'], vigenciaInicio: c.start, vigenciaFim: c.length === undefined ? null : new Date(Date.parse(c.start) + c.length * 86_400_000).toISOString().slice(0, 10), te: c.te }),
    );
    const model: Tariff[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(candidate, { minLength: 1, maxLength: 5 }), async (batch) => {
        const result = await fixture.tariffs.addTariffs(batch);
        for (const item of batch) if (judgeTariff(model, item).outcome === 'added') model.push(item);
        const stored = await fixture.tariffs.tariffsBetween('TESTE-D', '2000-01-01', '2099-12-31');
        const clean = stored.every((a, i) => stored.every((b, j) => i === j || tariffKey(a) !== tariffKey(b) || !validitiesOverlap(a, b)));
        return clean && stored.length === model.length && result.added.length + result.unchanged.length + result.refused.length === batch.length;
      }),
      { numRuns: 40 },
    );
    await fixture.close();
  });
}
