/**
 * The billing rules over HTTP: parameter versions, bandeiras and monthly
 * PIS/COFINS set by the operator (PUT, 201 then 200), listed, validated
 * field by field, and closed to everyone else when tokens are required; a
 * parameter version stored before the ICMS table still read.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startTestServer, tempDir, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { BILLING_PARAMETERS, send as sendJson } from './billing-fixtures.js';

const ADMIN = 'token-do-operador-de-teste-0123456789abcdef';
const PARAMETERS = BILLING_PARAMETERS;
const send = (port: number, method: string, path: string, body?: unknown, token?: string) => sendJson(port, method, path, body, token === undefined ? {} : { token });

t.test('parameters: created, replaced, listed exactly as sent; every bad field named', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const first = await send(port, 'PUT', '/faturamento/parametros', PARAMETERS, TEST_OPERATOR_TOKEN);
  t.equal(first.status, 201);
  t.same(first.json, PARAMETERS, 'answered as stored, decimals as text');
  t.equal((await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, vencimento_dias: 12 }, TEST_OPERATOR_TOKEN)).status, 200, 'the same start replaces');
  await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, vigencia_inicio: '2026-07-01' }, TEST_OPERATOR_TOKEN);
  const listed = await send(port, 'GET', '/faturamento/parametros');
  t.same(listed.json.parametros.map((p: { vigencia_inicio: string; vencimento_dias: number }) => [p.vigencia_inicio, p.vencimento_dias]), [
    ['2026-01-01', 12],
    ['2026-07-01', 10],
  ]);
  const bad = await send(port, 'PUT', '/faturamento/parametros', {
    ...PARAMETERS,
    vigencia_inicio: '2026-02-30',
    tributos: { icms: { faixas: [{ ate_kwh: 90, aliquota: '1' }, { ate_kwh: null, aliquota: 'abc' }] } },
    cip: [{ ate_kwh: null, valor: '5.00' }, { ate_kwh: 100, valor: '1.00' }],
    postos_tarifa_branca: { ponta: ['18:00-21:00'], intermediario: ['20:00-22:00'] },
  }, TEST_OPERATOR_TOKEN);
  t.equal(bad.status, 422);
  t.equal(bad.json.erro.codigo, 'dados_invalidos');
  const fields = bad.json.erro.detalhes.map((d: { campo: string }) => d.campo);
  t.ok(['vigencia_inicio', 'tributos.icms.faixas.0.aliquota', 'tributos.icms.faixas.1.aliquota'].every((f) => fields.includes(f)), `named: ${fields.join(', ')}`);
  const bands = await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, cip: [{ ate_kwh: null, valor: '5.00' }, { ate_kwh: 100, valor: '1.00' }] }, TEST_OPERATOR_TOKEN);
  t.same(bands.json.erro.detalhes.map((d: { campo: string }) => d.campo), ['cip.0.ate_kwh', 'cip.1.ate_kwh'], 'bands whose order makes no sense');
  const sent = await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, vigencia_inicio: '2027-01-01', tarifa_social: [{ ate_kwh: 30, desconto: '0.650' }], cip: [{ ate_kwh: null, valor: 7 }] }, TEST_OPERATOR_TOKEN);
  t.same([sent.json.tarifa_social, sent.json.cip], [[{ ate_kwh: 30, desconto: '0.65' }], [{ ate_kwh: null, valor: '7.00' }]], 'decimals answered in one spelling: money with two places');
  const overlap = await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, postos_tarifa_branca: { ponta: ['18:00-21:00'], intermediario: ['20:00-22:00'] } }, TEST_OPERATOR_TOKEN);
  t.same(overlap.json.erro.detalhes, [{ campo: 'postos_tarifa_branca', problema: 'os intervalos de ponta e intermediário não podem se sobrepor' }]);
  const unordered = await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, tributos: { icms: { faixas: [{ ate_kwh: 200, aliquota: '0.12' }, { ate_kwh: 90, aliquota: '0' }, { ate_kwh: null, aliquota: '0.18' }], isencao_tarifa_social: null } } }, TEST_OPERATOR_TOKEN);
  t.same(unordered.json.erro.detalhes, [{ campo: 'tributos.icms.faixas.1.ate_kwh', problema: 'as faixas devem crescer' }], 'ICMS bands in order');
  const legacy = await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, tributos: { icms: '0.18', pis: '0.0165', cofins: '0.076' } }, TEST_OPERATOR_TOKEN);
  t.equal(legacy.status, 422, 'the old single rates are no longer accepted over the API');
  const free = await send(port, 'PUT', '/faturamento/parametros', { ...PARAMETERS, vigencia_inicio: '2025-07-05', tarifa_social: [{ ate_kwh: 80, desconto: '1' }] }, TEST_OPERATOR_TOKEN);
  t.same([free.status, free.json.tarifa_social], [201, [{ ate_kwh: 80, desconto: '1' }]], 'a 100% discount is a discount (Lei 15.235/2025)');
});

t.test('PIS/COFINS: one pair of effective rates per month, replaced, listed by range; bad rates named', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  t.equal((await send(port, 'PUT', '/faturamento/pis-cofins/2026-05', { pis: '0.0112', cofins: '0.0516' }, TEST_OPERATOR_TOKEN)).status, 201);
  const replaced = await send(port, 'PUT', '/faturamento/pis-cofins/2026-05', { pis: '0.010774', cofins: 0.049627 }, TEST_OPERATOR_TOKEN);
  t.same([replaced.status, replaced.json], [200, { mes: '2026-05', pis: '0.010774', cofins: '0.049627' }]);
  t.same((await send(port, 'GET', '/faturamento/pis-cofins?de=2026-01&ate=2026-12')).json, { de: '2026-01', ate: '2026-12', aliquotas: [{ mes: '2026-05', pis: '0.010774', cofins: '0.049627' }] });
  const bad = await send(port, 'PUT', '/faturamento/pis-cofins/2026-06', { pis: '-0.01', cofins: '1.5' }, TEST_OPERATOR_TOKEN);
  t.same(bad.json.erro.detalhes.map((d: { campo: string }) => d.campo), ['pis', 'cofins']);
  t.equal((await send(port, 'PUT', '/faturamento/pis-cofins/2026-13', { pis: '0.01', cofins: '0.05' }, TEST_OPERATOR_TOKEN)).status, 422);
  t.equal((await send(port, 'PUT', '/faturamento/pis-cofins/2026-06', { pis: '0.6', cofins: '0.5' }, TEST_OPERATOR_TOKEN)).json.erro.detalhes[0].problema, 'a soma de pis e cofins deve ser menor que 1');
  t.equal((await send(port, 'PUT', '/faturamento/pis-cofins/2026-06', { pis: '0.01', cofins: '0.05' })).status, 401, 'only the operator sets them');
});

t.test('the distributor record: set by the operator for DISTRIBUIDORA, validated, read back; refused without DISTRIBUIDORA', async (t) => {
  const server = await startTestServer(t, { env: { DISTRIBUIDORA: 'TESTE-D' } });
  const port = server.http.port;
  const record = { nome: 'Distribuidora Teste S.A.', cnpj: '11.222.333/0001-81', endereco: 'Av. das Linhas, 1000', codigo_febraban: '0123', chave_pix: 'pix@teste.com.br', cidade: 'Belo Horizonte' };
  t.equal((await send(port, 'GET', '/faturamento/distribuidora', undefined, TEST_OPERATOR_TOKEN)).json.erro.codigo, 'faturamento_nao_configurado', 'not set yet');
  const put = await send(port, 'PUT', '/faturamento/distribuidora', record, TEST_OPERATOR_TOKEN);
  t.same([put.status, put.json], [201, { sigla: 'TESTE-D', ...record, cnpj: '11222333000181' }]);
  t.equal((await send(port, 'PUT', '/faturamento/distribuidora', { ...record, cidade: 'Contagem' }, TEST_OPERATOR_TOKEN)).status, 200, 'replaced');
  t.equal((await send(port, 'GET', '/faturamento/distribuidora', undefined, TEST_OPERATOR_TOKEN)).json.cidade, 'Contagem');
  const bad = await send(port, 'PUT', '/faturamento/distribuidora', { ...record, cnpj: '11.222.333/0001-82', codigo_febraban: '12', chave_pix: '' }, TEST_OPERATOR_TOKEN);
  t.same(bad.json.erro.detalhes.map((d: { campo: string }) => d.campo), ['cnpj', 'codigo_febraban', 'chave_pix'], 'a CNPJ with a wrong check digit, a code not of 4 digits, an empty key');
  const hostile = await send(port, 'PUT', '/faturamento/distribuidora', { ...record, nome: '★★★', chave_pix: 'chave com espaço é', cidade: '😀' }, TEST_OPERATOR_TOKEN);
  t.same(hostile.json.erro.detalhes.map((d: { campo: string }) => d.campo), ['nome', 'chave_pix', 'cidade'], 'nothing that would make the PIX code unreadable: a name or city with no letter, a key with spaces or accents');
  t.equal((await send(port, 'PUT', '/faturamento/distribuidora', record)).status, 401, 'only the operator sets it');
  const unset = await startTestServer(t);
  t.equal((await send(unset.http.port, 'PUT', '/faturamento/distribuidora', record, TEST_OPERATOR_TOKEN)).json.erro.codigo, 'faturamento_nao_configurado', 'without DISTRIBUIDORA there is no distributor to describe');
});

t.test('the account holder and conductors on the profile: CPF/CNPJ check digits verified, conductors only on a bifásica connection', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const titular = { nome: 'Ana Maria Souza', cpf_cnpj: '529.982.247-25', endereco: 'Rua dos Timbiras, 1500' };
  const set = await send(port, 'PATCH', '/clientes/13456789', { ligacao: 'bifasica', condutores: 2, titular }, TEST_OPERATOR_TOKEN);
  t.same([set.status, set.json.condutores, set.json.titular], [200, 2, { ...titular, cpf_cnpj: '52998224725' }]);
  const badCpf = await send(port, 'PATCH', '/clientes/13456789', { titular: { ...titular, cpf_cnpj: '529.982.247-26' } }, TEST_OPERATOR_TOKEN);
  t.same(badCpf.json.erro.detalhes.map((d: { campo: string }) => d.campo), ['titular.cpf_cnpj'], 'a wrong check digit');
  t.equal((await send(port, 'PATCH', '/clientes/13456789', { titular: { ...titular, cpf_cnpj: '111.111.111-11' } }, TEST_OPERATOR_TOKEN)).status, 422, 'repeated digits are no CPF');
  const mono = await send(port, 'PATCH', '/clientes/13456789', { ligacao: 'monofasica', condutores: 3 }, TEST_OPERATOR_TOKEN);
  t.same(mono.json.erro.detalhes, [{ campo: 'condutores', problema: 'só uma ligação bifásica tem 2 ou 3 condutores' }]);
  const back = await send(port, 'PATCH', '/clientes/13456789', { ligacao: 'monofasica' }, TEST_OPERATOR_TOKEN);
  t.same([back.json.ligacao, 'condutores' in back.json], ['monofasica', false], 'leaving bifásica drops the conductors');
  t.equal((await send(port, 'PATCH', '/clientes/13456789', { ligacao: 'bifasica' }, TEST_OPERATOR_TOKEN)).json.condutores, 3, 'bifásica without saying: 3 conductors');
  const benefit = await send(port, 'PATCH', '/clientes/13456789', { beneficio: { tipo: 'desconto_social', inicio: '2026-01-01' } }, TEST_OPERATOR_TOKEN);
  t.same([benefit.status, benefit.json.beneficio], [200, { tipo: 'desconto_social', inicio: '2026-01-01', fim: null }], 'a benefit with its validity, open-ended by default');
  const backwards = await send(port, 'PATCH', '/clientes/13456789', { beneficio: { tipo: 'tarifa_social', inicio: '2026-06-01', fim: '2026-05-31' } }, TEST_OPERATOR_TOKEN);
  t.same(backwards.json.erro.detalhes, [{ campo: 'beneficio.fim', problema: 'o fim deve ser no início ou depois' }]);
  t.same((await send(port, 'PATCH', '/clientes/13456789', { beneficio: { tipo: 'tarifa_social', inicio: '2026-02-30' } }, TEST_OPERATOR_TOKEN)).json.erro.detalhes, [{ campo: 'beneficio.inicio', problema: 'deve ser uma data AAAA-MM-DD' }], 'a day that does not exist');
  t.same((await send(port, 'PATCH', '/clientes/13456789', { beneficio: { tipo: 'bolsa', inicio: '2026-01-01' } }, TEST_OPERATOR_TOKEN)).json.erro.detalhes.map((d: { campo: string }) => d.campo), ['beneficio.tipo']);
  t.same((await send(port, 'PATCH', '/clientes/13456789', { modalidade: 'branca' }, TEST_OPERATOR_TOKEN)).json.erro.detalhes, [{ campo: 'beneficio', problema: 'a tarifa social e o desconto social não se aplicam à modalidade branca' }]);
  const cleared = await send(port, 'PATCH', '/clientes/13456789', { beneficio: null }, TEST_OPERATOR_TOKEN);
  t.same([cleared.status, 'beneficio' in cleared.json], [200, false], 'null clears it');
});

t.test('a parameter version journalled before the ICMS table (single rates) is still read: its ICMS as one band', async (t) => {
  const dataDir = await tempDir(t);
  const old = { tipo: 'parametros', ...PARAMETERS, tributos: { icms: '0.18', pis: '0.0165', cofins: '0.076' } };
  await writeFile(join(dataDir, 'faturamento.jsonl'), `${JSON.stringify(old)}\n`);
  const server = await startTestServer(t, { dataDir });
  const listed = (await send(server.http.port, 'GET', '/faturamento/parametros', undefined, TEST_OPERATOR_TOKEN)).json.parametros;
  t.same(listed.map((p: { tributos: unknown }) => p.tributos), [{ icms: { faixas: [{ ate_kwh: null, aliquota: '0.18' }], isencao_tarifa_social: null } }]);
});

t.test('bandeiras: per month, replaced, listed by range; a bad month or flag named', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  t.equal((await send(port, 'PUT', '/faturamento/bandeiras/2026-05', { bandeira: 'amarela', adicional_kwh: '0.01885' }, TEST_OPERATOR_TOKEN)).status, 201);
  t.equal((await send(port, 'PUT', '/faturamento/bandeiras/2026-06', { bandeira: 'vermelha_1', adicional_kwh: '0.04463' }, TEST_OPERATOR_TOKEN)).status, 201);
  const replaced = await send(port, 'PUT', '/faturamento/bandeiras/2026-05', { bandeira: 'verde', adicional_kwh: '0' }, TEST_OPERATOR_TOKEN);
  t.same([replaced.status, replaced.json], [200, { mes: '2026-05', bandeira: 'verde', adicional_kwh: '0' }]);
  const listed = await send(port, 'GET', '/faturamento/bandeiras?de=2026-01&ate=2026-12');
  t.same(listed.json, {
    de: '2026-01',
    ate: '2026-12',
    bandeiras: [
      { mes: '2026-05', bandeira: 'verde', adicional_kwh: '0' },
      { mes: '2026-06', bandeira: 'vermelha_1', adicional_kwh: '0.04463' },
    ],
  });
  t.equal((await send(port, 'PUT', '/faturamento/bandeiras/2026-13', { bandeira: 'verde', adicional_kwh: '0' }, TEST_OPERATOR_TOKEN)).status, 422);
  const badFlag = await send(port, 'PUT', '/faturamento/bandeiras/2026-07', { bandeira: 'roxa', adicional_kwh: '-1' }, TEST_OPERATOR_TOKEN);
  t.same(badFlag.json.erro.detalhes.map((d: { campo: string }) => d.campo), ['bandeira', 'adicional_kwh']);
  t.equal((await send(port, 'GET', '/faturamento/bandeiras?de=2026-12&ate=2026-01')).status, 422);
});

t.test('with tokens required, only the operator sets the rules', async (t) => {
  const server = await startTestServer(t, { env: { AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: ADMIN } });
  const port = server.http.port;
  t.equal((await send(port, 'PUT', '/faturamento/parametros', PARAMETERS)).status, 401);
  t.equal((await send(port, 'PUT', '/faturamento/bandeiras/2026-05', { bandeira: 'verde', adicional_kwh: '0' })).status, 401);
  t.equal((await send(port, 'PUT', '/faturamento/parametros', PARAMETERS, ADMIN)).status, 201);
  t.equal((await send(port, 'GET', '/faturamento/parametros')).status, 401, 'reading needs a token too');
  t.equal((await send(port, 'GET', '/faturamento/parametros', undefined, ADMIN)).status, 200);
});
