/** Forecasts through a server: /previsao, goals and /previsao/precisao (the method: test/domain/forecast.test.ts). */
import t from 'tap';
import { cycleContaining, cycleEndingIn, cycleMonth } from '../../domain/billing/cycle.js';
import { billingReadyServer, send } from './billing-fixtures.js';
import { startTestServer, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { DAY_MS } from '../../protocol/timestamp.js';

const kwh = (n: number): bigint => BigInt(Math.round(n * 1000));

t.test('/previsao, goals and /previsao/precisao on a server with a steady meter and a cycle that doubled half-way', async (t) => {
  const server = await billingReadyServer(t, { TZ_LEGADO: 'UTC' });
  const port = server.http.port;
  const now = Date.now();
  const open = cycleContaining(now, 1, 'UTC');
  const month = cycleMonth(open);
  const monthBefore = (n: number) => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 - n, 1)).toISOString().slice(0, 7);
  const third = cycleEndingIn(monthBefore(3), 1, 'UTC');
  // Every 6 hours from three cycles back: 10 kWh a day, except the second half of the cycle two back, at 20.
  const doubled = cycleEndingIn(monthBefore(2), 1, 'UTC');
  const doubledFrom = doubled.start + Math.floor((doubled.end - doubled.start) / 2);
  const readings = [];
  let register = 1_000_000n;
  let last = third.start;
  for (let at = third.start; at <= now - 3_600_000; at += DAY_MS / 4) {
    readings.push({ matricula: '13456789', timestamp: at, consumo: register });
    register += at >= doubledFrom && at < doubled.end ? kwh(5) : kwh(2.5);
    last = at;
  }
  // And one about a minute ago at the same rate (10 kWh a day is a thousandth every 8.64 s: exact), so the open cycle has a reading however little of it has passed.
  const steps = Math.floor((now - 60_000 - last) / 8640);
  readings.push({ matricula: '13456789', timestamp: last + steps * 8640, consumo: register - kwh(2.5) + BigInt(steps) });
  await server.stores.store.append(readings);

  const answer = await send(port, 'GET', '/previsao?matricula=13456789');
  t.equal(answer.status, 200, JSON.stringify(answer.json));
  const f = answer.json;
  const days = (open.end - open.start) / DAY_MS;
  t.same([f.ciclo.mes, f.metodo, f.taxa_ciclo_kwh_dia, f.taxa_ano_anterior_kwh_dia], [month, 'taxa_do_ciclo_combinada_com_ano_anterior', 10, null]);
  t.ok(Math.abs(f.consumo_previsto_kwh - 10 * days) <= 0.01, `10 kWh a day for ${days} days (${f.consumo_previsto_kwh})`);
  t.ok(f.faixa_kwh.min <= f.consumo_previsto_kwh && f.consumo_previsto_kwh <= f.faixa_kwh.max);
  t.ok(f.valor_previsto > 0 && Math.abs(f.valor_fixo + f.valor_variavel - f.valor_previsto) < 0.005, 'fixed and variable make the total');
  t.equal(f.co2e_kg, Math.round(f.consumo_previsto_kwh * 0.0385 * 1000) / 1000);
  t.equal(f.meta, null);

  t.same((await send(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 100 }, { token: TEST_OPERATOR_TOKEN })).json, { matricula: '13456789', meta: { kwh_mes: 100 } });
  t.same((await send(port, 'GET', '/previsao?matricula=13456789')).json.meta, { kwh_mes: 100, acima_da_meta: true }, 'on its way past 100 kWh');
  await send(port, 'PUT', '/clientes/13456789/meta', { valor_mes: '100000' }, { token: TEST_OPERATOR_TOKEN });
  t.same((await send(port, 'GET', '/previsao?matricula=13456789')).json.meta, { valor_mes: 100000, acima_da_meta: false });
  t.same((await send(port, 'GET', '/clientes/13456789')).json.meta, { valor_mes: 100000 }, 'the customer shows its goal');
  for (const bad of [{}, { kwh_mes: 100, valor_mes: 10 }, { kwh_mes: 0 }, { kwh_mes: -5 }, { valor_mes: '1.234' }, { kwh_mes: 'muito' }]) {
    t.equal((await send(port, 'PUT', '/clientes/13456789/meta', bad, { token: TEST_OPERATOR_TOKEN })).status, 422, JSON.stringify(bad));
  }
  t.same((await send(port, 'DELETE', '/clientes/13456789/meta', undefined, { token: TEST_OPERATOR_TOKEN })).json, { matricula: '13456789', meta: null });
  t.equal((await send(port, 'PATCH', '/clientes/13456789', { dia_leitura: 1 }, { token: TEST_OPERATOR_TOKEN })).status, 200);

  // The forecast record, as the job keeps it over time: a pass at each past cycle's middle, and after.
  t.same((await send(port, 'GET', '/previsao/precisao?matricula=13456789')).json, { matricula: '13456789', ciclos: [], mape: null }, 'nothing recorded yet');
  const job = server.analytics.forecastJob;
  const recorded = (m: string) => server.stores.forecasts.get('13456789', m);
  for (const back of [3, 2, 1]) {
    const cycle = cycleEndingIn(monthBefore(back), 1, 'UTC');
    const mid = cycle.start + Math.floor((cycle.end - cycle.start) / 2);
    await job.runOnce(mid - 60_000);
    t.equal(await recorded(monthBefore(back)), undefined, `${monthBefore(back)}: nothing recorded before mid-cycle`);
    await job.runOnce(mid + 60_000);
    const record = await recorded(monthBefore(back));
    t.same([record?.madeAt, record?.actual, record?.settledAt], [mid + 60_000, null, null], `${monthBefore(back)}: recorded just after mid-cycle, not settled while open`);
    t.ok(record !== undefined && record.measuredUpTo <= mid, 'from the readings stamped up to mid-cycle');
    await job.runOnce(mid + 3_600_000);
    t.same(await recorded(monthBefore(back)), record, 'a later pass does not replace it');
  }
  await job.runOnce(Date.now());
  const accuracy = (await send(port, 'GET', '/previsao/precisao?matricula=13456789&ciclos=3')).json;
  t.same(accuracy.ciclos.map((c: { mes: string; erro_percentual: number }) => [c.mes, c.erro_percentual]), [
    [monthBefore(1), 0],
    [monthBefore(2), 33.333],
    [monthBefore(3), 0],
  ], 'steady cycles forecast exactly; the one whose second half doubled: forecast 10/day x T, consumed 15/day x T, off by a third');
  const second = accuracy.ciclos[1];
  t.ok(Math.abs(second.erro_percentual - (100 * Math.abs(second.previsto_meio_ciclo_kwh - second.real_kwh)) / second.real_kwh) < 0.001, 'the error is |forecast - actual| / actual');
  t.ok(second.faixa_kwh.min <= second.previsto_meio_ciclo_kwh && second.previsto_meio_ciclo_kwh <= second.faixa_kwh.max);
  t.equal(accuracy.mape, 11.111, 'the mean of 0, 33.333 and 0');
  t.equal((await send(port, 'GET', '/previsao/precisao?matricula=13456789&ciclos=1')).json.ciclos.length, 1, 'the newest cycles, at most ciclos');
  const fleet = (await send(port, 'GET', '/previsao/precisao?ciclos=3&limite=1')).json;
  t.same([fleet.medidores[0].matricula, fleet.medidores[0].ciclos_avaliados, fleet.medidores[0].mape, fleet.ciclos_avaliados, fleet.mape], ['13456789', 3, 11.111, 3, 11.111]);
  t.equal(fleet.proxima, null, 'one meter with records: one page');

  // The open cycle, once it is over without a reading after it, is billed by the mean of past cycles: settled as not measured.
  if ((await recorded(month)) === undefined) await server.stores.forecasts.record({ matricula: '13456789', month, madeAt: now, measuredUpTo: now, projected: kwh(300), low: kwh(290), high: kwh(310), actual: null, error: null, settledAt: null });
  await job.runOnce(open.end + 5 * DAY_MS);
  const unmeasured = await recorded(month);
  t.same([unmeasured?.actual, unmeasured?.error, unmeasured?.settledAt], [null, null, open.end + 5 * DAY_MS], 'settled without an actual');
  const after = (await send(port, 'GET', '/previsao/precisao?matricula=13456789&ciclos=4')).json;
  t.same([after.ciclos[0].mes, after.ciclos[0].real_kwh, after.ciclos[0].erro_percentual, after.mape], [month, null, null, 11.111], 'listed, and left out of the MAPE');
});

