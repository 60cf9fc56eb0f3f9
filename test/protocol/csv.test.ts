/**
 * CSV fields: any text reads back as written (RFC 4180), and text from
 * someone else never opens as a formula in a spreadsheet (OWASP: a cell
 * starting with =, +, -, @, tab or CR is prefixed with ').
 */
import fc from 'fast-check';
import t from 'tap';
import { csvField, csvText } from '../../protocol/csv.js';

/** One field read back as RFC 4180 §2 says (the reader a spreadsheet has). */
function readField(field: string): string {
  if (!field.startsWith('"')) return field;
  return field.slice(1, -1).replaceAll('""', '"');
}

const text = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\r', '\n', '=', '+', '-', '@', '\t', ' ', "'", 'ç'), maxLength: 20 });

t.test('csvField: any text reads back as it was', async () => {
  fc.assert(fc.property(text, (value) => readField(csvField(value)) === value));
});

t.test('csvText: never read as a formula, and only a formula-like start is changed', async () => {
  fc.assert(
    fc.property(text, (value) => {
      const read = readField(csvText(value));
      const dangerous = /^[=+\-@\t\r]/.test(value);
      return !/^[=+\-@\t\r]/.test(read) && read === (dangerous ? `'${value}` : value);
    }),
  );
  t.equal(csvText('=HYPERLINK("http://evil.example","clique")'), `"'=HYPERLINK(""http://evil.example"",""clique"")"`);
  t.equal(csvText("=1+cmd|' /C calc'!A0"), "'=1+cmd|' /C calc'!A0");
  t.equal(csvText('joana'), 'joana');
  t.equal(csvText(null), '');
});
