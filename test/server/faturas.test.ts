/**
 * Issued invoices end to end: tariffs, parameters and bandeiras set, readings
 * stored, a cycle issued over HTTP with the golden figures worked out in
 * billing-invoice.test.ts, idempotently (also under concurrent requests),
 * listed, cancelled and reissued; the open cycle refused; the preview; the
 * PDF checked by its text (poppler's pdftotext) and rendered for review.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { AS_OPERATOR, startTestServer, tempDir, testConfig } from '../helpers.js';
import { BILLING_PARAMETERS, billingReadyServer, DISTRIBUTOR, send as sendJson, setDistributor, setPisCofins } from './billing-fixtures.js';
import { cycleContaining, cycleMonth, previousMonth, type Cycle } from '../../domain/billing/cycle.js';
import { dueDayOf } from '../../domain/billing/invoice.js';
import { localDay } from '../../protocol/timestamp.js';

const run = promisify(execFile);
const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const PARAMETERS = BILLING_PARAMETERS;
const send = (port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => sendJson(port, method, path, body, { headers });

/** A moment inside the cycle open now, after its start and not ahead of the clock (up to 4 days in). */
const afterStart = (open: Cycle): number => Math.max(open.start + 1_000, Math.min(open.start + 4 * 86_400_000, Date.now() - 60_000));

