/**
 * The ANEEL sample shipped in resources/ (real rows of CEMIG-D from ANEEL's
 * tariff file, source and date in the .md beside it): imported by the real
 * CLI, listed by /tarifas, and billing a real cycle across CEMIG-D's
 * 28/05/2026 revision (REH 3.589/2026) with the real bandeira amarela of May
 * and June 2026. The figures are worked out by hand in the comments; the
 * PDF is checked by its text (poppler's pdftotext) and rendered for review.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { ANEEL_SAMPLE, PLAIN_NODE, startTestServer, tempDir, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { BILLING_PARAMETERS, send, setPisCofins } from './billing-fixtures.js';
import { dueDayOf } from '../../domain/billing/invoice.js';

const IMPORT = fileURLToPath(new URL('../../cli/import.js', import.meta.url));
const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const run = promisify(execFile);

t.test('the shipped ANEEL sample imports, lists and bills with CEMIG-D\'s real tariffs', async (t) => {
  const dataDir = join(await tempDir(t), 'data');
  const importSample = () => spawnSync(process.execPath, [IMPORT, '--tarifas', ANEEL_SAMPLE, '--distribuidora', 'CEMIG-D', '--data-dir', dataDir], { env: PLAIN_NODE.env, encoding: 'utf8', timeout: 30_000 });
  const first = importSample();
  t.equal(first.status, 0, first.stderr);
  // 58 rows: 13 of B1 residential Tarifa de Aplicação kept (3 Residencial, 6 Tarifa Social and 4 Desconto Social by band);
  // 28 Base Econômica; of the rest, 13 of B2/B3/A2, 3 of the legacy "Baixa Renda" subclass, 1 SCEE (micro-generation) detail.
  t.match(first.stdout, '(58 rows)');
  t.match(first.stdout, '13 added, 0 already stored, 0 refused');
  t.match(first.stdout, 'rows left out: 28 not of base "Tarifa de Aplicação", 13 not of subgroup B1, 3 of other subclasses (e.g. the legacy "Baixa Renda" row, rural), 1 with a detail (not "Não se aplica")');
  t.match(importSample().stdout, '0 added, 13 already stored, 0 refused', 'importing again changes nothing');

  const server = await startTestServer(t, { dataDir, env: { DISTRIBUIDORA: 'CEMIG-D' } });
  const port = server.http.port;
  const inForce = async (day: string) =>
    (await send(port, 'GET', `/tarifas?data=${day}`)).json.tarifas.filter((x: Record<string, unknown>) => x.subclasse === 'residencial').map((x: Record<string, unknown>) => [x.distribuidora, x.modalidade, x.vigencia_inicio, x.vigencia_fim, x.te, x.tusd, x.total, x.resolucao]);
  const social = async (day: string) => (await send(port, 'GET', `/tarifas?data=${day}`)).json.tarifas.filter((x: Record<string, unknown>) => x.subclasse !== 'residencial').map((x: Record<string, unknown>) => [x.subclasse, x.te, x.tusd]);
  // The benefits' rows kept by band (R$/MWh ÷ 1000): the Tarifa Social's TE 297,02 + TUSD 418,31 in both bands; the Desconto Social's first band without the CDE quota, its second the residential tariff.
  t.same(await social('2026-09-30'), [
    ['desconto_social_1', 0.30876, 0.42767],
    ['desconto_social_2', 0.31021, 0.59308],
    ['tarifa_social_1', 0.29702, 0.41831],
    ['tarifa_social_2', 0.29702, 0.41831],
  ]);
  // R$/MWh ÷ 1000: TE 310,21 + TUSD 593,08 = 903,29 R$/MWh.
  t.same(await inForce('2026-09-30'), [['CEMIG-D', 'convencional', '2026-05-28', '2027-05-27', 0.31021, 0.59308, 0.90329, 'RESOLUÇÃO HOMOLOGATÓRIA Nº 3.589, DE 26 DE MAIO DE 2026']]);
  // TE 317,28 + TUSD 541,30 = 858,58 R$/MWh, REH 3.459/2025 split by ANEEL at 01/01/2026 with the same values.
  t.same(await inForce('2026-03-01'), [['CEMIG-D', 'convencional', '2026-01-01', '2026-05-27', 0.31728, 0.5413, 0.85858, 'RESOLUÇÃO HOMOLOGATÓRIA Nº 3.459, DE 20 DE MAIO DE 2025']]);
  t.same(await inForce('2025-05-27'), [], 'nothing before the sample\'s first validity');

  t.equal((await send(port, 'PUT', '/faturamento/parametros', { ...BILLING_PARAMETERS, vigencia_inicio: '2025-01-01' }, { token: TEST_OPERATOR_TOKEN })).status, 201);
  await setPisCofins(server, '2026-01', '2026-12');
  // CEMIG Distribuição S.A.'s name and CNPJ; its FEBRABAN code and PIX key here are illustrative.
  const record = await send(port, 'PUT', '/faturamento/distribuidora', { nome: 'CEMIG Distribuição S.A.', cnpj: '06.981.180/0001-16', endereco: 'Av. Barbacena, 1200, Santo Agostinho, Belo Horizonte - MG, 30190-131', codigo_febraban: '0138', chave_pix: '06981180000116', cidade: 'Belo Horizonte' }, { token: TEST_OPERATOR_TOKEN });
  t.same([record.status, record.json.cnpj, record.json.sigla], [201, '06981180000116', 'CEMIG-D']);
  // ANEEL's bandeira of May and June 2026: amarela, R$ 18,85/MWh.
  for (const month of ['2026-05', '2026-06']) t.equal((await send(port, 'PUT', `/faturamento/bandeiras/${month}`, { bandeira: 'amarela', adicional_kwh: '0.01885' }, { token: TEST_OPERATOR_TOKEN })).status, 201);
  t.equal((await send(port, 'POST', '/clientes', { username: 'maria', matricula: '13456789', dia_leitura: 10, ligacao: 'bifasica', titular: { nome: 'Maria das Graças Souza', cpf_cnpj: '123.456.789-09', endereco: 'Rua dos Timbiras, 1500, ap. 302, Lourdes, Belo Horizonte - MG, 30140-061' } }, { token: TEST_OPERATOR_TOKEN })).status, 201);
  // São Paulo is UTC-3: 00:00 of 10 May is 03:00Z. 150 kWh in the cycle 10/05-10/06/2026.
  await server.stores.store.append([
    { matricula: '13456789', timestamp: Date.parse('2026-05-10T03:00:00Z'), consumo: 5_000_000n },
    { matricula: '13456789', timestamp: Date.parse('2026-05-28T03:00:00Z'), consumo: 5_090_000n },
    { matricula: '13456789', timestamp: Date.parse('2026-06-10T03:00:00Z'), consumo: 5_150_000n },
    { matricula: '13456789', timestamp: Date.parse('2026-06-11T12:00:00Z'), consumo: 5_153_000n },
  ]);
  const issued = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, { token: TEST_OPERATOR_TOKEN });
  t.equal(issued.status, 201, JSON.stringify(issued.json));
  const invoice = issued.json;
  t.same([invoice.distribuidora, invoice.ciclo.dias, invoice.consumo_kwh, invoice.kwh_faturado], ['CEMIG-D', 31, 150, 150]);
  // 31 days: 10/05-27/05 (18) under REH 3.459, 28/05-09/06 (13) under REH 3.589; 150 kWh pro rata by days, exactly
  // (printed to the Wh): 150 × 18/31 = 87,0967… and 150 × 13/31 = 62,9032…; nothing rounded until printed (REN 1.000 art. 657):
  //   87,0967… × 0,85858 = 74,7797… → 74,78      62,9032… × 0,90329 = 56,8197… → 56,82
  // Bandeira amarela by the cycle's days in each month: 22 in May, 9 in June:
  //   150 × 22/31 = 106,4516… × 0,01885 = 2,0066… → 2,01;   150 × 9/31 = 43,5483… × 0,01885 = 0,8209… → 0,82
  // Each line with its taxes (Tema 69): ÷ (1 − 0,0112 − 0,0516) ÷ (1 − 0,18): 97,31, 73,94, 2,61, 1,07 (test/reference/faturas.py, case 6).
  t.same(
    invoice.itens.map((i: Record<string, unknown>) => [i.tipo, i.quantidade, i.preco_unitario, i.valor_sem_tributos, i.icms, i.valor]),
    [
      ['energia', 87.097, 0.85858, 74.78, 17.51, 97.31],
      ['energia', 62.903, 0.90329, 56.82, 13.31, 73.94],
      ['bandeira', 106.452, 0.01885, 2.01, 0.47, 2.61],
      ['bandeira', 43.548, 0.01885, 0.82, 0.19, 1.07],
    ],
  );
  // ICMS base: the lines with every tax, 174,93; PIS/COFINS base: without ICMS, 143,44. CIP above 100 kWh 12,50;
  // total 97,31 + 73,94 + 2,61 + 1,07 + 12,50 = 187,43 (197,28 by the pre-Tema 69 formula).
  t.same(invoice.tributos.map((x: Record<string, unknown>) => [x.nome, x.base, x.valor]), [
    ['ICMS', 174.93, 31.48],
    ['PIS', 143.44, 1.6],
    ['COFINS', 143.44, 7.41],
  ]);
  t.same([invoice.subtotal, invoice.cip, invoice.total, invoice.vencimento], [134.43, 12.5, 187.43, dueDayOf('2026-06-10', 10, invoice.apresentacao)]);
  t.same(
    invoice.tarifas.map((x: Record<string, unknown>) => x.resolucao),
    ['RESOLUÇÃO HOMOLOGATÓRIA Nº 3.459, DE 20 DE MAIO DE 2025', 'RESOLUÇÃO HOMOLOGATÓRIA Nº 3.589, DE 26 DE MAIO DE 2026'],
    'the invoice names both resolutions it applied',
  );
  const pdf = await send(port, 'GET', `/faturas/${invoice.numero}?formato=pdf`);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');
  const file = join(dataDir, '..', 'fatura-cemig-d.pdf');
  await writeFile(file, pdf.bytes);
  const text = (await run('pdftotext', ['-layout', file, '-'])).stdout.replace(/\s+/g, ' ');
  for (const expected of ['CEMIG Distribuição S.A.', 'CNPJ 06.981.180/0001-16', 'Maria das Graças Souza', '***.456.789-**', 'Rua dos Timbiras, 1500', 'Referente a JUNHO/2026', 'Próxima leitura prevista', '10/07/2026', 'média 4,839 kWh/dia', 'R$ 187,43', '74,78', '97,31', '56,82', '73,94', 'STF, Tema 69', 'NBR 5891', 'RESOLUÇÃO HOMOLOGATÓRIA Nº 3.459, DE 20 DE MAIO DE 2025; RESOLUÇÃO HOMOLOGATÓRIA Nº 3.589, DE 26 DE MAIO DE 2026']) {
    t.ok(text.includes(expected), `the PDF says ${expected}`);
  }
  await mkdir(OUTPUT_DIR, { recursive: true });
  await run('pdftoppm', ['-png', '-r', '80', '-singlefile', file, join(OUTPUT_DIR, 'fatura-cemig-d')]);
  t.comment(`render: ${join(OUTPUT_DIR, 'fatura-cemig-d.png')}`);

  // The sample has no Tarifa Branca rows (see the .md beside it): a Branca customer is refused, and told why.
  t.equal((await send(port, 'PATCH', '/clientes/13456789', { modalidade: 'branca' }, { token: TEST_OPERATOR_TOKEN })).status, 200);
  // (Billed again: the cycle's invoice cancelled, then issued for a Branca customer.)
  t.equal((await send(port, 'POST', `/faturas/${invoice.numero}/cancelamento`, { motivo: 'modalidade alterada' }, { token: TEST_OPERATOR_TOKEN })).status, 200);
  const branca = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, { token: TEST_OPERATOR_TOKEN });
  t.same([branca.status, branca.json.erro.codigo], [409, 'tarifa_indisponivel']);
  t.match(branca.json.erro.mensagem, 'branca');
});
