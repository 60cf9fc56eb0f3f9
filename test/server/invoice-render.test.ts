/**
 * Each kind of invoice rendered and read back by third-party tools, as a
 * customer's bank and eyes would: convencional, below the custo de
 * disponibilidade, Tarifa Branca, Tarifa Social at 60 and 150 kWh, and a
 * cancelled one. Every page is rendered with poppler (pdftoppm, 150 dpi,
 * kept under test-output/ to look at) and decoded with zbar (zbarimg): the
 * Interleaved 2 of 5 barcode must give the invoice's 44 digits, whose check
 * digits, value, FEBRABAN code and due date are recomputed here; the
 * linha digitável printed must read back to it; the QR code must be the
 * invoice's PIX BR Code, its CRC valid and its amount the total. A cancelled
 * invoice must carry no code at all.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { AS_OPERATOR, tempDir } from '../helpers.js';
import { billingReadyServer, DISTRIBUTOR, send as sendJson } from './billing-fixtures.js';
import { barcodeOfDigitableLine, febrabanModulo10, parsePixPayload } from '../../domain/billing/payment.js';

const run = promisify(execFile);
const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const send = (port: number, method: string, path: string, body?: unknown) => sendJson(port, method, path, body, { headers: AS_OPERATOR });

/** What zbarimg reads on the rendered first page: each symbol's data. */
async function decode(t: Test, pdf: Buffer, name: string): Promise<{ barcodes: string[]; qrcodes: string[]; text: string }> {
  const dir = await tempDir(t);
  const file = join(dir, `${name}.pdf`);
  await writeFile(file, pdf);
  await mkdir(OUTPUT_DIR, { recursive: true });
  const png = join(OUTPUT_DIR, name);
  await run('pdftoppm', ['-png', '-r', '150', '-singlefile', file, png]);
  const text = (await run('pdftotext', ['-layout', file, '-'])).stdout.replace(/\s+/g, ' ');
  let out = '';
  try {
    out = (await run('zbarimg', ['--raw', '-q', `${png}.png`])).stdout;
  } catch (error) {
    // zbarimg exits 4 when it finds no symbol: a result, not a failure.
    if ((error as { code?: number }).code !== 4) throw error;
  }
  const symbols = out.split('\n').filter((line) => line !== '');
  return { barcodes: symbols.filter((s) => /^\d+$/.test(s)), qrcodes: symbols.filter((s) => s.startsWith('000201')), text };
}

/** Checks the decoded codes against the invoice and recomputes what they must hold. */
function checkPayable(t: Test, invoice: Record<string, any>, codes: { barcodes: string[]; qrcodes: string[]; text: string }): void {
  const cents = BigInt(Math.round(invoice.total * 100));
  t.same(codes.barcodes, [invoice.pagamento.codigo_barras], 'zbarimg reads the invoice\'s barcode off the page');
  const barcode = codes.barcodes[0] ?? '';
  t.match(barcode, /^836\d{41}$/, 'product 8, segment 3 (energy), identifier 6 (value in reais, module 10)');
  t.equal(Number(barcode[3]), febrabanModulo10(barcode.slice(0, 3) + barcode.slice(4)), 'the general check digit');
  t.equal(BigInt(barcode.slice(4, 15)), cents, 'the value is the total in cents');
  t.equal(barcode.slice(15, 19), DISTRIBUTOR.codigo_febraban, "the distributor's FEBRABAN code");
  t.equal(barcode.slice(19, 27), invoice.vencimento.replace(/-/g, ''), 'the free field starts with the due date');
  t.equal(barcode.slice(27, 37), invoice.numero.replace('-', ''), "then the invoice's number");
  t.equal(barcodeOfDigitableLine(invoice.pagamento.linha_digitavel), barcode, 'the linha digitável reads back to the barcode, every block check digit right');
  t.ok(codes.text.includes(invoice.pagamento.linha_digitavel), 'the linha digitável is printed');
  t.same(codes.qrcodes, [invoice.pagamento.pix_copia_e_cola], 'zbarimg reads the PIX QR code off the page');
  const pix = parsePixPayload(codes.qrcodes[0] ?? '');
  t.ok(pix !== undefined, 'the BR Code parses and its CRC16 checks');
  t.equal(pix?.get('54'), invoice.total.toFixed(2), 'the PIX amount is the total');
  t.equal(pix?.get('26'), `0014br.gov.bcb.pix01${String(DISTRIBUTOR.chave_pix.length).padStart(2, '0')}${DISTRIBUTOR.chave_pix}`, "the distributor's key");
  t.equal(pix?.get('62'), `0513FAT${invoice.numero.replace('-', '')}`, 'the txid names the invoice');
}