t.test('a cycle issued, idempotent, listed, cancelled and reissued; its PDF', async (t) => {
  const server = await startTestServer(t, { env: { DISTRIBUIDORA: 'TESTE-D' } });
  const port = server.http.port;
  await server.stores.tariffs.addTariffs([{ distribuidora: 'TESTE-D', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: '2025-01-01', vigenciaFim: null, te: 29_459_000n, tusd: 41_238_000n, resolucao: 'REH 1/2025' }]);
  t.equal((await send(port, 'PUT', '/faturamento/parametros', PARAMETERS, AS_OPERATOR)).status, 201);
  await setPisCofins(server);
  await setDistributor(server);
  await send(port, 'PUT', '/faturamento/bandeiras/2026-05', { bandeira: 'amarela', adicional_kwh: '0.01885' }, AS_OPERATOR);
  await send(port, 'PUT', '/faturamento/bandeiras/2026-06', { bandeira: 'vermelha_1', adicional_kwh: '0.04463' }, AS_OPERATOR);
  t.equal((await send(port, 'PATCH', '/clientes/13456789', { dia_leitura: 10 }, AS_OPERATOR)).status, 200);
  // São Paulo is UTC-3: 00:00 of 10 May is 03:00Z. Readings at both boundaries, some between, one after.
  const at = (iso: string) => Date.parse(iso);
  await server.stores.store.append([
    { matricula: '13456789', timestamp: at('2026-05-10T03:00:00Z'), consumo: 1_000_000n },
    { matricula: '13456789', timestamp: at('2026-05-20T15:00:00Z'), consumo: 1_010_000n },
    { matricula: '13456789', timestamp: at('2026-06-10T03:00:00Z'), consumo: 1_024_500n },
    { matricula: '13456789', timestamp: at('2026-06-12T12:00:00Z'), consumo: 1_030_000n },
  ]);

  const issued = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR);
  t.equal(issued.status, 201);
  const invoice = issued.json;
  t.match(invoice.numero, /^\d{4}-\d{6}$/);
  t.equal(invoice.numero.slice(0, 4), invoice.emitida_em.slice(0, 4), 'numbered in the year of issue');
  t.equal(issued.headers.get('location'), `/faturas/${invoice.numero}`);
  t.same(
    [invoice.estado, invoice.ciclo.mes, invoice.ciclo.dias, invoice.consumo_kwh, invoice.kwh_faturado, invoice.subtotal, invoice.cip, invoice.total, invoice.vencimento],
    ['emitida', '2026-06', 31, 24.5, 30, 22, 5, 33.63, dueDayOf('2026-06-10', 10, localDay(Date.parse(invoice.emitida_em), 'America/Sao_Paulo'))],
    'the golden convencional invoice (test/domain/billing/invoice.test.ts), due 5 working days after it is presented at the earliest',
  );
  t.equal(invoice.apresentacao, localDay(Date.parse(invoice.emitida_em), 'America/Sao_Paulo'), 'presented the day it is issued');
  t.same(invoice.itens.map((i: { tipo: string; valor_sem_tributos: number; pis: number; cofins: number; base_icms: number; icms: number; valor: number }) => [i.tipo, i.valor_sem_tributos, i.pis, i.cofins, i.base_icms, i.icms, i.valor]), [
    ['energia', 17.32, 0.21, 0.95, 22.54, 4.06, 22.54],
    ['disponibilidade', 3.89, 0.05, 0.21, 5.06, 0.91, 5.06],
    ['bandeira', 0.4, 0, 0.02, 0.52, 0.09, 0.52],
    ['bandeira', 0.39, 0, 0.02, 0.51, 0.09, 0.51],
  ]);
  t.same(invoice.tributos.map((x: { nome: string; aliquota: number; base: number; valor: number }) => [x.nome, x.aliquota, x.base, x.valor]), [
    ['ICMS', 0.18, 28.63, 5.15],
    ['PIS', 0.0112, 23.47, 0.26],
    ['COFINS', 0.0516, 23.47, 1.2],
  ]);
  t.same([invoice.leituras.inicial.situacao, invoice.leituras.final.registro], ['medida', 1024.5]);
  t.equal(invoice.historico.length, 13, 'the 13 previous cycles');

  const again = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR);
  t.same([again.status, again.json.numero, again.json.total], [200, invoice.numero, 33.63], 'issuing again answers the same invoice');
  t.same((await send(port, 'GET', `/faturas/${invoice.numero}`)).json, invoice, 'GET answers it as issued');

  // Four at once: the most heavy requests one address may have in progress (a fifth would get 429).
  const racing = await Promise.all(Array.from({ length: 4 }, () => send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-05' }, AS_OPERATOR)));
  t.same(racing.map((r) => r.status).sort(), [200, 200, 200, 201], 'four concurrent requests for one cycle: one invoice issued');
  t.equal(new Set(racing.map((r) => r.json.numero)).size, 1, 'all four answer its number');
  t.equal(racing[0]?.json.leituras.inicial.situacao, 'primeira_leitura', 'a meter first read within the cycle starts from its first reading');

  const listed = await send(port, 'GET', '/faturas?matricula=13456789');
  t.same(listed.json.faturas.map((f: { numero: string; total: number }) => [f.numero, f.total]).slice(-1), [[invoice.numero, 33.63]]);

  const cancelled = await send(port, 'POST', `/faturas/${invoice.numero}/cancelamento`, { motivo: 'leitura informada errada' }, AS_OPERATOR);
  t.same([cancelled.status, cancelled.json.estado, cancelled.json.cancelamento.motivo], [200, 'cancelada', 'leitura informada errada']);
  t.equal((await send(port, 'POST', `/faturas/${invoice.numero}/cancelamento`, { motivo: 'de novo' }, AS_OPERATOR)).json.erro.codigo, 'fatura_cancelada');
  const reissued = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR);
  t.same([reissued.status, reissued.json.substitui], [201, invoice.numero], 'a new number that references the cancelled one');
  t.equal(reissued.json.vencimento, dueDayOf('2026-06-10', 10, localDay(Date.parse(reissued.json.emitida_em), 'America/Sao_Paulo')), 'a reissue gets its own due date');
  t.not(reissued.json.numero, invoice.numero);
  t.equal((await send(port, 'GET', '/faturas/2026-999999')).json.erro.codigo, 'fatura_nao_encontrada');

  const open = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: cycleMonth(cycleContaining(Date.now(), 10, 'America/Sao_Paulo')) }, AS_OPERATOR);
  t.same([open.status, open.json.erro.codigo], [409, 'ciclo_aberto']);
  // Not read since June: no preview of a months-old cycle as if it were open (issue 27 §4), but the open cycle's lack of readings.
  const stale = await send(port, 'GET', '/faturas/previa?matricula=13456789');
  t.same([stale.status, stale.json.erro?.codigo], [409, 'medicoes_insuficientes'], 'the open cycle has no reading yet, and says so');
  const current = cycleContaining(Date.now(), 10, 'America/Sao_Paulo');
  await server.stores.store.append([
    { matricula: '13456789', timestamp: current.start - 30 * 60_000, consumo: 1_100_000n },
    { matricula: '13456789', timestamp: afterStart(current), consumo: 1_105_500n },
  ]);
  const preview = await send(port, 'GET', '/faturas/previa?matricula=13456789');
  t.same([preview.status, preview.json.previa, preview.json.ciclo.mes, preview.json.consumo_kwh], [200, true, cycleMonth(current), 5.5], 'the open cycle so far, from its start to the newest reading');

  const pdf = await send(port, 'GET', `/faturas/${reissued.json.numero}?formato=pdf`);
  t.equal(pdf.status, 200);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');
  t.equal(pdf.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
  const byAccept = await send(port, 'GET', `/faturas/${reissued.json.numero}`, undefined, { Accept: 'application/pdf' });
  t.equal(byAccept.headers.get('content-type'), 'application/pdf', 'Accept: application/pdf asks for it too');
  const dir = await tempDir(t);
  const file = join(dir, 'fatura.pdf');
  await writeFile(file, pdf.bytes);
  let text: string;
  try {
    text = (await run('pdftotext', ['-layout', file, '-'])).stdout;
  } catch (error) {
    t.comment(`pdftotext not available (${(error as Error).message}): install poppler-utils to check the PDF's text`);
    return;
  }
  for (const expected of [DISTRIBUTOR.nome, 'Fatura de energia elétrica', reissued.json.numero, 'amancio123', '13456789', '10/05/2026 a 10/06/2026 (31 dias)', 'Energia elétrica (TE + TUSD)', '17,32', '22,54', 'ICMS', '5,15', 'R$ 33,63', reissued.json.vencimento.split('-').reverse().join('/'), 'Histórico de consumo', `Substitui a fatura ${invoice.numero}`]) {
    t.ok(text.includes(expected), `the PDF says ${expected}`);
  }
  t.equal((await run('pdfinfo', [file])).stdout.match(/Pages:\s+(\d+)/)?.[1], '1', 'one page');
  await mkdir(OUTPUT_DIR, { recursive: true });
  await run('pdftoppm', ['-png', '-r', '80', '-singlefile', file, join(OUTPUT_DIR, 'fatura')]);
  t.comment(`render: ${join(OUTPUT_DIR, 'fatura.png')}`);
});

