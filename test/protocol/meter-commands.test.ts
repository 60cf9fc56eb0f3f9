/**
 * The command, answer and event lines: every value round-trips through its
 * serializer and parser, a signature covers exactly the line before it, and
 * malformed lines are refused with a code, never thrown.
 */
import fc from 'fast-check';
import t from 'tap';
import { signLine, verifyMac } from '../../protocol/meter-auth.js';
import { EVENT_TYPES, lineTag, linesByTag, MAX_COUNTER, parseAnswerLine, parseCommandLine, parseEventLine, serializeAnswer, serializeCommand, serializeEvent, withCounter } from '../../protocol/meter-commands.js';

const id = fc.stringMatching(/^[A-Za-z0-9-]{1,36}$/);
const matricula = fc.stringMatching(/^\d{1,20}$/);
const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) });
const detail = fc.stringMatching(/^[\x20-\x3a\x3c-\x7e]{0,200}$/);
const KEY = Buffer.alloc(32, 7);

t.test('round trips', async (t) => {
  fc.assert(
    fc.property(id, matricula, fc.constantFrom('leitura', 'corte', 'religacao', 'limite_demanda', 'sincronizar_relogio' as const), instant, fc.dictionary(fc.stringMatching(/^[a-z_]{1,32}$/), fc.stringMatching(/^[0-9A-Za-z._:-]{0,64}$/), { maxKeys: 4 }), (i, m, type, expiresAt, parameters) => {
      const line = serializeCommand({ id: i, matricula: m, type, expiresAt, parameters });
      const parsed = parseCommandLine(line);
      return typeof parsed !== 'string' && parsed.id === i && parsed.matricula === m && parsed.type === type && parsed.expiresAt === expiresAt && JSON.stringify(parsed.parameters) === JSON.stringify(parameters) && parsed.signature === undefined;
    }),
  );
  fc.assert(
    fc.property(id, matricula, fc.constantFrom('executado' as const, 'falhou' as const), detail, (i, m, outcome, d) => {
      const parsed = parseAnswerLine(serializeAnswer({ id: i, matricula: m, outcome, detail: d }));
      return typeof parsed !== 'string' && parsed.id === i && parsed.outcome === outcome && parsed.detail === d;
    }),
  );
  fc.assert(
    fc.property(matricula, instant, fc.constantFrom(...EVENT_TYPES), detail, (m, timestamp, type, d) => {
      const parsed = parseEventLine(serializeEvent({ matricula: m, timestamp, type, detail: d }));
      return typeof parsed !== 'string' && parsed.matricula === m && parsed.timestamp === timestamp && parsed.type === type && parsed.detail === d;
    }),
  );
});

t.test('a signature covers the whole line before it: id and expiry included', async (t) => {
  const line = serializeCommand({ id: 'cmd-1', matricula: '13456789', type: 'corte', expiresAt: Date.UTC(2026, 11, 1), parameters: {} });
  const parsed = parseCommandLine(signLine(line, KEY));
  t.ok(typeof parsed !== 'string' && parsed.signature !== undefined && verifyMac(parsed.signature.content, parsed.signature.mac, KEY));
  const signed = signLine(line, KEY);
  const replayedUnderAnotherId = signed.replace('cmd-1', 'cmd-2');
  const other = parseCommandLine(replayedUnderAnotherId);
  t.ok(typeof other !== 'string' && other.signature !== undefined && !verifyMac(other.signature.content, other.signature.mac, KEY), 'another id: the MAC no longer verifies');
  const extended = parseCommandLine(signed.replace('2026-12-01', '2027-12-01'));
  t.ok(typeof extended !== 'string' && extended.signature !== undefined && !verifyMac(extended.signature.content, extended.signature.mac, KEY), 'a later expiry: neither');
});

