import fc from 'fast-check';
import t from 'tap';
import {
  MAX_DATAGRAM_BYTES,
  packLines,
  parseAckDatagram,
  parseReadingDatagram,
  serializeAck,
  serializeReading,
  type Reading,
} from '../../protocol/meter-protocol.js';
import { formatQuantities, looksLikeQuantities, parseQuantities, QUANTITIES, type Quantities } from '../../protocol/quantities.js';
import { parseIsoTimestamp } from '../../protocol/timestamp.js';
import { formatRegister, parseRegister } from '../../protocol/decimal.js';
import { signLine } from '../../protocol/meter-auth.js';

const options = { legacyTimeZone: 'America/Sao_Paulo' };
const matriculaArbitrary = fc.stringMatching(/^\d{1,20}$/);
const timestampArbitrary = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) });
/** Quantities as the protocol carries them: each optional, integer thousandths within its limit; absent when none. */
const quantitiesArbitrary = fc
  .record(Object.fromEntries(QUANTITIES.map((spec) => [spec.name, fc.integer({ min: 0, max: spec.max })])), { requiredKeys: [] })
  .map((quantities) => (Object.keys(quantities).length === 0 ? undefined : (quantities as Quantities)));
const readingArbitrary = fc
  .record({
    matricula: matriculaArbitrary,
    timestamp: timestampArbitrary,
    consumo: fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }),
    quantities: quantitiesArbitrary,
  })
  .map(({ quantities, ...reading }): Reading => (quantities === undefined ? reading : { ...reading, quantities }));

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

t.test('serializing then parsing readings is the identity, alone or packed several per datagram', async () => {
  fc.assert(
    fc.property(fc.array(readingArbitrary, { minLength: 1, maxLength: 40 }), fc.boolean(), (readings, trailingNewline) => {
      const datagrams = packLines(readings.map(serializeReading));
      const parsed: Reading[] = [];
      for (const datagram of datagrams) {
        t.ok(Buffer.byteLength(datagram) <= MAX_DATAGRAM_BYTES);
        const result = parseReadingDatagram(bytes(datagram + (trailingNewline ? '\n' : '')), options);
        t.same(result.errors, []);
        parsed.push(...result.values);
      }
      t.same(parsed, readings);
    }),
    { numRuns: 200 },
  );
});

t.test('quantities: format then parse is the identity, in any order of their keys', async () => {
  fc.assert(
    fc.property(quantitiesArbitrary.filter((q) => q !== undefined), fc.integer(), (quantities, shuffle) => {
      const text = formatQuantities(quantities) as string;
      t.same(parseQuantities(text), quantities);
      const parts = text.split(',');
      const rotated = [...parts.slice(Math.abs(shuffle) % parts.length), ...parts.slice(0, Math.abs(shuffle) % parts.length)];
      t.same(parseQuantities(rotated.join(',')), quantities);
    }),
    { numRuns: 300 },
  );
});

t.test('quantities: malformed, repeated, unknown or out-of-range values make the line invalid, and only that line', async () => {
  const line = (field: string) => `MEDICAO;1;2026-11-20T23:40:00Z;5;${field}`;
  for (const bad of ['V=', 'V=-1', 'V=1e3', 'V=220,V=221', 'X=1', 'v=220', 'FP=1.001', 'V=220.0001', 'V=220,', ',V=220', 'V==220', `V=${'9'.repeat(200)}`]) {
    const result = parseReadingDatagram(bytes(`${line(bad)}\nMEDICAO;2;2026-11-20T23:40:00Z;5`), options);
    t.same([result.errors.map((e) => e.code), result.values.map((r) => r.matricula)], [['INVALID_QUANTITIES'], ['2']], bad);
  }
  const good = parseReadingDatagram(bytes(line('Hz=60.01,V=127')), options).values[0];
  t.same(good?.quantities, { frequency: 60_010, voltage: 127_000 });
  t.equal(serializeReading(good as Reading), 'MEDICAO;1;2026-11-20T23:40:00.000Z;5;V=127,Hz=60.01', 'written in the canonical order');
  t.same(parseReadingDatagram(bytes('MEDICAO;1;2026-11-20T23:40:00Z;5;V=1;V=2'), options).errors.map((e) => e.code), ['INVALID_SIGNATURE'], 'a second quantities field is no MAC');
});

t.test('a signed line covers its quantities: the MAC is over everything before it', async () => {
  const key = Buffer.alloc(32, 7);
  const signed = signLine('MEDICAO;1;2026-11-20T23:40:00.000Z;5;V=220.5,kW=1.2', key);
  const parsed = parseReadingDatagram(bytes(signed), options).values[0];
  t.equal(parsed?.signature?.content, 'MEDICAO;1;2026-11-20T23:40:00.000Z;5;V=220.5,kW=1.2');
  t.same(parsed?.quantities, { voltage: 220_500, activePower: 1_200 });
});

