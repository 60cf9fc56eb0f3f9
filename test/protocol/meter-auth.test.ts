import fc from 'fast-check';
import t from 'tap';
import { MAX_KEY_BYTES, MIN_KEY_BYTES, parseKeyFile, signLine, verifyMac } from '../../protocol/meter-auth.js';
import { parseReadingDatagram, serializeReading } from '../../protocol/meter-protocol.js';
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
