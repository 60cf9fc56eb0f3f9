/**
 * The InvoiceStore contract, run unchanged by both backends: one invoice in
 * force per cycle (also under concurrent calls), numbers sequential per
 * year, documents kept byte for byte, cancellation and a replacement that
 * references it, newest first, durable.
 */
import type { Test } from 'tap';
import type { InvoiceStore } from '../../database/invoice-store.js';

export interface InvoiceFixture {
  readonly invoices: InvoiceStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly invoices: InvoiceStore; close(): Promise<void> }>;
}

export function invoiceContract(t: Test, makeStores: (t: Test) => Promise<InvoiceFixture>): void {
  t.test('invoices: all, and restored as another store held them (migration): numbers go on after them', async (t) => {
    const fixture = await makeStores(t);
    const { invoices } = fixture;
    const cancelled = { numero: '2026-000007', matricula: '0303', ciclo: '2026-04', estado: 'cancelada' as const, emitidaEm: '2026-05-11T10:00:00.000Z', cancelamento: { motivo: 'leitura errada', em: '2026-05-12T09:00:00.000Z' }, substitui: null, documento: '{"total":1.5}' };
    const replacement = { ...cancelled, numero: '2026-000008', estado: 'emitida' as const, emitidaEm: '2026-05-12T09:30:00.000Z', cancelamento: null, substitui: '2026-000007', documento: '{"total":1.25}' };
    t.equal(await invoices.restore(cancelled), true);
    t.equal(await invoices.restore(replacement), true);
    t.equal(await invoices.restore(replacement), false, 'a number taken: nothing written');
    t.equal(await invoices.restore({ ...replacement, numero: '2026-000009' }), false, 'a second invoice in force for the cycle: refused');
    t.same(await invoices.all(), [cancelled, replacement], 'kept field for field, by number');
    const next = await invoices.issue('0404', '2026-05', async () => () => '{}', new Date('2026-06-01T00:00:00Z'));
    t.equal(next.invoice.numero, '2026-000009', 'the next number of the year follows the restored ones');
    await fixture.close();
    const reopened = await fixture.reopen();
    t.same((await reopened.invoices.all()).map((i) => i.numero), ['2026-000007', '2026-000008', '2026-000009'], 'durable');
    await reopened.close();
  });

  t.test('invoices: issued once per cycle, numbered per year, cancelled and replaced, durable', async (t) => {
    const fixture = await makeStores(t);
    const { invoices } = fixture;
    const at = (iso: string) => new Date(iso);
    let made = 0;
    const document = (total: string) => async () => {
      made++;
      return (numero: string) => `{"total":${total},"itens":[{"valor":17.32}],"txid":"FAT${numero.replace('-', '')}"}`;
    };
    const first = await invoices.issue('0101', '2026-05', document('35.24'), at('2026-06-11T10:00:00Z'));
    t.same([first.created, first.invoice.numero, first.invoice.estado, first.invoice.substitui], [true, '2026-000001', 'emitida', null]);
    t.equal(first.invoice.documento, '{"total":35.24,"itens":[{"valor":17.32}],"txid":"FAT2026000001"}', 'kept byte for byte, written with its own number');
    const madeBefore = made;
    const again = await invoices.issue('0101', '2026-05', document('99.99'), at('2026-06-12T10:00:00Z'));
    t.equal(made, madeBefore, 'a cycle in force is not computed again');
    t.same([again.created, again.invoice.numero, again.invoice.documento], [false, '2026-000001', first.invoice.documento], 'the same invoice, not another');
    const racing = await Promise.all(Array.from({ length: 6 }, () => invoices.issue('0202', '2026-05', document('10'), at('2026-06-11T11:00:00Z'))));
    t.equal(racing.filter((r) => r.created).length, 1, 'six concurrent issues of one cycle: one invoice');
    t.equal(new Set(racing.map((r) => r.invoice.numero)).size, 1);
    const nextYear = await invoices.issue('0101', '2026-12', document('1'), at('2027-01-02T00:00:00Z'));
    t.equal(nextYear.invoice.numero, '2027-000001', 'numbering restarts each year');

    t.equal(await invoices.cancel('2026-999999', 'x', at('2026-06-13T00:00:00Z')), 'nao_encontrada');
    const cancelled = await invoices.cancel('2026-000001', 'leitura errada', at('2026-06-13T00:00:00Z'));
    t.same(typeof cancelled === 'string' ? cancelled : [cancelled.estado, cancelled.cancelamento], ['cancelada', { motivo: 'leitura errada', em: '2026-06-13T00:00:00.000Z' }]);
    t.equal(await invoices.cancel('2026-000001', 'de novo', at('2026-06-14T00:00:00Z')), 'ja_cancelada');
    const reissued = await invoices.issue('0101', '2026-05', document('36.00'), at('2026-06-14T00:00:00Z'));
    t.same([reissued.created, reissued.invoice.numero, reissued.invoice.substitui], [true, '2026-000003', '2026-000001'], 'a new number referencing the cancelled one');
    t.same((await invoices.list('0101', 0, 10)).map((i) => [i.numero, i.estado]), [
      ['2027-000001', 'emitida'],
      ['2026-000003', 'emitida'],
      ['2026-000001', 'cancelada'],
    ], 'newest first');
    t.same((await invoices.list('0101', 1, 1)).map((i) => i.numero), ['2026-000003'], 'paged');
    await fixture.close();
    const reopened = await fixture.reopen();
    const back = await reopened.invoices.get('2026-000001');
    t.same([back?.estado, back?.cancelamento?.motivo, back?.documento], ['cancelada', 'leitura errada', first.invoice.documento], 'durable, cancellation included');
    t.equal((await reopened.invoices.issue('0101', '2026-06', document('5'), at('2026-07-11T00:00:00Z'))).invoice.numero, '2026-000004', 'numbering goes on after a restart');
    t.equal(await reopened.invoices.get('2026-000099'), undefined);
    await reopened.close();
  });
}