t.test('serializing then parsing ACKs is the identity', async () => {
  fc.assert(
    fc.property(fc.array(fc.record({ matricula: matriculaArbitrary, timestamp: timestampArbitrary }), { minLength: 1, maxLength: 60 }), (acks) => {
      const parsed = packLines(acks.map(serializeAck)).flatMap((datagram) => parseAckDatagram(bytes(datagram)).values);
      t.same(parsed, acks);
    }),
    { numRuns: 200 },
  );
});

t.test('the parsers never throw on arbitrary bytes and account for every line', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1600 }), (data) => {
      const readings = parseReadingDatagram(data, options);
      const acks = parseAckDatagram(data);
      for (const result of [readings, acks]) {
        for (const error of result.errors) t.type(error.code, 'string');
      }
    }),
    { numRuns: 500 },
  );
});

t.test('malformed lines are reported one by one; the valid lines of the datagram survive', async () => {
  const good = 'MEDICAO;13456789;2026-11-20T23:40:00.000Z;1302';
  const datagram = [
    good,
    'MEDICAO;13456789;2026-11-20T23:41:00Z;1302.5',
    'MEDICAO;abc;2026-11-20T23:40:00Z;1',
    'MEDICAO;123456789012345678901;2026-11-20T23:40:00Z;1',
    'MEDICAO;1;2026-02-30T00:00:00Z;1',
    'MEDICAO;1;2026-11-20T23:40:00Z;-5',
    'MEDICAO;1;2026-11-20T23:40:00Z;NaN',
    'MEDICAO;1;2026-11-20T23:40:00Z;1e9',
    'MEDICAO;1;2026-11-20T23:40:00Z',
    'MEDICAO;1;2026-11-20T23:40:00Z;1;extra', // a fifth field is a MAC, and this is none
    'LEITURA;1;2026-11-20T23:40:00Z;1',
    '',
    'MEDICAO;09812389;2026-11-20T23:42:00.1Z;0.125',
  ].join('\n');
  const result = parseReadingDatagram(bytes(datagram), options);
  t.same(
    result.values.map((r) => [r.matricula, r.timestamp, r.consumo]),
    [
      ['13456789', Date.UTC(2026, 10, 20, 23, 40), 1302000n],
      ['13456789', Date.UTC(2026, 10, 20, 23, 41), 1302500n],
      ['09812389', Date.UTC(2026, 10, 20, 23, 42, 0, 100), 125n],
    ],
  );
  t.same(
    result.errors.map((e) => [e.line, e.code]),
    [
      [3, 'INVALID_MATRICULA'],
      [4, 'INVALID_MATRICULA'],
      [5, 'INVALID_TIMESTAMP'],
      [6, 'INVALID_CONSUMO'],
      [7, 'INVALID_CONSUMO'],
      [8, 'INVALID_CONSUMO'],
      [9, 'FIELD_COUNT'],
      [10, 'INVALID_SIGNATURE'],
      [11, 'UNKNOWN_RECORD'],
      [12, 'EMPTY_LINE'],
    ],
  );
  t.same(parseReadingDatagram(bytes(`${good}\r\n`), options).errors.map((e) => e.code), ['INVALID_CONSUMO'], 'CRLF is not a line end');
  const oversized = parseReadingDatagram(Buffer.alloc(MAX_DATAGRAM_BYTES + 1, 0x41), options);
  t.same(oversized, { values: [], errors: [{ line: 0, code: 'DATAGRAM_TOO_LARGE' }] });
  t.same(parseReadingDatagram(Buffer.alloc(0), options).errors.map((e) => e.code), ['EMPTY_LINE']);
});

t.test('the original meters JSON datagram is one reading in the legacy time zone', async () => {
  const parse = (text: string) => parseReadingDatagram(bytes(text), options);
  const expected = { matricula: '13456789', timestamp: Date.UTC(2023, 2, 5, 19, 0), consumo: 1302000n };
  t.same(parse('{"matricula": 13456789, "consumo_atual": 1302, "data_hora": "05-03-2023 16:00:00"}').values, [expected]);
  t.same(parse(' {"matricula": "13456789", "consumo_atual": "1302", "data_hora": "05-03-2023 16:00:00"}\n').values, [expected]);
  t.same(parse('{"matricula": "09812389", "consumo_atual": 10.5, "data_hora": "05-03-2023 16:00:00"}').values[0]?.matricula, '09812389');
  for (const [text, code] of [
    ['{"matricula": 1', 'INVALID_LEGACY_JSON'],
    ['{"matricula": 1, "consumo_atual": 1}', 'INVALID_LEGACY_JSON'],
    ['{"matricula": -1, "consumo_atual": 1, "data_hora": "05-03-2023 16:00:00"}', 'INVALID_LEGACY_JSON'],
    ['{"matricula": 1.5, "consumo_atual": 1, "data_hora": "05-03-2023 16:00:00"}', 'INVALID_LEGACY_JSON'],
    ['{"matricula": "12a", "consumo_atual": 1, "data_hora": "05-03-2023 16:00:00"}', 'INVALID_MATRICULA'],
    ['{"matricula": 1, "consumo_atual": 1, "data_hora": "2023-03-05 16:00:00"}', 'INVALID_TIMESTAMP'],
    ['{"matricula": 1, "consumo_atual": 0.30000000000000004, "data_hora": "05-03-2023 16:00:00"}', 'INVALID_CONSUMO'],
    ['{"matricula": 1, "consumo_atual": -3, "data_hora": "05-03-2023 16:00:00"}', 'INVALID_LEGACY_JSON'],
  ] as const) {
    t.same(parse(text).errors.map((e) => e.code), [code], text);
  }
});

