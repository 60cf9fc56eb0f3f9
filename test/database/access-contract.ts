/**
 * The AccessStore and AuditStore contracts, run unchanged by both backends:
 * operator accounts created once, changed, durable; generations only go
 * up, one bump at a time even at once; the audit log keeps every entry in
 * order, filters and pages newest first, durable; and random sequences of
 * operations against tiny in-memory models.
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import type { AccessStore, OperatorAccount } from '../../database/access-store.js';
import type { AuditEntry, AuditRecord, AuditStore } from '../../database/audit-store.js';

export interface AccessFixture {
  readonly access: AccessStore;
  readonly audit: AuditStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly access: AccessStore; readonly audit: AuditStore; close(): Promise<void> }>;
}

const account = (nome: string): OperatorAccount => ({ nome, passwordHash: `scrypt$ln=15,r=8,p=1$${'A'.repeat(22)}$${'B'.repeat(43)}`, active: true, createdAt: Date.UTC(2026, 11, 1), createdBy: 'operador' });
const record = (i: number, actor = 'operador'): AuditRecord => ({ at: Date.UTC(2026, 11, 1) + i * 1000, actor, action: i % 2 === 0 ? 'POST /medidores/{matricula}/comandos' : 'PUT /faturamento/parametros', target: `/alvo/${i}`, address: '127.0.0.1', status: 200 + (i % 3) });

export function accessContract(t: Test, makeStores: (t: Test) => Promise<AccessFixture>): void {
  t.test('access: operator accounts once, changed, durable; generations only go up', async (t) => {
    const fixture = await makeStores(t);
    const { access } = fixture;
    t.equal(await access.createOperator(account('maria')), true);
    t.equal(await access.createOperator({ ...account('maria'), createdBy: 'outro' }), false, 'a name is taken once');
    t.equal(await access.createOperator(account('joao.silva')), true);
    t.same((await access.operators()).map((a) => a.nome), ['joao.silva', 'maria']);
    const disabled = await access.updateOperator('maria', { active: false });
    t.same([disabled?.active, disabled?.passwordHash], [false, account('maria').passwordHash], 'only what changes changes');
    t.equal(await access.updateOperator('ninguem', { active: false }), undefined);
    t.equal(await access.generation('cliente:1'), 0);
    const bumps = await Promise.all(Array.from({ length: 5 }, () => access.bumpGeneration('cliente:1')));
    t.same([...bumps].sort(), [1, 2, 3, 4, 5], 'five bumps at once: five generations, none lost');
    t.same(Object.fromEntries(await access.generations()), { 'cliente:1': 5 });
    await fixture.close();
    const reopened = await fixture.reopen();
    t.same(await reopened.access.operator('maria'), { ...account('maria'), active: false }, 'durable');
    t.equal(await reopened.access.generation('cliente:1'), 5);
    t.equal(await reopened.access.bumpGeneration('cliente:1'), 6);
    await reopened.close();
  });

  t.test('audit: every entry kept in order, filtered and paged newest first, durable', async (t) => {
    const fixture = await makeStores(t);
    const { audit } = fixture;
    const appended: AuditEntry[] = [];
    for (let i = 0; i < 7; i++) appended.push(await audit.append(record(i, i < 4 ? 'operador' : 'operador:maria')));
    t.same(appended.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7], 'ids in order from 1');
    t.same((await audit.list({}, 0, 3)).map((e) => e.id), [7, 6, 5], 'newest first');
    t.same((await audit.list({}, 3, 3)).map((e) => e.id), [4, 3, 2]);
    t.same((await audit.list({ actor: 'operador:maria' }, 0, 10)).map((e) => e.id), [7, 6, 5]);
    t.same((await audit.list({ action: 'PUT /faturamento/parametros' }, 0, 10)).map((e) => e.id), [6, 4, 2]);
    t.same((await audit.list({ from: record(2).at, to: record(4).at }, 0, 10)).map((e) => e.id), [4, 3], '[from, to)');
    t.same((await audit.list({}, 0, 1))[0], { id: 7, ...record(6, 'operador:maria') }, 'every field as appended');
    await fixture.close();
    const reopened = await fixture.reopen();
    t.same((await reopened.audit.list({}, 0, 100)).map((e) => e.id), [7, 6, 5, 4, 3, 2, 1], 'durable');
    t.equal((await reopened.audit.append(record(9))).id, 8, 'ids go on after a reopen');
    await reopened.close();
  });

  t.test('audit: random appends and queries agree with a model', async (t) => {
    const fixture = await makeStores(t);
    const model: AuditEntry[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ append: fc.integer({ min: 0, max: 50 }), actor: fc.constantFrom('operador', 'operador:ana', 'cliente:1') }), fc.record({ offset: fc.integer({ min: 0, max: 5 }), limit: fc.integer({ min: 1, max: 5 }), actor: fc.option(fc.constantFrom('operador', 'operador:ana', 'cliente:1'), { nil: undefined }) })), { maxLength: 20 }),
        async (operations) => {
          for (const operation of operations) {
            if ('append' in operation) model.push(await fixture.audit.append(record(operation.append, operation.actor)));
            else {
              const expected = [...model].reverse().filter((e) => operation.actor === undefined || e.actor === operation.actor).slice(operation.offset, operation.offset + operation.limit);
              const got = await fixture.audit.list({ actor: operation.actor }, operation.offset, operation.limit);
              if (JSON.stringify(got) !== JSON.stringify(expected)) return false;
            }
          }
          return model.every((e, i) => e.id === i + 1);
        },
      ),
      { numRuns: 40 },
    );
    await fixture.close();
  });
}
