/**
 * Reading ANEEL's tariff file: the rows of one distributor's B1 residential
 * Tarifa de Aplicação kept, everything else counted by reason, unreadable
 * rows named by line; the same in ISO-8859-1 and UTF-8; the line splitter
 * and the R$/MWh values property-tested.
 */
import fc from 'fast-check';
import t from 'tap';
import { decodeAneelFile, parseAneelTariffs, splitAneelLine } from '../../database/aneel-tariffs.js';

const HEADER = 'DatGeracaoConjuntoDados;DscREH;SigAgente;NumCNPJDistribuidora;DatInicioVigencia;DatFimVigencia;DscBaseTarifaria;DscSubGrupo;DscModalidadeTarifaria;DscClasse;DscSubClasse;DscDetalhe;NomPostoTarifario;DscUnidadeTerciaria;SigAgenteAcessante;VlrTUSD;VlrTE';
const row = (fields: Partial<Record<string, string>>): string => {
  const values: Record<string, string> = {
    DatGeracaoConjuntoDados: '2026-11-02',
    DscREH: 'REH 9.999/2026',
    SigAgente: 'TESTE-D',
    NumCNPJDistribuidora: '00000000000000',
    DatInicioVigencia: '2026-04-22',
    DatFimVigencia: '2027-04-21',
    DscBaseTarifaria: 'Tarifa de Aplicação',
    DscSubGrupo: 'B1',
    DscModalidadeTarifaria: 'Convencional',
    DscClasse: 'Residencial',
    DscSubClasse: 'Residencial',
    DscDetalhe: 'Não se aplica',
    NomPostoTarifario: 'Não se aplica',
    DscUnidadeTerciaria: 'MWh',
    SigAgenteAcessante: 'Não se aplica',
    VlrTUSD: '412,38',
    VlrTE: '294,59',
    ...fields,
  };
  return HEADER.split(';').map((name) => `"${values[name]}"`).join(';');
};

const FILE = [
  HEADER.split(';').map((name) => `"${name}"`).join(';'),
  row({}),
  row({ DscModalidadeTarifaria: 'Branca', NomPostoTarifario: 'Ponta', VlrTUSD: '1.402,10', VlrTE: '480,00' }),
  row({ DscModalidadeTarifaria: 'Branca', NomPostoTarifario: 'Intermediário', VlrTUSD: '901,5', VlrTE: '300,00' }),
  row({ DscModalidadeTarifaria: 'Branca', NomPostoTarifario: 'Fora ponta', VlrTUSD: '350,00', VlrTE: ',00' }),
  row({ SigAgente: 'OUTRA-D' }),
  row({ SigAgente: 'OUTRA-D' }),
  row({ DscSubClasse: 'Baixa Renda' }),
  row({ DscSubGrupo: 'B3', DscClasse: 'Comercial, Serviços e Outras' }),
  row({ DscBaseTarifaria: 'Tarifa Econômica' }),
  row({ DscModalidadeTarifaria: 'Pré-pagamento' }),
  row({ DscDetalhe: 'SCEE' }),
  row({ DscUnidadeTerciaria: 'R$/kW' }),
  row({ VlrTE: 'abc' }),
  row({ DatInicioVigencia: '2026-02-30' }),
  row({ DscModalidadeTarifaria: 'Branca', NomPostoTarifario: 'Não se aplica' }),
  '"REH;"TESTE-D"',
  '',
].join('\r\n');

t.test('one distributor\'s B1 residential tariffs, in R$/kWh; the rest counted by reason, bad rows named', async (t) => {
  for (const [encoding, bytes] of [['latin1', Buffer.from(FILE, 'latin1')], ['utf-8', Buffer.from(`\uFEFF${FILE}`, 'utf8')]] as const) {
    const result = parseAneelTariffs(bytes, 'teste-d');
    t.same(
      result.tariffs.map((x) => [x.modalidade, x.posto, x.vigenciaInicio, x.vigenciaFim, x.te, x.tusd, x.resolucao]),
      [
        ['convencional', 'nao_se_aplica', '2026-04-22', '2027-04-21', 29_459_000n, 41_238_000n, 'REH 9.999/2026'],
        ['branca', 'ponta', '2026-04-22', '2027-04-21', 48_000_000n, 140_210_000n, 'REH 9.999/2026'],
        ['branca', 'intermediario', '2026-04-22', '2027-04-21', 30_000_000n, 90_150_000n, 'REH 9.999/2026'],
        ['branca', 'fora_ponta', '2026-04-22', '2027-04-21', 0n, 35_000_000n, 'REH 9.999/2026'],
      ],
      `${encoding}: 294,59 R$/MWh is 0,29459 R$/kWh; thousands separators and a bare ,00 read`,
    );
    t.same(result.skipped, { distribuidora: 2, base: 1, subgrupo: 1, classe: 0, subclasse: 1, detalhe: 1, modalidade: 1, unidade: 1 });
    t.same(
      result.malformed.map((m) => m.line),
      [14, 15, 16, 17],
    );
    t.match(result.malformed[0]?.problem, 'VlrTE "abc"');
    t.match(result.malformed[1]?.problem, 'DatInicioVigencia "2026-02-30"');
    t.match(result.malformed[2]?.problem, 'not a posto of the branca modality');
    t.match(result.malformed[3]?.problem, 'unclosed quote');
    t.equal(result.rows, 16);
  }
  t.equal(decodeAneelFile(Buffer.from('Aplicação', 'latin1')), 'Aplicação', 'ISO-8859-1 decoded');
  t.throws(() => parseAneelTariffs(Buffer.from('a;b;c\n1;2;3'), 'X'), /missing columns SigAgente/);
});

t.test('the line splitter gives back any fields, quoted or not', async (t) => {
  const field = fc.string({ maxLength: 12 }).filter((s) => s === s.trim() && !/[\r\n]/.test(s));
  fc.assert(
    fc.property(fc.array(fc.tuple(field, fc.boolean()), { minLength: 1, maxLength: 8 }), (fields) => {
      const line = fields.map(([text, quoted]) => (quoted || text.includes(';') || text.startsWith('"') ? `"${text.replace(/"/g, '""')}"` : text)).join(';');
      return JSON.stringify(splitAneelLine(line)) === JSON.stringify(fields.map(([text]) => text));
    }),
  );
});

t.test('R$/MWh values become R$/kWh exactly', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 99 }), (whole, cents) => {
      const text = `${whole},${String(cents).padStart(2, '0')}`;
      const [tariff] = parseAneelTariffs(Buffer.from([HEADER, row({ VlrTE: text })].join('\n')), 'TESTE-D').tariffs;
      // x,yy R$/MWh = x.yy / 1000 R$/kWh = (x * 100 + yy) * 10^3 in 10^-8 R$/kWh.
      return tariff?.te === BigInt(whole * 100 + cents) * 1000n;
    }),
  );
});