t.test('packLines keeps every datagram within the limit and loses no line', async () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[A-Z0-9;:.-]{1,120}$/), { maxLength: 100 }), (lines) => {
      const datagrams = packLines(lines, 300);
      for (const datagram of datagrams) t.ok(Buffer.byteLength(datagram) <= 300);
      t.same(datagrams.flatMap((d) => d.split('\n')), lines);
    }),
    { numRuns: 100 },
  );
});

/** The split-based reading of a line that parseReadingLine replaced (for speed): the reference its answers are checked against. */
function referenceReadingLine(line: string): unknown {
  if (line.length === 0) return 'EMPTY_LINE';
  const fields = line.split(';');
  if (fields[0] !== 'MEDICAO') return 'UNKNOWN_RECORD';
  if (fields.length < 4 || fields.length > 6) return 'FIELD_COUNT';
  const [, matricula, timestampText, consumoText] = fields as [string, string, string, string];
  let next = 4;
  const quantitiesText = fields.length > next && looksLikeQuantities(fields[next] as string) ? (fields[next++] as string) : undefined;
  const mac = fields[next++];
  if (next < fields.length) return 'FIELD_COUNT';
  if (!/^\d{1,20}$/.test(matricula)) return 'INVALID_MATRICULA';
  const timestamp = parseIsoTimestamp(timestampText);
  if (timestamp === undefined) return 'INVALID_TIMESTAMP';
  const consumo = parseRegister(consumoText);
  if (consumo === undefined) return 'INVALID_CONSUMO';
  let quantities: Quantities | undefined;
  if (quantitiesText !== undefined && (quantities = parseQuantities(quantitiesText)) === undefined) return 'INVALID_QUANTITIES';
  if (mac === undefined) return quantities === undefined ? { matricula, timestamp, consumo } : { matricula, timestamp, consumo, quantities };
  if (!/^[0-9a-f]{64}$/.test(mac)) return 'INVALID_SIGNATURE';
  const signature = { content: line.slice(0, line.length - mac.length - 1), mac };
  return quantities === undefined ? { matricula, timestamp, consumo, signature } : { matricula, timestamp, consumo, quantities, signature };
}

t.test('a reading line is read exactly as the split-based reference reads it, valid or not (any fields, any count)', async () => {
  const field = fc.oneof(
    fc.constantFrom('MEDICAO', 'MEDICA', 'MEDICAOX', 'medicao', '', 'ACK', 'V=220', 'V=x', 'A=5.12,kW=1.05', '=', 'a'.repeat(64), 'f'.repeat(64), '0'.repeat(21), '2026-11-20T23:40:00Z', '2026-02-30T00:00:00Z', '1302.5', '1302.5000', '-1', '1e3'),
    matriculaArbitrary,
    timestampArbitrary.map((ms) => new Date(ms).toISOString()),
    fc.bigInt({ min: 0n, max: 10n ** 16n }).map(String),
    fc.string({ maxLength: 12 }),
  );
  const line = fc.oneof(
    fc.array(field, { minLength: 0, maxLength: 8 }).map((fields) => fields.join(';')),
    fc.tuple(matriculaArbitrary, timestampArbitrary, fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.array(field, { maxLength: 3 })).map(
      ([m, ts, c, rest]) => ['MEDICAO', m, new Date(ts).toISOString(), formatRegister(c), ...rest].join(';'),
    ),
  );
  fc.assert(
    fc.property(line, (text) => {
      const single = text.replace(/\n/g, '');
      // A datagram opening with `{` is the original meters' JSON, read elsewhere.
      fc.pre(!/^[ \t\r]*\{/.test(single));
      const { values, errors } = parseReadingDatagram(bytes(single), options);
      const expected = referenceReadingLine(single);
      if (typeof expected === 'string') return values.length === 0 && errors.length === 1 && errors[0]?.code === expected;
      const json = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
      return errors.length === 0 && json(values) === json([expected]);
    }),
    { numRuns: 3000 },
  );
});