t.test('the Tarifa Branca simulation compares past cycles under both modalities from the same readings', async (t) => {
  const server = await startTestServer(t, { env: { DISTRIBUIDORA: 'TESTE-D' } });
  const port = server.http.port;
  const tariff = (modalidade: 'convencional' | 'branca', posto: 'nao_se_aplica' | 'ponta' | 'intermediario' | 'fora_ponta', te: bigint, tusd: bigint) => ({ distribuidora: 'TESTE-D', modalidade, posto, vigenciaInicio: '2025-01-01', vigenciaFim: null, te, tusd, resolucao: '' });
  await server.stores.tariffs.addTariffs([
    tariff('convencional', 'nao_se_aplica', 29_459_000n, 41_238_000n),
    tariff('branca', 'ponta', 48_000_000n, 140_000_000n),
    tariff('branca', 'intermediario', 30_000_000n, 90_000_000n),
    tariff('branca', 'fora_ponta', 27_000_000n, 35_000_000n),
  ]);
  await send(port, 'PUT', '/faturamento/parametros', PARAMETERS, AS_OPERATOR);
  await setPisCofins(server);
  await setDistributor(server);
  // Two closed cycles (reading day 1, 00:00 in São Paulo = 03:00Z): 200 kWh each, consumed only between 02:00 and 04:00 (fora de ponta),
  // 10 kWh a night for 20 nights (5 kW: no spike to validation).
  // The months are the ones before the cycle open today, so the test means the same whatever day it runs.
  const local = (day: string, hour: number) => Date.parse(`${day}T00:00:00Z`) + (hour + 3) * 3_600_000;
  const open = cycleContaining(Date.now(), 1, 'America/Sao_Paulo');
  const [thisMonth, lastMonth, monthBefore] = [open.startDay.slice(0, 7), previousMonth(open.startDay.slice(0, 7)), previousMonth(previousMonth(open.startDay.slice(0, 7)))];
  const readings = [];
  let register = 0n;
  for (const month of [monthBefore, lastMonth]) {
    readings.push({ matricula: '13456789', timestamp: local(`${month}-01`, 0), consumo: register });
    for (let night = 2; night <= 21; night++) {
      const day = String(night).padStart(2, '0');
      readings.push({ matricula: '13456789', timestamp: local(`${month}-${day}`, 2), consumo: register });
      register += 10_000n;
      readings.push({ matricula: '13456789', timestamp: local(`${month}-${day}`, 4), consumo: register });
    }
  }
  readings.push({ matricula: '13456789', timestamp: local(`${thisMonth}-01`, 0), consumo: register });
  readings.push({ matricula: '13456789', timestamp: afterStart(open), consumo: register + 1000n });
  await server.stores.store.append(readings);
  const answer = await send(port, 'GET', '/simulacao-tarifa-branca?matricula=13456789&ciclos=3');
  t.equal(answer.status, 200);
  const body = answer.json;
  t.same(body.ciclos.map((c: { ciclo: string; consumo_kwh?: number; erro?: string }) => [c.ciclo, c.consumo_kwh ?? c.erro]), [
    [thisMonth, 200],
    [lastMonth, 200],
    [monthBefore, 0],
  ], 'the closed cycles before the open one, newest first (the oldest: the meter was first read at its end)');
  t.same(body.ciclos[0].consumo_por_posto, { ponta: 0, intermediario: 0, fora_ponta: 200 });
  t.ok(body.economia_branca > 0, 'all at night: the white tariff costs less');
  t.equal(Math.round((body.total_convencional - body.total_branca) * 100), Math.round(body.economia_branca * 100));
  t.equal(body.ciclos_comparados, 3);
  t.match(body.recomendacao, 'a tarifa branca teria custado R$');
  t.equal((await send(port, 'GET', '/simulacao-tarifa-branca?matricula=13456789&ciclos=25')).status, 422);
});