/** The third-party readers, when installed (README: "Tests"; .ci/run installs them). */
async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const [tool, args, pkg] of [['pdftoppm', ['-v'], 'poppler-utils'], ['zbarimg', ['--version'], 'zbar-tools']] as const) {
    try {
      await run(tool, [...args]);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') missing.push(`${tool} (apt-get install ${pkg})`);
    }
  }
  return missing;
}

t.test('every kind of invoice renders, and its barcode and PIX code decode to what it charges', async (t) => {
  const missing = await missingTools();
  if (missing.length > 0) {
    t.test('reading the codes off the page', { skip: `third-party readers not installed here: ${missing.join(', ')}` }, async () => {});
    return;
  }
  const server = await billingReadyServer(t, { TZ_LEGADO: 'America/Sao_Paulo' }, '2025-01-01');
  const port = server.http.port;
  const tariff = (posto: 'ponta' | 'intermediario' | 'fora_ponta', te: bigint, tusd: bigint) => ({ distribuidora: 'TESTE-D', modalidade: 'branca' as const, posto, vigenciaInicio: '2025-01-01', vigenciaFim: null, te, tusd, resolucao: 'REH 1/2025' });
  await server.stores.tariffs.addTariffs([tariff('ponta', 48_000_000n, 140_000_000n), tariff('intermediario', 30_000_000n, 90_000_000n), tariff('fora_ponta', 27_000_000n, 35_000_000n)]);
  // The Tarifa Social's rows (Lei 15.235/2025), both bands at CEMIG-D's 2026 values.
  const social = (subclasse: 'tarifa_social_1' | 'tarifa_social_2') => ({ distribuidora: 'TESTE-D', modalidade: 'convencional' as const, posto: 'nao_se_aplica' as const, subclasse, vigenciaInicio: '2025-07-05', vigenciaFim: null, te: 29_702_000n, tusd: 41_831_000n, resolucao: 'REH 1/2025' });
  await server.stores.tariffs.addTariffs([social('tarifa_social_1'), social('tarifa_social_2')]);
  // The Desconto Social's rows: faixa 01 without the CDE quota, faixa 02 the residential tariff (CEMIG-D's 2026 values).
  const desconto = (subclasse: 'desconto_social_1' | 'desconto_social_2', te: bigint, tusd: bigint) => ({ distribuidora: 'TESTE-D', modalidade: 'convencional' as const, posto: 'nao_se_aplica' as const, subclasse, vigenciaInicio: '2026-01-01', vigenciaFim: null, te, tusd, resolucao: 'REH 1/2025' });
  await server.stores.tariffs.addTariffs([desconto('desconto_social_1', 30_876_000n, 42_767_000n), desconto('desconto_social_2', 31_021_000n, 59_308_000n)]);
  // São Paulo is UTC-3: 00:00 of 10 May is 03:00Z. Each customer reads on the 10th; one reading at each boundary and one after.
  const kinds: Array<{ name: string; matricula: string; kwh: number; profile: Record<string, unknown> }> = [
    { name: 'convencional', matricula: '41000001', kwh: 250, profile: { ligacao: 'trifasica' } },
    { name: 'minimo', matricula: '41000002', kwh: 12, profile: { ligacao: 'bifasica', condutores: 2 } },
    { name: 'branca', matricula: '41000003', kwh: 180, profile: { modalidade: 'branca' } },
    { name: 'tarifa-social-60', matricula: '41000004', kwh: 60, profile: { tarifa_social: true } },
    { name: 'tarifa-social-150', matricula: '41000005', kwh: 150, profile: { tarifa_social: true } },
    { name: 'cancelada', matricula: '41000006', kwh: 100, profile: {} },
    // Recorded only by its dated benefit (the undated tarifa_social flag off): its class, rows and bill follow the benefit.
    { name: 'desconto-social', matricula: '41000007', kwh: 150, profile: { beneficio: { tipo: 'desconto_social', inicio: '2026-01-01' } } },
  ];
  const holder = (i: number) => ({ nome: `Titular de Teste ${i}`, cpf_cnpj: ['529.982.247-25', '111.444.777-35', '123.456.789-09', '935.411.347-80', '390.533.447-05', '11.444.777/0001-61', '529.982.247-25'][i], endereco: `Rua de Teste, ${100 + i}, Belo Horizonte - MG` });
  for (const [i, kind] of kinds.entries()) {
    t.equal((await send(port, 'POST', '/clientes', { username: `titular${i}`, matricula: kind.matricula, dia_leitura: 10, titular: holder(i), ...kind.profile })).status, 201, kind.name);
    const start = 1_000_000n * BigInt(i + 1);
    await server.stores.store.append([
      { matricula: kind.matricula, timestamp: Date.parse('2026-05-10T03:00:00Z'), consumo: start },
      ...(kind.name === 'branca' ? [{ matricula: kind.matricula, timestamp: Date.parse('2026-05-20T21:30:00Z'), consumo: start + 60_000n }] : []),
      { matricula: kind.matricula, timestamp: Date.parse('2026-06-10T03:00:00Z'), consumo: start + BigInt(kind.kwh * 1000) },
      { matricula: kind.matricula, timestamp: Date.parse('2026-06-11T03:00:00Z'), consumo: start + BigInt(kind.kwh * 1000) + 1000n },
    ]);
  }
  for (const kind of kinds) {
    const issued = await send(port, 'POST', '/faturas', { matricula: kind.matricula, ciclo: '2026-06' });
    t.equal(issued.status, 201, `${kind.name}: issued`);
    let invoice = issued.json;
    if (kind.name === 'cancelada') invoice = (await send(port, 'POST', `/faturas/${invoice.numero}/cancelamento`, { motivo: 'leitura digitada errada' })).json;
    const pdf = await send(port, 'GET', `/faturas/${invoice.numero}?formato=pdf`);
    t.equal(pdf.headers.get('content-type'), 'application/pdf');
    const codes = await decode(t, pdf.bytes, `fatura-${kind.name}`);
    t.ok(codes.text.includes('Referente a JUNHO/2026') && codes.text.includes(DISTRIBUTOR.nome) && codes.text.includes(`Titular de Teste ${kinds.indexOf(kind)}`), `${kind.name}: distributor, holder and reference month printed`);
    t.comment(`render: ${join(OUTPUT_DIR, `fatura-${kind.name}.png`)}`);
    if (kind.name === 'cancelada') {
      t.same([codes.barcodes, codes.qrcodes], [[], []], 'a cancelled invoice carries no code to pay it with');
      t.ok(codes.text.includes('FATURA CANCELADA') && codes.text.includes('leitura digitada errada'), 'it says it was cancelled, when and why');
      t.ok(codes.text.includes('CANCELADA'), 'the watermark, one word');
      continue;
    }
    t.test(`${kind.name}: payable`, async (t) => checkPayable(t, invoice, codes));
    if (kind.name === 'minimo') t.same([invoice.condutores, invoice.custo_disponibilidade_kwh, invoice.kwh_faturado], [2, 30, 30], 'bifásica with 2 conductors: 30 kWh (REN 1.000 art. 291, I)');
    // 60 kWh free and ICMS exempt (2 kWh a day): only the CIP; 150 kWh: 70 kWh at the tariff with taxes (65,16) and the CIP.
    if (kind.name === 'tarifa-social-60') t.same([invoice.total, invoice.itens.at(-1).tipo], [5, 'tarifa_social'], 'Lei 15.235/2025: the first 80 kWh free');
    if (kind.name === 'tarifa-social-150') t.equal(invoice.total, 77.66, '70 kWh billed: 65,16 + CIP 12,50 (test/reference/faturas.py, case 8)');
    if (kind.name === 'tarifa-social-60') t.same([invoice.beneficio, invoice.classe], ['tarifa_social', 'B1 Residencial, subclasse Residencial Baixa Renda (Tarifa Social)']);
    if (kind.name === 'desconto-social') {
      // 31 days in May-June 2026: 120 kWh at faixa 01 (114,99 with taxes) and 30 at faixa 02 (35,26), CIP 12,50 (test/reference/faturas.py, case 10).
      t.same([invoice.beneficio, invoice.tarifa_social, invoice.classe, invoice.total], ['desconto_social', false, 'B1 Residencial, Desconto Social', 162.75], 'the bill names the benefit that billed it');
      t.ok(codes.text.includes('B1 Residencial, Desconto Social'), 'and prints it');
    }
  }
});
