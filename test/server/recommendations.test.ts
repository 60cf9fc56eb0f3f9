/** Recommendations end to end, from a meter's night-time readings (the rules: test/domain/recommendations.test.ts). */
import t from 'tap';
import { startTestServer } from '../helpers.js';
import { send } from './billing-fixtures.js';


t.test('/recomendacoes finds a 300 W night-time baseload in a meter\'s readings', async (t) => {
  const server = await startTestServer(t, { env: { TZ_LEGADO: 'UTC' } });
  const now = Date.now();
  const readings = [];
  let register = 1_000_000n;
  // Every 15 minutes for 15 days: 0.3 kW at night (00:00-06:00 UTC), 1.2 kW by day.
  for (let at = Math.floor((now - 15 * 86_400_000) / 900_000) * 900_000; at < now - 60_000; at += 900_000) {
    readings.push({ matricula: '13456789', timestamp: at, consumo: register });
    register += new Date(at).getUTCHours() < 6 ? 75n : 300n;
  }
  await server.stores.store.append(readings);
  const answer = await send(server.http.port, 'GET', '/recomendacoes?matricula=13456789');
  t.equal(answer.status, 200, JSON.stringify(answer.json));
  const night = answer.json.recomendacoes.find((r: { codigo: string }) => r.codigo === 'consumo_base_noturno');
  t.same([night?.evidencias.potencia_base_w, night?.economia_mensal_kwh], [300, 109.5]);
  t.ok(night?.evidencias.noites_observadas >= 13);
});