t.test('the Tarifa Branca simulation without Branca tariffs says so, instead of blaming the readings', async (t) => {
  const server = await billingReadyServer(t);
  // The cycle before the open one (reading day 1), read at both ends: billable as convencional, not as branca.
  const open = cycleContaining(Date.now(), 1, 'America/Sao_Paulo');
  const closed = cycleContaining(open.start - 1, 1, 'America/Sao_Paulo');
  await server.stores.store.append([
    { matricula: '13456789', timestamp: closed.start, consumo: 0n },
    { matricula: '13456789', timestamp: open.start, consumo: 150_000n },
    { matricula: '13456789', timestamp: open.start + 60_000, consumo: 150_010n },
  ]);
  const body = (await send(server.http.port, 'GET', '/simulacao-tarifa-branca?matricula=13456789&ciclos=1')).json;
  t.same(body.ciclos, [{ ciclo: cycleMonth(closed), erro: 'tarifa_indisponivel' }]);
  t.equal(body.ciclos_comparados, 0);
  t.match(body.recomendacao, 'Não há tarifas em vigor para comparar');
  t.equal((await send(server.http.port, 'POST', '/faturas', { matricula: '13456789', ciclo: cycleMonth(closed) }, AS_OPERATOR)).status, 201, 'the same cycle bills as convencional');
});

