/**
 * The readings CSV (protocol/readings-csv.ts): every reading the export
 * writes reads back the same, whatever its quantities and flags; a line
 * that is not a reading names its problem.
 */
import fc from 'fast-check';
import t from 'tap';
import { isReadingsCsvHeader, parseReadingsCsvLine, READINGS_CSV_HEADER } from '../../protocol/readings-csv.js';
import { QUANTITIES } from '../../protocol/quantities.js';
import { CSV_HEADER, csvLine } from '../../server/routes/medicoes.js';
import { instantArbitrary, registerArbitrary } from './arbitraries.js';
import { qualityFlags } from '../../domain/readings/quality.js';

const quantities = fc.record(Object.fromEntries(QUANTITIES.map((spec) => [spec.name, fc.integer({ min: 0, max: spec.max })])), { requiredKeys: [] });
const stored = fc.record({
  matricula: fc.stringMatching(/^[0-9]{1,20}$/),
  timestamp: instantArbitrary,
  consumo: registerArbitrary,
  quantities: fc.option(quantities, { nil: undefined }),
  quality: fc.integer({ min: 0, max: 15 }),
});

t.test('every exported line reads back as the reading it was, with its flags', async () => {
  t.ok(isReadingsCsvHeader(CSV_HEADER), 'the export writes the header the import expects');
  t.ok(isReadingsCsvHeader(`\uFEFF${READINGS_CSV_HEADER}`), 'a BOM (a spreadsheet saved it) is ignored');
  fc.assert(
    fc.property(stored, (reading) => {
      const line = csvLine(reading);
      const parsed = parseReadingsCsvLine(line.slice(0, -1)); // the \n split off; the \r stays
      if (!parsed.ok) return false;
      const measured = reading.quantities !== undefined && Object.keys(reading.quantities).length > 0;
      const expected = { matricula: reading.matricula, timestamp: reading.timestamp, consumo: reading.consumo, ...(measured ? { quantities: reading.quantities } : {}) };
      t.same(parsed.reading, expected);
      return parsed.flags.join('+') === qualityFlags(reading.quality).join('+');
    }),
    { numRuns: 500 },
  );
});

t.test('a line that is not a reading names its problem', async () => {
  const cases: Array<[string, string]> = [
    ['2026-11-20T12:00:00.000Z,13456789,1350.5,,,,,', 'campos'],
    ['2026-11-20T12:00:00.000Z,13456789,1350.5,,,,,,valida,x', 'campos'],
    ['20-11-2026 12:00:00,13456789,1350.5,,,,,,valida', 'data_hora'],
    ['2026-02-30T12:00:00.000Z,13456789,1350.5,,,,,,valida', 'data_hora'],
    ['2026-11-20T12:00:00.000Z,1345a789,1350.5,,,,,,valida', 'matricula'],
    ['2026-11-20T12:00:00.000Z,13456789,-1,,,,,,valida', 'consumo'],
    ['2026-11-20T12:00:00.000Z,13456789,1.0001,,,,,,valida', 'consumo'],
    ['2026-11-20T12:00:00.000Z,13456789,1350.5,abc,,,,,valida', 'grandeza'],
    ['2026-11-20T12:00:00.000Z,13456789,1350.5,,,,2,,valida', 'grandeza'],
    ['2026-11-20T12:00:00.000Z,13456789,1350.5,,,,,,=cmd()', 'qualidade'],
    ['2026-11-20T12:00:00.000Z,13456789,1350.5,,,,,,', 'qualidade'],
    [`2026-11-20T12:00:00.000Z,13456789,1350.5,,,,,,${'x'.repeat(500)}`, 'linha_longa'],
  ];
  for (const [line, problem] of cases) t.same(parseReadingsCsvLine(line), { ok: false, problem }, line.slice(0, 70));
  t.same(parseReadingsCsvLine('2026-11-20T12:00:00.000Z,13456789,1350.5,219.8,,1.05,,,pico+lacuna_antes\r'), {
    ok: true,
    reading: { matricula: '13456789', timestamp: Date.UTC(2026, 10, 20, 12), consumo: 1_350_500n, quantities: { voltage: 219_800, activePower: 1050 } },
    flags: ['pico', 'lacuna_antes'],
  });
});
