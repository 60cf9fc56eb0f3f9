/**
 * Electrical quantities end to end: real meter processes send them, the
 * server stores them with the reading and answers them; a voltage sag
 * beyond 10% of nominal arrives as a subtensao event; a meter in the
 * original format still works beside them.
 */
import t from 'tap';
import { startTestServer, until } from '../helpers.js';
import { send } from '../server/billing-fixtures.js';
import { startMeter } from './meter-processes.js';

const FAST = ['--intervalo-incremento', '0.02', '--intervalo-envio', '0.2', '--log-level', 'silent'];


t.test('a meter process measures around 127 V: quantities stored and answered, and a 20% sag is a subtensao event', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  startMeter(t, ['--porta', String(server.udp.port), '--matricula', '13456789', '--tensao-nominal', '127', '--variacao-tensao-apos', '1', '--duracao-variacao', '1', ...FAST]);
  startMeter(t, ['--porta', String(server.udp.port), '--matricula', '09812389', '--tensao-nominal', '0', ...FAST]);

  const newest = await until('a reading with quantities', async () => {
    const answer = await send(port, 'GET', '/medicoes/ultima-medicao?matricula=13456789');
    return answer.status === 200 && answer.json.tensao_v !== undefined ? answer.json : undefined;
  });
  t.ok(newest.tensao_v >= 124 && newest.tensao_v <= 130, `voltage around 127 V (${newest.tensao_v})`);
  t.ok(newest.fator_potencia >= 0.85 && newest.fator_potencia <= 0.99, 'power factor');
  t.ok(Math.abs(newest.frequencia_hz - 60) <= 0.05, 'frequency');
  t.ok(newest.potencia_kw >= 0 && newest.potencia_kw <= 2.5, `a home's power, a few kW at most (${newest.potencia_kw})`);
  t.ok(newest.corrente_a >= 0 && newest.corrente_a <= 25, `tens of A at most at 127 V (${newest.corrente_a})`);
  t.same(newest.qualidade, ['valida']);

  const sag = await until('the subtensao event', async () => {
    const answer = await send(port, 'GET', '/ocorrencias?matricula=13456789&tipo=subtensao');
    return answer.json.ocorrencias.length > 0 ? answer.json.ocorrencias : undefined;
  });
  t.equal(sag.length, 1, 'one event for one excursion');
  t.match(sag[0].detalhe, /^tensão \d+,\d V, nominal 127 V$/);

  const history = await send(port, 'GET', '/medicoes?matricula=13456789&limite=1000');
  const sagged = history.json.medicoes.filter((reading: { tensao_v?: number }) => reading.tensao_v !== undefined && reading.tensao_v < 127 * 0.9);
  t.ok(sagged.length > 0, 'the sagged readings are in the history with their voltage');
  const csv = (await send(port, 'GET', '/medicoes?matricula=13456789&formato=csv')).bytes.toString('utf8').split('\r\n');
  // Voltage 99-130 V: around 127, or around 101.6 while the 20% sag lasts.
  t.match(csv[1], /^[^,]+,13456789,[\d.]+,(99|1[0-3]\d)(\.\d+)?,[\d.]+,[\d.]+,0\.\d+,(59|60)(\.\d+)?,valida$/, 'the CSV carries them in their columns');

  const original = await until('a reading in the original format', async () => {
    const answer = await send(port, 'GET', '/medicoes/ultima-medicao?matricula=09812389');
    return answer.status === 200 ? answer.json : undefined;
  });
  t.same(Object.keys(original).sort(), ['consumo', 'data_hora', 'matricula', 'qualidade'], 'a meter without quantities: none answered');
});