t.test('FATURAMENTO_AUTOMATICO issues each closed cycle once, and a restart issues nothing twice', async (t) => {
  const dataDir = await tempDir(t);
  const env = { DISTRIBUIDORA: 'TESTE-D', FATURAMENTO_AUTOMATICO: 'sim', FATURAMENTO_INTERVALO_S: '1' };
  const first = await startTestServer(t, { dataDir, env: { DISTRIBUIDORA: 'TESTE-D' } });
  await first.stores.tariffs.addTariffs([{ distribuidora: 'TESTE-D', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: '2025-01-01', vigenciaFim: null, te: 29_459_000n, tusd: 41_238_000n, resolucao: '' }]);
  await send(first.http.port, 'PUT', '/faturamento/parametros', PARAMETERS, AS_OPERATOR);
  await setPisCofins(first);
  await setDistributor(first);
  // Readings at the boundaries of the last two closed cycles (reading day 1, before the one open today) for two customers.
  const open = cycleContaining(Date.now(), 1, 'America/Sao_Paulo');
  const last = cycleContaining(open.start - 1, 1, 'America/Sao_Paulo');
  const before = cycleContaining(last.start - 1, 1, 'America/Sao_Paulo');
  for (const [matricula, step] of [['13456789', 50_000n], ['98765432', 120_000n]] as const) {
    await first.stores.store.append([before.start, last.start, open.start, afterStart(open)].map((timestamp, i) => ({ matricula, timestamp, consumo: BigInt(i) * step })));
  }
  await first.close();
  const server = await startTestServer(t, { dataDir, env });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (server.billing.job?.passes ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 50));
  const listed = async (matricula: string) => (await send(server.http.port, 'GET', `/faturas?matricula=${matricula}`)).json.faturas.map((f: { ciclo: string }) => f.ciclo);
  t.same(await listed('13456789'), [cycleMonth(last), cycleMonth(before)], 'the two newest closed cycles, issued');
  t.same(await listed('98765432'), [cycleMonth(last), cycleMonth(before)]);
  t.same(await listed('11223344'), [], 'a customer without readings: nothing');
  const issued = server.billing.job?.issued;
  while ((server.billing.job?.passes ?? 0) < 2) await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(server.billing.job?.issued, issued, 'a second pass issues nothing');
  await server.close();
  const again = await startTestServer(t, { dataDir, env });
  while ((again.billing.job?.passes ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(again.billing.job?.issued, 0, 'nor does a pass after a restart');
  t.same(await (async () => (await send(again.http.port, 'GET', '/faturas?matricula=13456789')).json.faturas.length)(), 2);
});

t.test('FATURAMENTO_AUTOMATICO=sim without DISTRIBUIDORA stops start-up with one line', async (t) => {
  t.throws(() => testConfig('/tmp/x', { FATURAMENTO_AUTOMATICO: 'sim' }), /invalid setting FATURAMENTO_AUTOMATICO: sim needs DISTRIBUIDORA/);
});

t.test('invoices under hostile clients: a customer reads only their own, never issues or cancels, and guessed numbers tell nothing', async (t) => {
  const ADMIN = 'token-do-operador-de-teste-0123456789abcdef';
  const server = await startTestServer(t, { env: { DISTRIBUIDORA: 'TESTE-D', AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: ADMIN } });
  const port = server.http.port;
  const asAdmin = { authorization: `Bearer ${ADMIN}` };
  await server.stores.tariffs.addTariffs([{ distribuidora: 'TESTE-D', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: '2025-01-01', vigenciaFim: null, te: 29_459_000n, tusd: 41_238_000n, resolucao: '' }]);
  await sendJson(port, 'PUT', '/faturamento/parametros', PARAMETERS, { token: ADMIN });
  await setPisCofins(server);
  await setDistributor(server);
  for (const matricula of ['13456789', '98765432']) {
    await server.stores.store.append([
      { matricula, timestamp: Date.parse('2026-05-01T03:00:00Z'), consumo: 0n },
      { matricula, timestamp: Date.parse('2026-06-01T03:00:00Z'), consumo: 100_000n },
    ]);
    await sendJson(port, 'POST', `/clientes/${matricula}/senha`, { senha: 'senha-de-teste-123' }, { token: ADMIN });
  }
  const other = (await send(port, 'POST', '/faturas', { matricula: '98765432', ciclo: '2026-06' }, asAdmin)).json;
  const login = await send(port, 'POST', '/validacao-usuario', { matricula: '13456789', senha: 'senha-de-teste-123' });
  const customer = { authorization: `Bearer ${login.json.token}` };
  // Regression (issue 26): another customer's invoice answered 403 naming its owner's matricula.
  const theirs = await send(port, 'GET', `/faturas/${other.numero}`, undefined, customer);
  t.same([theirs.status, theirs.json.erro.codigo], [404, 'fatura_nao_encontrada'], "another customer's invoice does not exist for a customer");
  t.notMatch(theirs.bytes.toString('utf8'), /98765432/, 'nothing names its owner');
  t.equal((await send(port, 'GET', `/faturas/${other.numero}?formato=pdf`, undefined, customer)).status, 404, 'nor its PDF');
  t.equal((await send(port, 'GET', `/faturas/${other.numero}?formato=pdf&access_token=${login.json.token}`)).status, 404, 'nor with the token in the query');
  t.equal((await send(port, 'GET', '/faturas?matricula=98765432', undefined, customer)).status, 403, 'nor their list');
  t.equal((await send(port, 'GET', '/faturas/previa?matricula=98765432', undefined, customer)).status, 403, 'nor their preview');
  t.equal((await send(port, 'GET', '/simulacao-tarifa-branca?matricula=98765432', undefined, customer)).status, 403, 'nor their simulation');
  t.equal((await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, customer)).status, 403, 'a customer never issues, even their own');
  t.equal((await send(port, 'POST', `/faturas/${other.numero}/cancelamento`, { motivo: 'não quero pagar' }, customer)).status, 403, 'nor cancels');
  t.equal((await send(port, 'GET', `/faturas/${other.numero}`)).status, 401, 'no token: 401');
  for (const guess of ['2026-999999', '2026-000001x', 'abc', '9'.repeat(200)]) {
    const answer = await send(port, 'GET', `/faturas/${guess}`, undefined, customer);
    t.same([answer.status, answer.json?.erro?.codigo], [404, 'fatura_nao_encontrada'], `a guessed number (${guess.slice(0, 20)}): not found, whoever's it would be`);
  }
  t.equal((await send(port, 'GET', '/faturas?matricula=13456789', undefined, customer)).status, 200, 'their own list');
});

