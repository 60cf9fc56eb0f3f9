/**
 * The AlertStore contract, run unchanged by both backends: one open alert
 * per meter and key, acknowledged and closed by its state machine, its
 * delivery recorded, listed newest first with filters, durable; and a
 * model-based run of random operations against a tiny in-memory model.
 */
import fc from 'fast-check';
import type { Test } from 'tap';
import { isOpen, type Alert, type AlertStore } from '../../database/alert-store.js';

export interface AlertFixture {
  readonly alerts: AlertStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly alerts: AlertStore; close(): Promise<void> }>;
}

const T0 = Date.UTC(2026, 10, 1);
let sequence = 0;
const alert = (matricula: string, kind: Alert['kind'], minute: number, key: string = kind): Alert => ({
  id: `a-${++sequence}-${matricula}-${minute}`,
  matricula,
  kind,
  key,
  state: 'ativo',
  detail: `${kind} de ${matricula}`,
  raisedAt: T0 + minute * 60_000,
  acknowledgedBy: null,
  acknowledgedAt: null,
  closedAt: null,
  delivery: 'pendente',
  deliveryAttempts: 0,
});

export function alertContract(t: Test, makeStores: (t: Test) => Promise<AlertFixture>): void {
  t.test('alerts: restored as another store held them (migration); never over an id or an open alert of the same key', async (t) => {
    const fixture = await makeStores(t);
    const { alerts } = fixture;
    const closed: Alert = { ...alert('0707', 'falta_energia', 1), state: 'encerrado', closedAt: T0 + 120_000, delivery: 'entregue', deliveryAttempts: 2 };
    const acknowledged: Alert = { ...alert('0707', 'falta_energia', 3), state: 'reconhecido', acknowledgedBy: 'operador:ana', acknowledgedAt: T0 + 240_000, delivery: 'falhou', deliveryAttempts: 5 };
    t.equal(await alerts.restore(closed), true);
    t.equal(await alerts.restore(acknowledged), true, 'an open alert beside a closed one of the same key');
    t.equal(await alerts.restore(acknowledged), false, 'the same id twice: nothing written');
    t.equal(await alerts.restore({ ...acknowledged, id: 'other' }), false, 'a second open alert of the meter and key: refused');
    t.same(await alerts.list({ matricula: '0707' }, 0, 10), [acknowledged, closed], 'kept field for field');
    t.equal(await alerts.raise(alert('0707', 'falta_energia', 9)), undefined, 'the restored open alert holds its key');
    await fixture.close();
    const reopened = await fixture.reopen();
    t.same(await reopened.alerts.get(acknowledged.id), acknowledged, 'durable');
    await reopened.close();
  });

  t.test('alerts: one open per meter and key; acknowledged, closed, delivered; listed newest first; durable', async (t) => {
    const fixture = await makeStores(t);
    const { alerts } = fixture;
    const first = alert('13456789', 'consumo_elevado', 1);
    t.same(await alerts.raise(first), first);
    t.equal(await alerts.raise(alert('13456789', 'consumo_elevado', 2)), undefined, 'one open alert per meter and key');
    const other = alert('09812389', 'consumo_elevado', 3);
    t.same(await alerts.raise(other), other, 'another meter, the same key');
    const goal = alert('13456789', 'meta_em_risco', 4, 'meta_em_risco:2026-11');
    t.same(await alerts.raise(goal), goal);

    const acknowledged = await alerts.acknowledge(first.id, 'operador', T0 + 5 * 60_000);
    t.same(acknowledged, { ...first, state: 'reconhecido', acknowledgedBy: 'operador', acknowledgedAt: T0 + 5 * 60_000 });
    t.same(await alerts.acknowledge(first.id, 'outro', T0 + 6 * 60_000), acknowledged, 'acknowledging again changes nothing');
    t.equal(await alerts.acknowledge('nao-existe', 'operador', T0), 'nao_encontrado');
    t.equal(await alerts.raise(alert('13456789', 'consumo_elevado', 7)), undefined, 'an acknowledged alert is still open');

    const closed = await alerts.close('13456789', 'consumo_elevado', T0 + 8 * 60_000);
    t.same(closed, { ...(acknowledged as Alert), state: 'encerrado', closedAt: T0 + 8 * 60_000 });
    t.equal(await alerts.close('13456789', 'consumo_elevado', T0 + 9 * 60_000), undefined, 'nothing open to close');
    t.equal(await alerts.acknowledge(first.id, 'operador', T0), 'encerrado', 'a closed alert is not acknowledged');
    const again = alert('13456789', 'consumo_elevado', 10);
    t.same(await alerts.raise(again), again, 'once closed, the key may alert again');

    await alerts.setDelivery(goal.id, 'entregue', 2);
    await alerts.setDelivery('nao-existe', 'entregue', 1);
    t.same((await alerts.get(goal.id))?.delivery, 'entregue');
    t.same((await alerts.pendingDeliveries()).map((a) => a.id), [first.id, other.id, again.id], 'pending deliveries, oldest first');

    t.same((await alerts.list({}, 0, 10)).map((a) => a.id), [again.id, goal.id, other.id, first.id], 'newest raised first');
    t.same((await alerts.list({ matricula: '13456789', state: 'ativo' }, 0, 10)).map((a) => a.id), [again.id, goal.id]);
    t.same((await alerts.list({ kind: 'consumo_elevado' }, 1, 1)).map((a) => a.id), [other.id], 'paged');
    await fixture.close();
    const reopened = await fixture.reopen();
    t.same(await reopened.alerts.get(first.id), closed, 'durable');
    t.same((await reopened.alerts.get(goal.id))?.deliveryAttempts, 2);
    t.equal(await reopened.alerts.raise(alert('13456789', 'consumo_elevado', 11)), undefined, 'still one open per key after a restart');
    await reopened.close();
  });

  t.test('alerts: any sequence of raises, acknowledgements and closes agrees with a model', async (t) => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant('raise' as const), matricula: fc.constantFrom('1', '2'), key: fc.constantFrom('a', 'b') }),
      fc.record({ op: fc.constant('acknowledge' as const), index: fc.nat(20) }),
      fc.record({ op: fc.constant('close' as const), matricula: fc.constantFrom('1', '2'), key: fc.constantFrom('a', 'b') }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 25 }), async (operations) => {
        const fixture = await makeStores(t);
        const model: Alert[] = [];
        try {
          let minute = 0;
          for (const step of operations) {
            minute++;
            if (step.op === 'raise') {
              const candidate = alert(step.matricula, 'consumo_elevado', minute, step.key);
              const blocked = model.some((a) => a.matricula === step.matricula && a.key === step.key && isOpen(a));
              const raised = await fixture.alerts.raise(candidate);
              if ((raised === undefined) !== blocked) throw new Error(`raise ${step.matricula}/${step.key}: store ${raised !== undefined}, model ${!blocked}`);
              if (!blocked) model.push(candidate);
            } else if (step.op === 'acknowledge') {
              const target = model[step.index % Math.max(model.length, 1)];
              if (target === undefined) continue;
              const outcome = await fixture.alerts.acknowledge(target.id, 'x', T0 + minute);
              const at = model.indexOf(target);
              if (target.state === 'encerrado') {
                if (outcome !== 'encerrado') throw new Error('acknowledged a closed alert');
              } else if (target.state === 'ativo') model[at] = { ...target, state: 'reconhecido', acknowledgedBy: 'x', acknowledgedAt: T0 + minute };
            } else {
              const at = model.findIndex((a) => a.matricula === step.matricula && a.key === step.key && isOpen(a));
              const closed = await fixture.alerts.close(step.matricula, step.key, T0 + minute);
              if ((closed === undefined) !== (at === -1)) throw new Error(`close ${step.matricula}/${step.key}`);
              if (at !== -1) model[at] = { ...(model[at] as Alert), state: 'encerrado', closedAt: T0 + minute };
            }
          }
          const listed = await fixture.alerts.list({}, 0, 100);
          const expected = [...model].sort((a, b) => b.raisedAt - a.raisedAt || b.id.localeCompare(a.id));
          if (JSON.stringify(listed) !== JSON.stringify(expected)) throw new Error(`listed ${JSON.stringify(listed)}\nmodel ${JSON.stringify(expected)}`);
        } finally {
          await fixture.close();
        }
      }),
      { numRuns: 25 },
    );
  });
}