t.test('an answer or event signed with its invocation counter: the counter reads back, and the MAC covers it', async (t) => {
  const counter = fc.bigInt({ min: 1n, max: MAX_COUNTER });
  fc.assert(
    fc.property(id, matricula, fc.constantFrom('executado' as const, 'falhou' as const), detail, counter, (i, m, outcome, d, c) => {
      const line = signLine(withCounter(serializeAnswer({ id: i, matricula: m, outcome, detail: d }), c), KEY);
      const parsed = parseAnswerLine(line);
      return typeof parsed !== 'string' && parsed.counter === c && parsed.detail === d && parsed.signature !== undefined && verifyMac(parsed.signature.content, parsed.signature.mac, KEY);
    }),
  );
  fc.assert(
    fc.property(matricula, instant, fc.constantFrom(...EVENT_TYPES), detail, counter, counter, (m, timestamp, type, d, c, other) => {
      const line = signLine(withCounter(serializeEvent({ matricula: m, timestamp, type, detail: d }), c), KEY);
      const parsed = parseEventLine(line);
      const ok = typeof parsed !== 'string' && parsed.counter === c && parsed.timestamp === timestamp && parsed.signature !== undefined && verifyMac(parsed.signature.content, parsed.signature.mac, KEY);
      // A replayer who raises the counter breaks the MAC.
      const raised = parseEventLine(line.replace(`;${c};`, `;${other};`));
      const broken = other === c || (typeof raised !== 'string' && raised.signature !== undefined && !verifyMac(raised.signature.content, raised.signature.mac, KEY));
      return ok && broken;
    }),
  );
  const signedWithout = parseEventLine(signLine(serializeEvent({ matricula: '1', timestamp: Date.UTC(2026, 0, 1), type: 'falta_energia', detail: '' }), KEY));
  t.ok(typeof signedWithout !== 'string' && signedWithout.signature !== undefined && signedWithout.counter === undefined, 'a signed line of the old form parses, without a counter');
  for (const bad of ['0', '01', '9223372036854775808', '12a', '']) {
    t.equal(parseEventLine(`EVENTO;1;2026-01-01T00:00:00.000Z;falta_energia;;${bad};${'a'.repeat(64)}`), 'INVALID_COUNTER', `counter ${JSON.stringify(bad)}`);
  }
  t.equal(parseEventLine(`EVENTO;1;2026-01-01T00:00:00.000Z;falta_energia;;5;nao-e-mac`), 'INVALID_SIGNATURE');
  t.equal(parseEventLine(`EVENTO;1;2026-01-01T00:00:00.000Z;falta_energia;;5;6;${'a'.repeat(64)}`), 'FIELD_COUNT');
});

t.test('malformed lines are refused with a code', async (t) => {
  const cases: Array<[string, string, (line: string) => unknown]> = [
    ['MEDICAO;1;2026-01-01T00:00:00Z;1', 'UNKNOWN_RECORD', parseCommandLine],
    ['COMANDO;id;123;corte;2026-01-01T00:00:00.000Z', 'FIELD_COUNT', parseCommandLine],
    ['COMANDO;id com espaço;123;corte;2026-01-01T00:00:00.000Z;', 'INVALID_ID', parseCommandLine],
    ['COMANDO;id;12a;corte;2026-01-01T00:00:00.000Z;', 'INVALID_MATRICULA', parseCommandLine],
    ['COMANDO;id;123;explodir;2026-01-01T00:00:00.000Z;', 'INVALID_TYPE', parseCommandLine],
    ['COMANDO;id;123;corte;amanhã;', 'INVALID_TIMESTAMP', parseCommandLine],
    ['COMANDO;id;123;limite_demanda;2026-01-01T00:00:00.000Z;kw=2.5,kw=3', 'INVALID_PARAMETERS', parseCommandLine],
    ['COMANDO;id;123;corte;2026-01-01T00:00:00.000Z;;deadbeef', 'INVALID_SIGNATURE', parseCommandLine],
    ['RESPOSTA;id;123;talvez;', 'INVALID_TYPE', parseAnswerLine],
    ['EVENTO;123;2026-01-01T00:00:00.000Z;incendio;', 'INVALID_TYPE', parseEventLine],
    ['EVENTO;123;2026-01-01T00:00:00.000Z;falta_energia;\u00e7', 'INVALID_DETAIL', parseEventLine],
  ];
  for (const [line, code, parse] of cases) t.equal(parse(line), code, line);
  const proto = parseCommandLine('COMANDO;id;123;limite_demanda;2026-01-01T00:00:00.000Z;__proto__=x,constructor=y');
  t.same(typeof proto === 'string' ? proto : Object.entries(proto.parameters), [['__proto__', 'x'], ['constructor', 'y']], 'names of Object.prototype are plain parameter names, neither refused nor special');
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (junk) => {
      for (const parse of [parseCommandLine, parseAnswerLine, parseEventLine]) parse(junk);
      return true;
    }),
    { numRuns: 2000 },
  );
});