t.test('billing needs DISTRIBUIDORA and parameters: 409 saying what to set', async (t) => {
  const server = await startTestServer(t);
  const answer = await send(server.http.port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR);
  t.same([answer.status, answer.json.erro.codigo], [409, 'faturamento_nao_configurado']);
  t.match(answer.json.erro.mensagem, 'DISTRIBUIDORA');
});

/** São Paulo's wall clock (UTC-3) on `day` at hh:mm, as an instant. */
const at = (day: string, hh: number, mm = 0) => Date.parse(`${day}T00:00:00Z`) + (hh + 3) * 3_600_000 + mm * 60_000;
const reading = (timestamp: number, consumo: bigint) => ({ matricula: '13456789', timestamp, consumo });

/** The golden Tarifa Branca cycle's readings (billing-invoice.test.ts) from its start on 2026-03-20 to its last increment on 2026-04-06: ponta 5, intermediário 10, fora de ponta 15 kWh. */
const goldenBrancaCycle = () => [
  reading(at('2026-03-20', 0), 1_000_000n),
  reading(at('2026-04-01', 17), 1_000_000n),
  reading(at('2026-04-01', 19), 1_010_000n),
  reading(at('2026-04-03', 18), 1_010_000n),
  reading(at('2026-04-03', 20), 1_016_000n),
  reading(at('2026-04-04', 18), 1_016_000n),
  reading(at('2026-04-04', 19), 1_020_000n),
  reading(at('2026-04-06', 21, 30), 1_020_000n),
  reading(at('2026-04-06', 22, 30), 1_030_000n),
];

/** A server billing TESTE-D's Tarifa Branca, with customer 13456789 in it reading on the 20th. */
async function brancaServer(t: Test, profile: Record<string, unknown> = {}) {
  const server = await startTestServer(t, { env: { DISTRIBUIDORA: 'TESTE-D' } });
  const tariff = (posto: 'ponta' | 'intermediario' | 'fora_ponta', te: bigint, tusd: bigint) => ({ distribuidora: 'TESTE-D', modalidade: 'branca' as const, posto, vigenciaInicio: '2025-07-01', vigenciaFim: null, te, tusd, resolucao: '' });
  await server.stores.tariffs.addTariffs([tariff('ponta', 48_000_000n, 140_000_000n), tariff('intermediario', 30_000_000n, 90_000_000n), tariff('fora_ponta', 27_000_000n, 35_000_000n)]);
  await send(server.http.port, 'PUT', '/faturamento/parametros', PARAMETERS, AS_OPERATOR);
  await setPisCofins(server);
  await setDistributor(server);
  t.equal((await send(server.http.port, 'PATCH', '/clientes/13456789', { modalidade: 'branca', dia_leitura: 20, ...profile }, AS_OPERATOR)).status, 200);
  return server;
}

