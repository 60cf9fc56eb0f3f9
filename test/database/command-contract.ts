/**
 * The CommandStore contract, run unchanged by both backends: one command
 * per idempotency key of a requester, changes by compare-and-set (of racing
 * deliveries one wins), open commands for delivery after a restart.
 */
import type { Test } from 'tap';
import type { CommandStore, StoredCommand } from '../../database/command-store.js';
import { transition, type Command } from '../../domain/commands.js';

export interface CommandFixture {
  readonly commands: CommandStore;
  close(): Promise<void>;
  reopen(): Promise<{ readonly commands: CommandStore; close(): Promise<void> }>;
}

const command = (id: string, overrides: Partial<StoredCommand> = {}): StoredCommand => ({
  id,
  matricula: '13456789',
  type: 'corte',
  state: 'pendente',
  createdAt: 1_000_000,
  expiresAt: 4_600_000,
  attempts: 0,
  lastSentAt: null,
  finishedAt: null,
  outcome: null,
  parameters: {},
  requestedBy: 'operador',
  idempotencyKey: null,
  ...overrides,
});

const step = (from: StoredCommand, event: Parameters<typeof transition>[1]): StoredCommand => ({ ...from, ...(transition(from, event) as Command) });

export function commandContract(t: Test, makeStores: (t: Test) => Promise<CommandFixture>): void {
  t.test('commands: idempotent creation, compare-and-set changes, open ones listed, durable', async (t) => {
    const fixture = await makeStores(t);
    const { commands } = fixture;
    const first = await commands.create(command('c-1', { idempotencyKey: 'k1', parameters: { kw: '2.5' }, type: 'limite_demanda' }));
    t.equal(first.created, true);
    const retried = await commands.create(command('c-2', { idempotencyKey: 'k1' }));
    t.same([retried.created, retried.command.id, retried.command.parameters], [false, 'c-1', { kw: '2.5' }], 'the same key: the same command');
    t.equal((await commands.create(command('c-3', { idempotencyKey: 'k1', requestedBy: '13456789' }))).created, true, 'keys are per requester');
    t.equal((await commands.create(command('c-4', { createdAt: 2_000_000 }))).created, true);
    t.equal((await commands.create(command('c-5', { matricula: '999', createdAt: 3_000_000 }))).created, true);
    t.same((await commands.listByMeter('13456789', 0, 10)).map((c) => c.id), ['c-4', 'c-3', 'c-1'], 'newest first (ties: the later id first)');
    t.same((await commands.all()).map((c) => c.id), ['c-1', 'c-3', 'c-4', 'c-5'], 'all: oldest first, ties by id');

    const pending = (await commands.get('c-4')) as StoredCommand;
    const sent = step(pending, { kind: 'send', at: 2_000_100 });
    t.equal((await commands.update(pending, sent)).applied, true);
    const stale = await commands.update(pending, step(pending, { kind: 'cancel', at: 2_000_200 }));
    t.same([stale.applied, stale.command.state, stale.command.attempts], [false, 'enviado', 1], 'a change from a state no longer stored is not applied');
    const racers = await Promise.all([
      commands.update(sent, step(sent, { kind: 'executed', at: 2_000_300, result: 'ok' })),
      commands.update(sent, step(sent, { kind: 'send', at: 2_000_300 })),
      commands.update(sent, step(sent, { kind: 'cancel', at: 2_000_300 })),
    ]);
    t.equal(racers.filter((r) => r.applied).length, 1, 'of three racing changes from one state, one wins');
    const winner = racers.find((r) => r.applied)?.command as StoredCommand;
    t.same(await commands.get('c-4'), winner, 'the stored command is the winner\'s');
    t.same((await commands.open()).map((c) => c.id), winner.state === 'enviado' ? ['c-1', 'c-3', 'c-4', 'c-5'] : ['c-1', 'c-3', 'c-5'], 'the commands not yet final, oldest first');
    const before = await commands.get('c-4');
    await fixture.close();
    const again = await fixture.reopen();
    t.same(await again.commands.get('c-4'), before, 'durable, every field');
    t.same((await again.commands.create(command('c-9', { idempotencyKey: 'k1' }))).command.id, 'c-1', 'idempotency survives a restart');
    await again.close();
  });
}
