/** CO2e through a server: the operator's monthly factors, and the co2e_kg every consumption and invoice answer carries (the arithmetic: test/domain/co2e.test.ts). */
import t from 'tap';
import { startTestServer, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { BILLING_PARAMETERS, send, setDistributor, setPisCofins } from './billing-fixtures.js';

t.test('the operator sets monthly factors; /consumo, /gerar-fatura and issued invoices carry co2e_kg at them', async (t) => {
  const server = await startTestServer(t, { env: { DISTRIBUIDORA: 'TESTE-D', TZ_LEGADO: 'America/Sao_Paulo' } });
  const port = server.http.port;
  t.same((await send(port, 'GET', '/co2e/fatores?de=2026-01&ate=2026-12')).json, { de: '2026-01', ate: '2026-12', padrao_kg_co2e_kwh: '0.0385', fatores: [] });
  t.equal((await send(port, 'PUT', '/co2e/fatores/2026-06', { kg_co2e_kwh: '0.1' }, { token: TEST_OPERATOR_TOKEN })).status, 201);
  t.equal((await send(port, 'PUT', '/co2e/fatores/2026-05', { kg_co2e_kwh: '0.05' }, { token: TEST_OPERATOR_TOKEN })).status, 201);
  t.equal((await send(port, 'PUT', '/co2e/fatores/2026-05', { kg_co2e_kwh: 0.05 }, { token: TEST_OPERATOR_TOKEN })).status, 200, 'replaced');
  for (const [month, body] of [['2026-13', { kg_co2e_kwh: '0.1' }], ['2026-07', { kg_co2e_kwh: '-1' }], ['2026-07', { kg_co2e_kwh: '11' }], ['2026-07', { kg_co2e_kwh: '0.1234567' }], ['2026-07', {}]] as const) {
    const refused = await send(port, 'PUT', `/co2e/fatores/${month}`, body, { token: TEST_OPERATOR_TOKEN });
    t.same([refused.status, refused.json.erro.codigo], [422, 'dados_invalidos'], `${month} ${JSON.stringify(body)}`);
  }
  t.same((await send(port, 'GET', '/co2e/fatores?de=2026-01&ate=2026-12')).json.fatores, [{ mes: '2026-05', kg_co2e_kwh: '0.05' }, { mes: '2026-06', kg_co2e_kwh: '0.1' }]);

  // 00:00 of 10 May and 10 June in São Paulo; 310 kWh between them, 10 more on 20 June.
  await server.stores.store.append([
    { matricula: '13456789', timestamp: Date.parse('2026-05-10T03:00:00Z'), consumo: 1_000_000n },
    { matricula: '13456789', timestamp: Date.parse('2026-06-10T03:00:00Z'), consumo: 1_310_000n },
    { matricula: '13456789', timestamp: Date.parse('2026-06-20T03:00:00Z'), consumo: 1_320_000n },
  ]);
  const bill = (await send(port, 'GET', '/gerar-fatura?matricula=13456789')).json;
  t.same([bill.consumo, bill.co2e_kg], [10, 1], '10 kWh read in June at 0.1 kg/kWh');
  const monthly = (await send(port, 'GET', '/consumo?matricula=13456789&agrupar=mes&inicio=2026-05-01&fim=2026-07-01')).json;
  const mayJune = monthly.periodos.map((p: { inicio: string; consumo: number | null; co2e_kg: number | null }) => [p.inicio.slice(0, 10), p.consumo, p.co2e_kg]);
  t.equal(mayJune.length, 2, 'May and June');
  t.ok(mayJune.some(([, consumption]: [string, number | null]) => consumption !== null && consumption > 0), 'some consumption');
  for (const [start, consumption, co2e] of mayJune as Array<[string, number | null, number | null]>) {
    if (consumption === null) continue;
    const factor = start.startsWith('2026-05') ? 0.05 : 0.1;
    t.equal(co2e, Math.round(consumption * factor * 1000) / 1000, `${start}: ${consumption} kWh at ${factor}`);
  }
  t.equal(monthly.co2e_kg, Math.round(mayJune.reduce((sum: number, [start, consumption]: [string, number | null]) => sum + (consumption ?? 0) * (start.startsWith('2026-05') ? 0.05 : 0.1), 0) * 1000) / 1000, 'the total: each month\'s consumption at its factor');

  await server.stores.tariffs.addTariffs([{ distribuidora: 'TESTE-D', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: '2025-01-01', vigenciaFim: null, te: 29_459_000n, tusd: 41_238_000n, resolucao: 'REH 1/2025' }]);
  await send(port, 'PUT', '/faturamento/parametros', BILLING_PARAMETERS, { token: TEST_OPERATOR_TOKEN });
  await setPisCofins(server, '2026-01', '2026-12');
  await setDistributor(server);
  await send(port, 'PATCH', '/clientes/13456789', { dia_leitura: 10 }, { token: TEST_OPERATOR_TOKEN });
  const invoice = (await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-06' }, { token: TEST_OPERATOR_TOKEN })).json;
  t.same([invoice.consumo_kwh, invoice.co2e_kg], [310, 20], '310 kWh: 22 days of May at 0.05 (11 kg) and 9 of June at 0.1 (9 kg)');
});
