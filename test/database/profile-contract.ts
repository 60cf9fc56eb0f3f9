/**
 * The ProfileStore contract, run unchanged by both backends: a default
 * until set, only for registered customers, replaced, durable.
 */
import type { Test } from 'tap';
import { DEFAULT_PROFILE, type ProfileStore } from '../../database/profile-store.js';
import type { Store } from '../../database/store.js';

export interface ProfileFixture {
  readonly store: Store;
  readonly profiles: ProfileStore;
  reopen(): Promise<{ readonly store: Store; readonly profiles: ProfileStore }>;
}

export function profileContract(t: Test, makeStores: (t: Test) => Promise<ProfileFixture>): void {
  t.test('billing profiles: the default until set, registered customers only, replaced, durable', async (t) => {
    const fixture = await makeStores(t);
    await fixture.store.addCustomers([{ username: 'ana', matricula: '0101' }]);
    t.same(await fixture.profiles.profile('0101'), { matricula: '0101', ...DEFAULT_PROFILE });
    t.equal(await fixture.profiles.setProfile({ matricula: '0101', connection: 'trifasica', modality: 'branca', readingDay: 28, socialTariff: false }), true);
    t.equal(await fixture.profiles.setProfile({ matricula: '0101', connection: 'bifasica', modality: 'branca', readingDay: 15, socialTariff: false }), true, 'replaced');
    t.equal(await fixture.profiles.setProfile({ matricula: '101', connection: 'bifasica', modality: 'convencional', readingDay: 1, socialTariff: true }), false, 'no such customer: nothing written');
    t.same(
      (await fixture.profiles.profilesOf(['101', '0101'])).map((p) => [p.matricula, p.readingDay]),
      [['101', 1], ['0101', 15]],
      'a page at once, in the order asked, defaults where none was set',
    );
    t.same(await fixture.profiles.profiles(), [{ matricula: '0101', connection: 'bifasica', modality: 'branca', readingDay: 15, socialTariff: false }]);
    await fixture.store.close();
    const again = await fixture.reopen();
    t.same(await again.profiles.profile('0101'), { matricula: '0101', connection: 'bifasica', modality: 'branca', readingDay: 15, socialTariff: false }, 'durable');
    t.same(await again.profiles.profile('101'), { matricula: '101', ...DEFAULT_PROFILE });
    await again.store.close();
  });

  t.test("the account holder, a bifásica connection's conductors and the social benefit's validity: kept exactly, replaced, durable", async (t) => {
    const fixture = await makeStores(t);
    await fixture.store.addCustomers([{ username: 'ana', matricula: '0101' }]);
    const holder = { name: 'Ana Maria Souza', taxpayer: '52998224725', address: 'Rua dos Timbiras, 1500, Belo Horizonte - MG', customerNumber: '7001234' };
    const profile = { matricula: '0101', connection: 'bifasica' as const, modality: 'convencional' as const, readingDay: 10, socialTariff: false, conductors: 2 as const, holder, benefit: { kind: 'tarifa_social' as const, from: '2025-07-05', to: null } };
    t.equal(await fixture.profiles.setProfile(profile), true);
    t.same(await fixture.profiles.profile('0101'), profile);
    const company = { ...profile, conductors: 3 as const, holder: { name: 'Padaria Pão Quente Ltda.', taxpayer: '11444777000161', address: 'Av. Afonso Pena, 10' }, benefit: { kind: 'desconto_social' as const, from: '2026-01-01', to: '2026-12-31' } };
    t.equal(await fixture.profiles.setProfile(company), true, 'replaced: a CNPJ, no customer number');
    await fixture.store.close();
    const again = await fixture.reopen();
    t.same(await again.profiles.profile('0101'), company, 'durable, every field');
    await again.store.close();
  });

  t.test('goals: kept with the profile, replaced, removed, durable', async (t) => {
    const fixture = await makeStores(t);
    await fixture.store.addCustomers([{ username: 'ana', matricula: '0101' }, { username: 'bia', matricula: '0202' }]);
    const profile = { matricula: '0101', ...DEFAULT_PROFILE };
    t.equal(await fixture.profiles.setProfile({ ...profile, goal: { kind: 'kwh', kwh: 150_500n } }), true);
    t.same((await fixture.profiles.profile('0101')).goal, { kind: 'kwh', kwh: 150_500n });
    t.equal(await fixture.profiles.setProfile({ ...profile, goal: { kind: 'valor', cents: 12_050n } }), true);
    await fixture.profiles.setProfile({ matricula: '0202', ...DEFAULT_PROFILE, goal: { kind: 'kwh', kwh: 1n } });
    await fixture.profiles.setProfile({ matricula: '0202', ...DEFAULT_PROFILE });
    await fixture.store.close();
    const again = await fixture.reopen();
    t.same((await again.profiles.profile('0101')).goal, { kind: 'valor', cents: 12_050n }, 'the latest goal, durable');
    t.same(await again.profiles.profile('0202'), { matricula: '0202', ...DEFAULT_PROFILE }, 'a removed goal stays removed');
    await again.store.close();
  });
}