t.test('a Tarifa Branca customer\'s invoice over HTTP: consumption per posto, an estimated boundary, and a PDF that shows both', async (t) => {
  const server = await brancaServer(t, { ligacao: 'bifasica' });
  const port = server.http.port;
  // The golden Tarifa Branca cycle (billing-invoice.test.ts), except that the end is read two hours late: estimated.
  await server.stores.store.append([
    ...goldenBrancaCycle(),
    reading(at('2026-04-19', 22), 1_030_000n),
    reading(at('2026-04-20', 2), 1_030_000n),
  ]);
  await send(port, 'PUT', '/faturamento/bandeiras/2026-04', { bandeira: 'amarela', adicional_kwh: '0.01885' }, AS_OPERATOR);
  const issued = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-04' }, AS_OPERATOR);
  t.equal(issued.status, 201);
  const invoice = issued.json;
  t.same(invoice.consumo_por_posto, { ponta: 5, intermediario: 10, fora_ponta: 15 });
  t.same([invoice.leituras.inicial.situacao, invoice.leituras.final.situacao, invoice.leituras.final.registro], ['medida', 'estimada', 1030], 'the end read two hours late: interpolated between the readings around it');
  t.equal(invoice.leituras.final.leituras.length, 2, 'naming the two readings it comes from');
  t.same([invoice.subtotal, invoice.total], [43.68, 61.83], 'the golden Tarifa Branca figures');
  const pdf = await send(port, 'GET', `/faturas/${invoice.numero}?formato=pdf`);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'branca.pdf'), pdf.bytes);
  let text: string;
  try {
    text = (await run('pdftotext', ['-layout', join(dir, 'branca.pdf'), '-'])).stdout;
  } catch (error) {
    t.comment(`pdftotext not available (${(error as Error).message})`);
    return;
  }
  for (const expected of ['branca', 'ponta 5', 'interm. 10', 'fora 15', '(estimada)', 'Energia ponta (TE + TUSD)', 'R$ 61,83']) t.ok(text.includes(expected), `the PDF says ${expected}`);
  await mkdir(OUTPUT_DIR, { recursive: true });
  await run('pdftoppm', ['-png', '-r', '80', '-singlefile', join(dir, 'branca.pdf'), join(OUTPUT_DIR, 'fatura-branca')]);
  t.comment(`render: ${join(OUTPUT_DIR, 'fatura-branca.png')}`);
});

t.test('a Tarifa Branca cycle without a reading is billed, after a grace, with each posto at its mean over the known past cycles', async (t) => {
  const server = await brancaServer(t);
  const port = server.http.port;
  // Cycle 2026-04 (the golden one: ponta 5, intermediário 10, fora 15 kWh), cycle 2026-05 (ponta 7 on a Monday evening, fora 20 on a Sunday night), then silence.
  await server.stores.store.append([
    ...goldenBrancaCycle(),
    reading(at('2026-04-20', 0), 1_030_000n),
    reading(at('2026-05-04', 18), 1_030_000n),
    reading(at('2026-05-04', 20), 1_037_000n),
    reading(at('2026-05-10', 2), 1_037_000n),
    reading(at('2026-05-10', 4), 1_057_000n),
    reading(at('2026-05-20', 0), 1_057_000n),
  ]);
  const april = (await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-04' }, AS_OPERATOR)).json;
  const may = (await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-05' }, AS_OPERATOR)).json;
  t.same([april.consumo_por_posto, may.consumo_por_posto], [{ ponta: 5, intermediario: 10, fora_ponta: 15 }, { ponta: 7, intermediario: 0, fora_ponta: 20 }], 'the two cycles as billed');
  const june = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR);
  t.equal(june.status, 201, JSON.stringify(june.json));
  t.same(june.json.consumo_por_posto, { ponta: 6, intermediario: 5, fora_ponta: 17.5 }, 'each posto at the mean of the two');
  t.same([june.json.consumo_kwh, june.json.leituras.final.situacao, june.json.leituras.final.registro, june.json.leituras.final.leituras], [28.5, 'media_ciclos', 1085.5, []], 'the end register: the start plus the postos');
});

/** A billing-ready server: one convencional tariff, the parameters, and customer 13456789 reading on the 10th. */
async function billingServer(t: Test) {
  const server = await billingReadyServer(t, {}, '2025-01-01');
  await send(server.http.port, 'PATCH', '/clientes/13456789', { dia_leitura: 10 }, AS_OPERATOR);
  return server;
}

/** 00:00 of the 10th in São Paulo (03:00Z) of `month` (1-based) of 2026. */
const tenth = (month: number): number => Date.UTC(2026, month - 1, 10, 3);

t.test('regression: a forged spike at the cycle boundary set the bill; flagged readings stay in the history and out of the invoice', async (t) => {
  const server = await billingServer(t);
  const port = server.http.port;
  // A steady 100 kWh a month from January, a forged reading of +50,000 kWh (67 kW over the month) half an hour before June's boundary, then genuine readings.
  const monthly = [1, 2, 3, 4, 5].map((month, i) => ({ matricula: '13456789', timestamp: tenth(month), consumo: 1_000_000n + BigInt(i) * 100_000n }));
  const forged = { matricula: '13456789', timestamp: tenth(6) - 1_800_000, consumo: 51_400_000n };
  const after = { matricula: '13456789', timestamp: tenth(6) + 2 * 86_400_000, consumo: 1_406_000n };
  const result = await server.stores.store.append([...monthly, forged, after]);
  t.same(result.qualities, [0, 0, 0, 0, 0, 1, 0], 'the forged reading is flagged pico when stored');
  const history = (await send(port, 'GET', '/medicoes?matricula=13456789&limite=3')).json.medicoes;
  t.same(history.map((m: { consumo: number; qualidade: string[] }) => [m.consumo, m.qualidade]), [[1406, ['valida']], [51400, ['pico']], [1400, ['valida']]], 'visible in the history with its flag');
  const invoice = (await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR)).json;
  t.equal(invoice.leituras.final.situacao, 'estimada', 'the boundary is interpolated between the genuine readings around it');
  t.notOk(invoice.leituras.final.leituras.some((r: { registro: number }) => r.registro === 51400), 'never from the forged reading');
  t.ok(invoice.consumo_kwh > 0 && invoice.consumo_kwh < 110, `about a month of 100 kWh, not 50,000 (${invoice.consumo_kwh})`);
});