t.test('without billing configured (issue 27 §4: /previsao answered 409): the forecast and goals in kWh work; the R$ figures are null and say why', async (t) => {
  const server = await startTestServer(t, { env: { TZ_LEGADO: 'UTC' } });
  const port = server.http.port;
  const now = Date.now();
  const open = cycleContaining(now, 1, 'UTC');
  // 10 kWh a day from 40 days back, one reading every 6 hours, and one a minute ago.
  const readings = [];
  let register = 1_000_000n;
  let last = open.start - 40 * DAY_MS;
  for (let at = last; at <= now - 3_600_000; at += DAY_MS / 4) {
    readings.push({ matricula: '13456789', timestamp: at, consumo: register });
    register += kwh(2.5);
    last = at;
  }
  const steps = Math.floor((now - 60_000 - last) / 8640);
  readings.push({ matricula: '13456789', timestamp: last + steps * 8640, consumo: register - kwh(2.5) + BigInt(steps) });
  await server.stores.store.append(readings);
  const f = (await send(port, 'GET', '/previsao?matricula=13456789')).json;
  const days = (open.end - open.start) / DAY_MS;
  t.ok(Math.abs(f.consumo_previsto_kwh - 10 * days) <= 0.01, `10 kWh a day for ${days} days (${f.consumo_previsto_kwh})`);
  t.same([f.valor_previsto, f.faixa_valor, f.valor_fixo, f.valor_variavel], [null, null, null, null]);
  t.equal(f.valores_indisponiveis.codigo, 'faturamento_nao_configurado');
  await send(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 100 }, { token: TEST_OPERATOR_TOKEN });
  t.same((await send(port, 'GET', '/previsao?matricula=13456789')).json.meta, { kwh_mes: 100, acima_da_meta: true }, 'a goal in kWh is judged without billing');
  await send(port, 'PUT', '/clientes/13456789/meta', { valor_mes: '100' }, { token: TEST_OPERATOR_TOKEN });
  t.same((await send(port, 'GET', '/previsao?matricula=13456789')).json.meta, { valor_mes: 100, acima_da_meta: null }, 'a goal in R$ cannot be: null, not a guess');
});

t.test('regression (issue 27 §4: a months-old cycle was shown as open): a meter not read since the open cycle began has no preview or forecast of it, and says so', async (t) => {
  const server = await billingReadyServer(t, { TZ_LEGADO: 'UTC' });
  const port = server.http.port;
  const open = cycleContaining(Date.now(), 1, 'UTC');
  // Read daily until three cycles back, then never again.
  const first = open.start - 100 * DAY_MS;
  await server.stores.store.append(Array.from({ length: 30 }, (_, i) => ({ matricula: '13456789', timestamp: first + i * DAY_MS, consumo: 1_000_000n + BigInt(i) * kwh(10) })));
  for (const route of ['/faturas/previa?matricula=13456789', '/previsao?matricula=13456789']) {
    const answer = await send(port, 'GET', route, undefined, { token: TEST_OPERATOR_TOKEN });
    t.equal(answer.status, 409, route);
    t.equal(answer.json.erro.codigo, 'medicoes_insuficientes');
    t.match(answer.json.erro.mensagem, `no ciclo aberto, desde ${open.startDay.split('-').reverse().join('/')}`, 'names the open cycle, and the newest reading');
  }
});
