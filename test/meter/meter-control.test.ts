/**
 * A meter's handling of commands, without sockets: signatures, expiry,
 * at-most-once execution by id whatever is repeated or reordered, and each
 * command's effect on the meter's state.
 */
import fc from 'fast-check';
import t from 'tap';
import { signLine } from '../../protocol/meter-auth.js';
import { parseAnswerLine, serializeCommand } from '../../protocol/meter-commands.js';
import { MeterControl } from '../../meter/meter-control.js';

const KEY = Buffer.alloc(32, 3);
const OTHER_KEY = Buffer.alloc(32, 4);
const NOW = Date.UTC(2026, 10, 30, 12);
const line = (id: string, type: Parameters<typeof serializeCommand>[0]['type'], parameters: Record<string, string> = {}, expiresAt = NOW + 60_000) =>
  serializeCommand({ id, matricula: '13456789', type, expiresAt, parameters });

t.test('a keyed meter acts only on commands signed with its key, not expired, each id once', async (t) => {
  const control = new MeterControl('13456789', KEY);
  t.same(control.receive(line('a', 'corte'), NOW), { kind: 'ignored', reason: 'ignoredUnsigned' });
  t.same(control.receive(signLine(line('a', 'corte'), OTHER_KEY), NOW), { kind: 'ignored', reason: 'ignoredBadSignature' });
  t.same(control.receive(signLine(line('a', 'corte', {}, NOW - 1), KEY), NOW), { kind: 'ignored', reason: 'ignoredExpired' });
  t.same(control.receive(signLine(line('a', 'corte').replace('13456789', '99999999'), KEY), NOW), { kind: 'ignored', reason: 'ignoredOtherMeter' });
  t.equal(control.state.supply, 'ligado', 'nothing happened yet');
  const cut = control.receive(signLine(line('a', 'corte'), KEY), NOW);
  t.equal(control.state.supply, 'cortado');
  t.equal(cut.kind, 'answer');
  const answer = cut.kind === 'answer' ? parseAnswerLine(cut.line) : 'none';
  t.ok(typeof answer !== 'string' && answer.outcome === 'executado' && answer.id === 'a' && answer.signature !== undefined, 'a signed answer naming the command');
  control.receive(signLine(line('b', 'religacao'), KEY), NOW);
  t.equal(control.state.supply, 'ligado');
  const again = control.receive(signLine(line('a', 'corte'), KEY), NOW + 1000);
  const repeated = again.kind === 'answer' ? parseAnswerLine(again.line) : 'none';
  t.ok(typeof repeated !== 'string' && typeof answer !== 'string', 'answered again');
  if (typeof repeated !== 'string' && typeof answer !== 'string') {
    t.same([repeated.id, repeated.outcome, repeated.detail, again.kind === 'answer' && again.readNow], [answer.id, answer.outcome, answer.detail, false], 'the same command again (its answer was lost): the same answer');
    t.ok(repeated.counter !== undefined && answer.counter !== undefined && repeated.counter > answer.counter, 'signed with a newer invocation counter: the server takes it, not as a replay');
  }
  t.equal(control.state.supply, 'ligado', 'and not executed twice');
  const moved = signLine(line('a', 'corte'), KEY).replace(';a;', ';c;');
  t.same(control.receive(moved, NOW), { kind: 'ignored', reason: 'ignoredBadSignature' }, 'a signed command replayed under another id');
  t.same(control.counters, { executed: 2, ignoredUnsigned: 1, ignoredBadSignature: 2, ignoredExpired: 1, ignoredReplayed: 1, ignoredMalformed: 0, ignoredOtherMeter: 1 });
});

t.test('a meter without a key reads and syncs its clock on request, but never changes the supply', async (t) => {
  const control = new MeterControl('13456789', undefined);
  const read = control.receive(line('r', 'leitura'), NOW);
  t.same([read.kind, read.kind === 'answer' && read.readNow], ['answer', true]);
  t.same(control.receive(line('x', 'corte'), NOW), { kind: 'ignored', reason: 'ignoredUnsigned' });
  t.same(control.receive(signLine(line('x', 'corte'), KEY), NOW), { kind: 'ignored', reason: 'ignoredUnsigned' }, 'signed or not: it cannot check');
  control.receive(line('s', 'sincronizar_relogio', { servidor_ms: String(NOW + 90_000) }), NOW);
  t.equal(control.state.clockOffsetMs, 90_000, 'a clock 90 s behind is corrected');
});

t.test('demand limit: set, removed, refused when malformed', async (t) => {
  const control = new MeterControl('13456789', KEY);
  control.receive(signLine(line('l1', 'limite_demanda', { kw: '2.5' }), KEY), NOW);
  t.equal(control.state.limitW, 2500);
  const bad = control.receive(signLine(line('l2', 'limite_demanda', { kw: 'muito' }), KEY), NOW);
  t.ok(bad.kind === 'answer' && /falhou/.test(bad.line));
  t.equal(control.state.limitW, 2500, 'a refused limit changes nothing');
  control.receive(signLine(line('l3', 'limite_demanda', { kw: 'null' }), KEY), NOW);
  t.equal(control.state.limitW, null);
});

t.test('whatever is repeated or reordered on the way, each command is executed at most once', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 60 }), (deliveries) => {
      const control = new MeterControl('13456789', KEY);
      for (const n of deliveries) control.receive(signLine(line(`cmd-${n}`, n % 2 === 0 ? 'corte' : 'religacao'), KEY), NOW);
      return control.counters.executed === new Set(deliveries).size && control.counters.ignoredReplayed === deliveries.length - new Set(deliveries).size;
    }),
  );
});
