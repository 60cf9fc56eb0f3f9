/**
 * Validated readings through the server: a forged spike drives neither the
 * alert nor the original's bill (regression), while an ordinary surge still
 * alerts; /qualidade per meter and for the fleet, and who may see it.
 */
import t from 'tap';
import type { Reading } from '../../database/store.js';
import { hashPassword } from '../../domain/auth/password.js';
import { startTestServer } from '../helpers.js';
import { send } from './billing-fixtures.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 1, 3); // 00:00 of 1 November in São Paulo

const hourly = (matricula: string, count: number, stepWh: bigint, from = 0, register = 1_000_000n): Reading[] =>
  Array.from({ length: count }, (_, i) => ({ matricula, timestamp: START + (from + i) * HOUR, consumo: register + BigInt(i) * stepWh }));

t.test('regression: a forged spike reading drove /alerta-consumo and /gerar-fatura', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const steady = hourly('13456789', 10, 2_000n); // 2 kWh an hour
  const forged = { matricula: '13456789', timestamp: START + 9.5 * HOUR, consumo: 1_518_000n }; // +500 kWh in half an hour
  await server.stores.store.append([...steady, forged]);
  let alert = await send(port, 'GET', '/alerta-consumo?matricula=13456789');
  t.same([alert.status, alert.json.alerta, alert.json.periodos], [200, false, [2, 2, 2, 2]], 'the spike is the newest reading: the alert looks past it, to the usable ones');
  const genuine = { matricula: '13456789', timestamp: START + 10 * HOUR, consumo: 1_020_000n };
  await server.stores.store.append([genuine]);
  alert = await send(port, 'GET', '/alerta-consumo?matricula=13456789');
  t.same([alert.status, alert.json.alerta, alert.json.periodos], [200, false, [2, 2, 2, 2]], 'and once a genuine reading follows, still none: there is no surge');
  const bill = await send(port, 'GET', '/gerar-fatura?matricula=13456789');
  t.same([bill.json.leitura_anterior, bill.json.leitura_atual, bill.json.consumo], [1018, 1020, 2], 'billed between the two newest usable readings');
  const newest = await send(port, 'GET', '/medicoes?matricula=13456789&limite=2');
  t.same(newest.json.medicoes.map((m: { consumo: number; qualidade: string[] }) => [m.consumo, m.qualidade]), [[1020, ['valida']], [1518, ['pico']]], 'the spike stays in the history, flagged');
});

t.test("an ordinary surge is no spike: the original data's alert for 09812389 still fires", async (t) => {
  const server = await startTestServer(t);
  const readings = hourly('09812389', 12, 10_000n);
  const last = readings[readings.length - 1] as Reading;
  readings.push({ matricula: '09812389', timestamp: last.timestamp + HOUR, consumo: last.consumo + 45_000n }); // 4.5x the hour before
  await server.stores.store.append(readings);
  const alert = await send(server.http.port, 'GET', '/alerta-consumo?matricula=09812389');
  t.same([alert.json.alerta, alert.json.periodos], [true, [10, 10, 10, 45]]);
  t.same((await send(server.http.port, 'GET', '/medicoes/ultima-medicao?matricula=09812389')).json.qualidade, ['valida']);
});

t.test('/qualidade: completeness per local day from the meter’s cadence, flags counted; the fleet view for the operator', async (t) => {
  const server = await startTestServer(t, { env: { TZ_LEGADO: 'America/Sao_Paulo' } });
  const port = server.http.port;
  // Every 15 minutes for two local days, silent from 06:00 to 12:00 on the second, and one spike.
  const quarter = 15 * 60_000;
  const readings: Reading[] = [];
  let register = 1_000_000n;
  for (let i = 0; i < 192; i++) {
    const timestamp = START + i * quarter;
    const localHour = Math.floor((i % 96) / 4);
    if (i >= 96 && localHour >= 6 && localHour < 12) continue;
    register += 500n;
    readings.push({ matricula: '13456789', timestamp, consumo: i === 150 ? register + 900_000n : register });
  }
  const stored = await server.stores.store.append(readings);
  t.equal(stored.stored, readings.length);
  const answer = await send(port, 'GET', '/qualidade?matricula=13456789&inicio=2026-11-01&fim=2026-11-03');
  t.equal(answer.status, 200, JSON.stringify(answer.json));
  const body = answer.json;
  t.same([body.intervalo_tipico_s, body.fuso, body.inicio, body.fim], [900, 'America/Sao_Paulo', '2026-11-01T03:00:00.000Z', '2026-11-03T03:00:00.000Z']);
  t.same(body.dias.map((d: { dia: string; recebidas: number; esperadas: number; completude: number }) => [d.dia, d.recebidas, d.esperadas, d.completude]), [
    ['2026-11-01', 96, 96, 1],
    ['2026-11-02', 72, 96, 0.75],
  ]);
  t.same(body.dias[1].sinalizadas, { pico: 1, regressiva: 0, lacuna_antes: 1, consumo_zero_prolongado: 0 }, 'the reading after the silence, and the spike');
  t.same([body.total.recebidas, body.total.esperadas, body.total.completude, body.total.validas], [168, 192, 0.875, 166]);

  const fleet = await send(port, 'GET', '/qualidade?inicio=2026-11-01&fim=2026-11-03&limite=2');
  t.equal(fleet.status, 200);
  t.same(fleet.json.medidores.map((m: { matricula: string; recebidas: number; completude: number | null }) => [m.matricula, m.recebidas, m.completude]), [
    ['13456789', 168, 0.875],
    ['98765432', 0, null],
  ], 'registered customers in order, one page (a meter without readings has no cadence, so no completeness)');
  t.same([fleet.json.total.recebidas, fleet.json.total.esperadas], [168, 192]);
  t.match(fleet.json.proxima, /pagina=2/);
  const far = await send(port, 'GET', '/qualidade?matricula=13456789&inicio=2026-01-01&fim=2026-11-03');
  t.same([far.status, far.json.erro.codigo, far.json.erro.detalhes?.[0]?.campo], [422, 'dados_invalidos', 'inicio'], 'a range over 92 days is refused');
});

t.test('/qualidade with tokens: a customer sees its own meter only, never the fleet', async (t) => {
  const server = await startTestServer(t, { env: { AUTENTICACAO_API: 'obrigatoria' } });
  const port = server.http.port;
  await server.stores.store.setPasswordHash('13456789', await hashPassword('uma senha longa'));
  const token = (await send(port, 'POST', '/validacao-usuario', { username: 'amancio123', senha: 'uma senha longa' })).json.token as string;
  t.equal((await send(port, 'GET', '/qualidade?matricula=13456789')).status, 401);
  t.equal((await send(port, 'GET', '/qualidade?matricula=13456789', undefined, { token })).status, 200);
  t.equal((await send(port, 'GET', '/qualidade?matricula=09812389', undefined, { token })).status, 403);
  t.equal((await send(port, 'GET', '/qualidade', undefined, { token })).status, 403);
});
