import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t from 'tap';
import { MAX_KEY_BYTES, MIN_KEY_BYTES, parseKeyFile, signLine, verifyMac } from '../../protocol/meter-auth.js';
import { parseAnswerLine, parseEventLine } from '../../protocol/meter-commands.js';
import { parseReadingDatagram, parseServerDatagram, serializeAck, serializeReading, serializeRejection } from '../../protocol/meter-protocol.js';
import { instantArbitrary, registerArbitrary } from './arbitraries.js';

const options = { legacyTimeZone: 'UTC' };
const key = fc.uint8Array({ minLength: MIN_KEY_BYTES, maxLength: MAX_KEY_BYTES }).map((bytes) => Buffer.from(bytes));
const reading = fc.record({ matricula: fc.stringMatching(/^\d{1,20}$/), timestamp: instantArbitrary, consumo: registerArbitrary });

t.test('the MAC matches an independent HMAC-SHA256 (openssl dgst -mac HMAC), the example in protocol/README.md', async () => {
  const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  t.equal(
    signLine('MEDICAO;13456789;2026-11-20T23:40:00.000Z;1302', key),
    'MEDICAO;13456789;2026-11-20T23:40:00.000Z;1302;8b1fa99e17142aee1e8fd5cfbbc3468716f1c4971aca466111919a9c4cccf3a2',
  );
});

t.test('the signed answer and events of protocol/README.md, with their invocation counters, are what a meter with the example key signs (openssl dgst agrees)', async () => {
  const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const readme = readFileSync(fileURLToPath(new URL('../../../protocol/README.md', import.meta.url)), 'utf8');
  const examples = readme.split('\n').filter((line) => /^(EVENTO|RESPOSTA);.*;\d+;[0-9a-f]{64}$/.test(line));
  t.equal(examples.length, 3);
  for (const line of examples) {
    const content = line.slice(0, -65);
    t.equal(signLine(content, key), line, line.slice(0, 40));
    // What the server reads: the datagram's bytes, one latin1 character each.
    const bytes = Buffer.from(line, 'utf8').toString('latin1');
    const parsed = line.startsWith('EVENTO') ? parseEventLine(bytes) : parseAnswerLine(bytes);
    t.ok(typeof parsed !== 'string' && parsed.counter !== undefined && verifyMac(parsed.signature?.content ?? '', line.slice(-64), key), 'with its counter, and its MAC verifies over the bytes received');
    if (typeof parsed !== 'string') t.equal(parsed.detail, content.split(';')[line.startsWith('EVENTO') ? 4 : 4], 'the detail read back as text, accents and all');
  }
});

t.test('a signed line parses to the same reading, and its MAC verifies under its key only', async () => {
  fc.assert(
    fc.property(reading, key, key, (value, right, wrong) => {
      const line = signLine(serializeReading(value), right);
      const [parsed] = parseReadingDatagram(Buffer.from(line), options).values;
      t.same({ matricula: parsed?.matricula, timestamp: parsed?.timestamp, consumo: parsed?.consumo }, value);
      const signature = parsed?.signature;
      t.ok(signature !== undefined && verifyMac(signature.content, signature.mac, right));
      if (!right.equals(wrong)) t.notOk(signature !== undefined && verifyMac(signature.content, signature.mac, wrong));
    }),
  );
});

t.test('changing any character of a signed line makes it unparseable or unverifiable', async () => {
  fc.assert(
    fc.property(reading, key, fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (value, k, at, code) => {
      const line = signLine(serializeReading(value), k);
      const index = at % line.length;
      if (line.charCodeAt(index) === code) return;
      const tampered = line.slice(0, index) + String.fromCharCode(code) + line.slice(index + 1);
      const { values } = parseReadingDatagram(Buffer.from(tampered), options);
      const signature = values[0]?.signature;
      const authentic = signature !== undefined && verifyMac(signature.content, signature.mac, k);
      t.notOk(authentic, `tampered at ${index}: ${tampered}`);
    }),
    { numRuns: 2000 },
  );
});

t.test('a malformed MAC field is a typed line error; unsigned lines still parse', async () => {
  const line = serializeReading({ matricula: '1', timestamp: Date.UTC(2026, 0, 1), consumo: 1000n });
  for (const mac of ['', 'abc', 'A'.repeat(64), 'g'.repeat(64), '0'.repeat(63), '0'.repeat(65)]) {
    t.same(parseReadingDatagram(Buffer.from(`${line};${mac}`), options).errors, [{ line: 1, code: 'INVALID_SIGNATURE' }], JSON.stringify(mac));
  }
  t.equal(parseReadingDatagram(Buffer.from(line), options).values[0]?.signature, undefined);
});

t.test('keys files: good lines load, every bad line is reported with its number', async () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(fc.stringMatching(/^\d{1,20}$/), key), { selector: ([matricula]) => matricula, maxLength: 20 }), (entries) => {
      const text = ['# chaves', '', ...entries.map(([matricula, k]) => `${matricula};${k.toString('hex')}`)].join('\n');
      const { keys, problems } = parseKeyFile(text);
      t.same(problems, []);
      t.same([...keys.entries()].map(([m, k]) => [m, k.toString('hex')]), entries.map(([m, k]) => [m, k.toString('hex')]));
    }),
  );
  const { keys, problems } = parseKeyFile(['1;' + 'ab'.repeat(16), 'x;' + 'ab'.repeat(16), '2;abc', '3;' + 'ab'.repeat(8), '1;' + 'cd'.repeat(16), '4;' + 'ab'.repeat(16) + ';extra'].join('\n'));
  t.equal(keys.size, 1);
  t.same(problems.map((p) => p.line), [2, 3, 4, 5, 6]);
});

t.test('the signed ACK and REJEITADA examples in protocol/README.md verify, and parse with their signature', async () => {
  const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const ack = 'ACK;13456789;2026-11-20T23:40:00.000Z;8180b48200c0b9c28b893f2c510c07039ef56e56fa99ebb1d22f2da4b91d4767';
  const rejection = 'REJEITADA;13456789;2026-11-20T23:40:00.050Z;intervalo;caed433929da89e84443d29f51afa5d2a846d682d9edb8df58bae6caa2121bd1';
  const { values, errors } = parseServerDatagram(Buffer.from(`${ack}\n${rejection}`));
  t.same(errors, []);
  t.same(values.map((line) => [line.kind, line.matricula, line.timestamp, 'motivo' in line ? line.motivo : undefined]), [
    ['ack', '13456789', Date.UTC(2026, 10, 20, 23, 40), undefined],
    ['rejeitada', '13456789', Date.UTC(2026, 10, 20, 23, 40, 0, 50), 'intervalo'],
  ]);
  for (const line of values) t.ok(line.signature !== undefined && verifyMac(line.signature.content, line.signature.mac, key));
});

t.test('server lines: serializing then parsing is the identity, signed or not', async () => {
  fc.assert(
    fc.property(reading, fc.constantFrom('futura', 'antiga', 'intervalo', 'atrasada', 'conflito', 'nao_cadastrado'), fc.option(key), (value, motivo, k) => {
      const sign = (line: string): string => (k === null ? line : signLine(line, k));
      const { values, errors } = parseServerDatagram(Buffer.from(`${sign(serializeAck(value))}\n${sign(serializeRejection({ ...value, motivo }))}`));
      t.same(errors, []);
      t.same(values.map((line) => [line.kind, line.matricula, line.timestamp, line.signature !== undefined]), [
        ['ack', value.matricula, value.timestamp, k !== null],
        ['rejeitada', value.matricula, value.timestamp, k !== null],
      ]);
    }),
  );
});
