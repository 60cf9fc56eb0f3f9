/**
 * The CredentialStore contract, run unchanged by every backend: hashes are
 * kept per registered customer, replaced by a later one, durable across a
 * reopen, and refused for a matricula no customer has.
 */
import type { Test } from 'tap';
import type { CredentialStore } from '../../database/credential-store.js';
import type { Store } from '../../database/store.js';

export interface CredentialFixture {
  readonly store: Store & CredentialStore;
  reopen(): Promise<Store & CredentialStore>;
}

export function credentialContract(t: Test, makeStore: (t: Test) => Promise<CredentialFixture>): void {
  t.test('credentials: set, replaced, durable, only for registered customers', async (t) => {
    const { store, reopen } = await makeStore(t);
    await store.addCustomers([{ username: 'ana', matricula: '0101' }, { username: 'bruno', matricula: '202' }]);
    t.equal(await store.passwordHash('0101'), undefined, 'none until set');
    t.equal(await store.setPasswordHash('0101', 'scrypt$first'), true);
    t.equal(await store.setPasswordHash('0101', 'scrypt$second'), true, 'a reset replaces it');
    t.equal(await store.setPasswordHash('202', 'scrypt$bruno'), true);
    t.equal(await store.setPasswordHash('999', 'scrypt$nobody'), false, 'no customer: refused');
    t.equal(await store.passwordHash('999'), undefined);
    t.equal(await store.passwordHash('101'), undefined, 'leading zeros are significant');
    await store.close();
    const again = await reopen();
    t.equal(await again.passwordHash('0101'), 'scrypt$second', 'the newest hash survives a reopen');
    t.equal(await again.passwordHash('202'), 'scrypt$bruno');
    await again.close();
  });
}
