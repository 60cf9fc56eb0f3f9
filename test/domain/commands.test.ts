/**
 * The command state machine without sockets: every event against every
 * state (a table), random event sequences never leave a final state or send
 * after expiry, and the retry schedule.
 */
import fc from 'fast-check';
import t from 'tap';
import { COMMAND_STATES, FINAL_STATES, nextSendAt, retryDelay, transition, type Command, type CommandEvent, type CommandState } from '../../domain/commands.js';

const base: Command = { id: 'c1', matricula: '13456789', type: 'corte', state: 'pendente', createdAt: 1000, expiresAt: 61_000, attempts: 0, lastSentAt: null, finishedAt: null, outcome: null };
const inState = (state: CommandState): Command => ({ ...base, state, attempts: state === 'pendente' ? 0 : 1, lastSentAt: state === 'pendente' ? null : 1000 });

t.test('the transition table', async (t) => {
  const events: Array<[string, CommandEvent]> = [
    ['send', { kind: 'send', at: 2000 }],
    ['executed', { kind: 'executed', at: 2000, result: 'ok' }],
    ['failed', { kind: 'failed', at: 2000, reason: 'sem_chave' }],
    ['expire (early)', { kind: 'expire', at: 2000 }],
    ['expire', { kind: 'expire', at: 61_000 }],
    ['cancel', { kind: 'cancel', at: 2000 }],
  ];
  const expected: Record<CommandState, string[]> = {
    pendente: ['enviado', 'executado', 'falhou', 'not_expired', 'expirado', 'cancelado'],
    enviado: ['enviado', 'executado', 'falhou', 'not_expired', 'expirado', 'cancelado'],
    executado: ['final', 'final', 'final', 'final', 'final', 'final'],
    falhou: ['final', 'final', 'final', 'final', 'final', 'final'],
    expirado: ['final', 'final', 'final', 'final', 'final', 'final'],
    cancelado: ['final', 'final', 'final', 'final', 'final', 'final'],
  };
  for (const state of COMMAND_STATES) {
    const got = events.map(([, event]) => {
      const next = transition(inState(state), event);
      return typeof next === 'string' ? next : next.state;
    });
    t.same(got, expected[state], `from ${state}: ${events.map(([name]) => name).join(', ')}`);
  }
  t.equal(transition(base, { kind: 'send', at: 61_000 }), 'expired', 'never sent past its validity');
  const sent = transition(base, { kind: 'send', at: 1000 }) as Command;
  t.same([sent.attempts, sent.lastSentAt], [1, 1000]);
  const done = transition(sent, { kind: 'executed', at: 1500, result: 'registro=1302.5' }) as Command;
  t.same([done.state, done.finishedAt, done.outcome], ['executado', 1500, 'registro=1302.5']);
});

t.test('random event sequences: a final state is final; nothing is sent after expiry; attempts count the sends', async (t) => {
  const event = fc.oneof(
    fc.record({ kind: fc.constant('send' as const), at: fc.integer({ min: 0, max: 100_000 }) }),
    fc.record({ kind: fc.constant('executed' as const), at: fc.integer({ min: 0, max: 100_000 }), result: fc.constant('ok') }),
    fc.record({ kind: fc.constant('failed' as const), at: fc.integer({ min: 0, max: 100_000 }), reason: fc.constant('x') }),
    fc.record({ kind: fc.constant('expire' as const), at: fc.integer({ min: 0, max: 100_000 }) }),
    fc.record({ kind: fc.constant('cancel' as const), at: fc.integer({ min: 0, max: 100_000 }) }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 30 }), (events) => {
      let command = base;
      let sends = 0;
      for (const e of events) {
        const next = transition(command, e);
        if (typeof next === 'string') {
          if (next === 'final' && !FINAL_STATES.has(command.state)) return false;
          continue;
        }
        if (FINAL_STATES.has(command.state)) return false;
        if (e.kind === 'send') {
          if (e.at >= command.expiresAt) return false;
          sends++;
        }
        command = next;
      }
      return command.attempts === sends;
    }),
  );
});

t.test('retries back off from 1 s to 10 s, and stop at the validity', async (t) => {
  t.same([1, 2, 3, 4, 7, 8, 20].map(retryDelay), [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  t.equal(nextSendAt(base), 1000, 'never sent: at once');
  const sent = transition(base, { kind: 'send', at: 1000 }) as Command;
  t.equal(nextSendAt(sent), 2000);
  const late = { ...sent, attempts: 7, lastSentAt: 55_000 };
  t.equal(nextSendAt(late), undefined, 'the next retry would fall after the validity');
  t.equal(nextSendAt({ ...sent, state: 'executado' }), undefined);
});