t.test('a cycle without a reading is billed, after a grace, by the mean of its last 12 cycles; the next reading settles the difference', async (t) => {
  const server = await billingServer(t);
  const port = server.http.port;
  // Cycles 2026-02 to 2026-05 consumed 100, 120, 140 and 160 kWh; then the meter went silent.
  const registers = [1_000_000n, 1_100_000n, 1_220_000n, 1_360_000n, 1_520_000n];
  await server.stores.store.append(registers.map((consumo, i) => ({ matricula: '13456789', timestamp: tenth(i + 1), consumo })));
  const june = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR);
  t.equal(june.status, 201, JSON.stringify(june.json));
  t.same([june.json.leituras.final.situacao, june.json.leituras.final.registro, june.json.consumo_kwh], ['media_ciclos', 1650, 130], 'start + the mean of 100, 120, 140, 160');
  t.same(june.json.leituras.final.leituras, [], 'no reading behind it');
  await server.stores.store.append([{ matricula: '13456789', timestamp: tenth(7), consumo: 1_770_000n }]);
  const july = (await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-07' }, AS_OPERATOR)).json;
  t.same([july.leituras.inicial.situacao, july.leituras.inicial.registro, july.consumo_kwh], ['media_ciclos', 1650, 120], 'July starts from the estimate: 130 + 120 = the 250 kWh really read');
});

t.test('a cycle without a reading and without a past cycle to average is billed at the custo de disponibilidade, flagged, and its consumption is never charged later (REN 1.000 art. 288 §§ 1º-2º)', async (t) => {
  const server = await billingServer(t);
  const port = server.http.port;
  // Read once, at the start of the 2026-06 cycle; then silent until well into July.
  await server.stores.store.append([{ matricula: '13456789', timestamp: tenth(5), consumo: 2_000_000n }]);
  const june = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, AS_OPERATOR);
  t.equal(june.status, 201, JSON.stringify(june.json));
  t.same([june.json.leituras.final.situacao, june.json.consumo_kwh, june.json.kwh_faturado, june.json.custo_disponibilidade_kwh], ['custo_disponibilidade', 0, 30, 30], 'nothing measured: the minimum');
  t.match(june.json.observacao, /custo de disponibilidade \(REN ANEEL 1\.000\/2021, art\. 288, § 1º\)/);
  t.same(june.json.itens.map((i: { tipo: string; quantidade: number }) => [i.tipo, i.quantidade]), [['energia', 0], ['disponibilidade', 30]]);
  // Readings resume: 1 kWh a day through July; July starts from the register at its own start, not from June's.
  await server.stores.store.append([
    { matricula: '13456789', timestamp: tenth(6) - 86_400_000, consumo: 2_300_000n },
    { matricula: '13456789', timestamp: tenth(6) + 86_400_000, consumo: 2_302_000n },
    { matricula: '13456789', timestamp: tenth(7), consumo: 2_330_000n },
  ]);
  const july = (await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-07' }, AS_OPERATOR)).json;
  t.same([july.leituras.inicial.situacao, july.leituras.inicial.registro, july.consumo_kwh], ['estimada', 2301, 29], 'July bills only July: the 300 kWh of the silent month are not charged');
});