t.test('a datagram groups into its lines by tag, in order; an oversized one gives none', async (t) => {
  const tags = fc.constantFrom('RESPOSTA', 'EVENTO', 'COMANDO', 'ACK_EVENTO', 'LIXO');
  fc.assert(
    fc.property(fc.array(fc.tuple(tags, fc.stringMatching(/^[ -~]{0,40}$/)), { maxLength: 20 }), (pairs) => {
      const lines = pairs.map(([tag, rest]) => `${tag};${rest}`.replaceAll('\n', ''));
      const { groups, lines: count } = linesByTag(Buffer.from(lines.join('\n'), 'latin1'));
      const regrouped = [...groups.values()].flat();
      return count === lines.length && regrouped.length === lines.length && [...groups].every(([tag, group]) => JSON.stringify(group) === JSON.stringify(lines.filter((line) => lineTag(line) === tag)));
    }),
  );
  t.equal(linesByTag(Buffer.alloc(1401, 0x41)).groups.size, 0);
  t.equal(linesByTag(Buffer.from('EVENTO;1\n\nEVENTO;2\n')).groups.get('EVENTO')?.length, 2, 'empty lines dropped');
});

t.test('details are UTF-8 text: any printable text without ; reads back from the bytes a meter sends, signed or not; bad bytes are refused', async (t) => {
  const text = fc.string({ unit: fc.constantFrom('a', 'ú', 'ç', 'ã', 'é', ' ', '1', ',', '€', '🙂', 'Ô'), maxLength: 200 }).filter((s) => [...s].length <= 200);
  /** What the server holds: the datagram's bytes, one latin1 character each. */
  const received = (line: string): string => Buffer.from(line, 'utf8').toString('latin1');
  fc.assert(
    fc.property(matricula, instant, text, fc.bigInt({ min: 1n, max: MAX_COUNTER }), (m, timestamp, d, c) => {
      const plain = parseEventLine(received(serializeEvent({ matricula: m, timestamp, type: 'falta_energia', detail: d })));
      const line = signLine(withCounter(serializeEvent({ matricula: m, timestamp, type: 'falta_energia', detail: d }), c), KEY);
      const signed = parseEventLine(received(line));
      return typeof plain !== 'string' && plain.detail === d && typeof signed !== 'string' && signed.detail === d && signed.signature !== undefined && verifyMac(signed.signature.content, signed.signature.mac, KEY);
    }),
  );
  const event = (detailBytes: string): unknown => parseEventLine(`EVENTO;1;2026-11-30T10:01:00.000Z;falta_energia;${detailBytes}`);
  t.equal(event('\xfaltimo'), 'INVALID_DETAIL', 'latin1 text (not UTF-8) is refused');
  t.equal(event('\xc3'), 'INVALID_DETAIL', 'a cut UTF-8 sequence is refused');
  t.equal(event(received('a\u0085b')), 'INVALID_DETAIL', 'a C1 control character is refused');
  t.equal(event(received('a\u200bb')), 'INVALID_DETAIL', 'an invisible format character is refused');
  t.equal(event(received('ú'.repeat(201))), 'INVALID_DETAIL', 'more than 200 characters is refused');
  t.same((event(received('ú'.repeat(200))) as { detail: string }).detail, 'ú'.repeat(200));
});
