/**
 * ANEEL's file's own overlaps, settled before the store: the later act, then
 * the narrower validity, prevails over the days rows share. Checked on real
 * rows of ANEEL's file (CEA's two acts for one period, Ceraçá's year-long row
 * beside the rows that split it), through the import command, and day by
 * day against a brute-force reference.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { actDate, parseAneelTariffs } from '../../database/aneel-tariffs.js';
import { run } from '../../cli/import.js';
import { resolveOverlaps } from '../../domain/billing/tariff-overlaps.js';
import type { Tariff } from '../../database/tariff-store.js';

const HEADER =
  '"DatGeracaoConjuntoDados";"DscREH";"SigAgente";"NumCNPJDistribuidora";"DatInicioVigencia";"DatFimVigencia";"DscBaseTarifaria";"DscSubGrupo";"DscModalidadeTarifaria";"DscClasse";"DscSubClasse";"DscDetalhe";"NomPostoTarifario";"DscUnidadeTerciaria";"SigAgenteAcessante";"VlrTUSD";"VlrTE"';
// Real rows of ANEEL's tarifas-homologadas-distribuidoras-energia-eletrica.csv as generated on 2026-09-30
// (same source as resources/tarifas-homologadas-amostra-cemig-d.md), unchanged.
const REAL_ROWS = [
  '"2026-09-30";"RESOLUÇÃO HOMOLOGATÓRIA Nº 2.979, DE 23 DE NOVEMBRO DE 2021";"CEA";"05965546000109";"2021-11-30";"2021-12-16";"Tarifa de Aplicação";"B1";"Convencional";"Residencial";"Residencial";"Não se aplica";"Não se aplica";"MWh";"Não se aplica";"432,18";"108,61"',
  '"2026-09-30";"RESOLUÇÃO HOMOLOGATÓRIA Nº 3.001, DE 13 DE DEZEMBRO DE 2021";"CEA";"05965546000109";"2021-11-30";"2021-12-16";"Tarifa de Aplicação";"B1";"Convencional";"Residencial";"Residencial";"Não se aplica";"Não se aplica";"MWh";"Não se aplica";"362,45";"142,80"',
  '"2026-09-30";"RESOLUÇÃO HOMOLOGATÓRIA Nº 3.537, DE 23 DE SETEMBRO DE 2025";"Ceraçá";"09364804000144";"2025-09-30";"2026-09-29";"Tarifa de Aplicação";"B1";"Convencional";"Residencial";"Residencial";"Não se aplica";"Não se aplica";"MWh";"Não se aplica";"567,80";"227,70"',
  '"2026-09-30";"RESOLUÇÃO HOMOLOGATÓRIA Nº 3.537, DE 23 DE SETEMBRO DE 2025";"Ceraçá";"09364804000144";"2025-09-30";"2025-12-31";"Tarifa de Aplicação";"B1";"Convencional";"Residencial";"Residencial";"Não se aplica";"Não se aplica";"MWh";"Não se aplica";"723,72";"227,70"',
  '"2026-09-30";"RESOLUÇÃO HOMOLOGATÓRIA Nº 3.537, DE 23 DE SETEMBRO DE 2025";"Ceraçá";"09364804000144";"2026-01-01";"2026-09-29";"Tarifa de Aplicação";"B1";"Convencional";"Residencial";"Residencial";"Não se aplica";"Não se aplica";"MWh";"Não se aplica";"567,80";"227,70"',
];
const FILE = Buffer.from([HEADER, ...REAL_ROWS, ''].join('\r\n'), 'utf8');
const byAct = (row: Tariff): string | undefined => actDate(row.resolucao);
const act = (x: Tariff): string | undefined => /Nº ([\d.]+)/.exec(x.resolucao)?.[1];
const summary = (tariffs: readonly Tariff[]) => tariffs.map((x) => [x.vigenciaInicio, x.vigenciaFim, x.tusd, x.te, act(x)]);

t.test('act dates as ANEEL writes them', async (t) => {
  t.equal(actDate('RESOLUÇÃO HOMOLOGATÓRIA Nº 3.589, DE 26 DE MAIO DE 2026'), '2026-05-26');
  t.equal(actDate('RESOLUÇÃO HOMOLOGATÓRIA N° 1.870, DE 7 DE ABRIL DE 2015'), '2015-04-07');
  t.equal(actDate('DESPACHO Nº 2.783, DE 27 DE NOVEMBRO DE 2018'), '2018-11-27');
  t.equal(actDate('DSP RETIFICAÇÃO DE 24 DE NOVEMBRO DE 2016'), '2016-11-24');
  t.equal(actDate('Resolução Homologatória nº 3.001, de 1º de março de 2021'), '2021-03-01');
  for (const unread of ['', 'REH 1/2026', 'DE 31 DE FEVEREIRO DE 2026', 'DE 3 DE BRUMARIO DE 2026']) t.equal(actDate(unread), undefined, `"${unread}" names no date`);
});

t.test('act dates: any date written as ANEEL writes it reads back; any other text names none or a real date', async (t) => {
  const MONTHS = ['JANEIRO', 'FEVEREIRO', 'MARÇO', 'ABRIL', 'MAIO', 'JUNHO', 'JULHO', 'AGOSTO', 'SETEMBRO', 'OUTUBRO', 'NOVEMBRO', 'DEZEMBRO'];
  const kinds = fc.constantFrom('RESOLUÇÃO HOMOLOGATÓRIA Nº', 'RESOLUÇÃO HOMOLOGATÓRIA N°', 'DESPACHO Nº', 'Resolução Homologatória nº');
  fc.assert(
    fc.property(fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), kinds, fc.integer({ min: 1, max: 9999 }), fc.boolean(), (date, kind, number, ordinal) => {
      const day = date.getUTCDate();
      const text = `${kind} ${number.toLocaleString('pt-BR')}, DE ${day}${ordinal && day === 1 ? 'º' : ''} DE ${MONTHS[date.getUTCMonth()]} DE ${date.getUTCFullYear()}`;
      return actDate(text) === date.toISOString().slice(0, 10);
    }),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (text) => {
      const read = actDate(text);
      return read === undefined || (/^\d{4}-\d{2}-\d{2}$/.test(read) && new Date(`${read}T00:00:00Z`).toISOString().startsWith(read));
    }),
  );
});

t.test('CEA: of two acts for one period the later prevails', async (t) => {
  const { tariffs, resolutions } = parseAneelTariffs(FILE, 'CEA');
  t.same(summary(tariffs), [['2021-11-30', '2021-12-16', 36_245_000n, 14_280_000n, '3.001']]);
  t.same(resolutions.map((r) => [act(r.row), r.kept.length, r.over.map(act)]), [['2.979', 0, ['3.001']]]);
});

t.test('Ceraçá: the narrower rows of one act prevail over its year-long row', async (t) => {
  const { tariffs, resolutions } = parseAneelTariffs(FILE, 'Ceraca');
  t.same(summary(tariffs), [
    ['2025-09-30', '2025-12-31', 72_372_000n, 22_770_000n, '3.537'],
    ['2026-01-01', '2026-09-29', 56_780_000n, 22_770_000n, '3.537'],
  ]);
  t.same(resolutions.map((r) => [r.row.vigenciaInicio, r.row.vigenciaFim, r.kept.length, r.over.map((o) => o.vigenciaInicio)]), [['2025-09-30', '2026-09-29', 0, ['2025-09-30', '2026-01-01']]]);
});

t.test('the import command stores the settled rows and says which rows it set aside', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'overlaps-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'tarifas.csv');
  await writeFile(file, FILE);
  const importCeraca = async () => {
    let out = '';
    let err = '';
    const code = await run(['--tarifas', file, '--distribuidora', 'Ceraçá', '--data-dir', join(dir, 'data')], {}, { out: (text) => (out += text), err: (text) => (err += text) });
    return { code, out, err };
  };
  const first = await importCeraca();
  t.equal(first.code, 0, first.err);
  t.match(first.out, '2 added, 0 already stored, 0 refused');
  t.match(first.out, "1 row trimmed or left out where the file's rows overlap");
  t.match(first.out, 'convencional 2025-09-30 to 2026-09-29 (RESOLUÇÃO HOMOLOGATÓRIA Nº 3.537, DE 23 DE SETEMBRO DE 2025): left out, under 2025-09-30 to 2025-12-31');
  t.match((await importCeraca()).out, '0 added, 2 already stored, 0 refused', 'settled the same way again: idempotent');
});

t.test('rows without a readable act are left for the store to judge', async (t) => {
  const row = (from: string, to: string | null, te: bigint, resolucao: string): Tariff => ({ distribuidora: 'X', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: from, vigenciaFim: to, te, tusd: 1n, resolucao });
  const rows = [row('2026-01-01', '2026-12-31', 1n, ''), row('2026-06-01', null, 2n, 'RESOLUÇÃO HOMOLOGATÓRIA Nº 9, DE 1 DE MAIO DE 2026')];
  t.same(resolveOverlaps(rows, byAct), { tariffs: rows, resolutions: [] });
  t.same(resolveOverlaps([rows[1] as Tariff, rows[1] as Tariff], byAct).tariffs, [rows[1]], 'a row the file repeats is one row');
});

t.test('day by day, each day gets the row that prevails over it (brute-force reference)', async (t) => {
  const BASE = Date.parse('2026-01-01T00:00:00Z');
  const day = (n: number): string => new Date(BASE + n * 86_400_000).toISOString().slice(0, 10);
  const ACTS = ['RESOLUÇÃO HOMOLOGATÓRIA Nº 1, DE 2 DE JANEIRO DE 2026', 'RESOLUÇÃO HOMOLOGATÓRIA Nº 2, DE 3 DE MARÇO DE 2026', 'RESOLUÇÃO HOMOLOGATÓRIA Nº 3, DE 4 DE ABRIL DE 2026'];
  const rowArb = fc.record({
    posto: fc.constantFrom('ponta' as const, 'fora_ponta' as const),
    start: fc.integer({ min: 0, max: 40 }),
    length: fc.option(fc.integer({ min: 0, max: 25 }), { freq: 6 }),
    act: fc.integer({ min: 0, max: 2 }),
    te: fc.integer({ min: 1, max: 4 }),
  });
  fc.assert(
    fc.property(fc.array(rowArb, { maxLength: 8 }), (specs) => {
      const rows: Tariff[] = specs.map((s) => ({ distribuidora: 'X', modalidade: 'branca', posto: s.posto, vigenciaInicio: day(s.start), vigenciaFim: s.length === null ? null : day(s.start + s.length), te: BigInt(s.te), tusd: 1n, resolucao: ACTS[s.act] as string }));
      const { tariffs } = resolveOverlaps(rows, byAct);
      for (const posto of ['ponta', 'fora_ponta'] as const) {
        for (let n = 0; n <= 70; n++) {
          const d = day(n);
          const covers = (x: Tariff) => x.posto === posto && x.vigenciaInicio <= d && (x.vigenciaFim === null || x.vigenciaFim >= d);
          // The reference: among the input rows covering the day, the later act, then the narrower, then the later in the file.
          const candidates = specs.map((s, i) => ({ s, i, row: rows[i] as Tariff })).filter((c) => covers(c.row));
          const width = (c: (typeof candidates)[number]) => c.s.length ?? 1e9 - c.s.start; // open-ended: up to 9999-12-31
          const expected = candidates.reduce<(typeof candidates)[number] | undefined>((best, c) => (best === undefined || c.s.act > best.s.act || (c.s.act === best.s.act && (width(c) < width(best) || (width(c) === width(best) && c.i > best.i))) ? c : best), undefined);
          const got = tariffs.filter(covers);
          if (got.length !== (expected === undefined ? 0 : 1)) return false;
          if (expected !== undefined && (got[0]?.te !== expected.row.te || got[0]?.resolucao !== expected.row.resolucao)) return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
});
