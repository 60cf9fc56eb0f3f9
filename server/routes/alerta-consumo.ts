/** `/alerta-consumo`: does the last period consume at least 1.5x the mean of the three before it? (Between usable readings: a flagged one drives no alert.) */
import type { Store } from '../../database/store.js';
import { recentUsableReadings } from '../../database/usable-readings.js';
import { ALERT_READINGS, computeAlert, INCONSISTENT } from '../../domain/readings/consumption.js';
import { HttpError } from '../http/http-error.js';
import type { ApiAccess } from '../http/api-access.js';
import type { Route } from '../http/router.js';
import { consumoJson } from '../../app/views/decimals.js';
import { matriculaFields, matriculaRoute } from './fields.js';

export function alertaConsumoRoute(store: Store, access: ApiAccess): Route {
  return matriculaRoute('/alerta-consumo', matriculaFields, access, async ({ matricula }) => {
    const { readings: newestFirst, excluded } = await recentUsableReadings(store, matricula, ALERT_READINGS);
    if (newestFirst.length < ALERT_READINGS) {
      if (newestFirst.length + excluded >= ALERT_READINGS) throw new HttpError('leituras_inconsistentes', `Medições recentes da matrícula ${matricula} foram sinalizadas pela validação (pico ou regressiva): não há ${ALERT_READINGS} medições utilizáveis.`);
      throw new HttpError('medicoes_insuficientes', `A matrícula ${matricula} precisa de ao menos ${ALERT_READINGS} medições para o alerta.`);
    }
    const alert = computeAlert(newestFirst.reverse());
    if (alert === INCONSISTENT) {
      throw new HttpError('leituras_inconsistentes', `O registro da matrícula ${matricula} diminuiu entre medições recentes.`);
    }
    return {
      status: 200,
      body: {
        matricula,
        alerta: alert.alert,
        consumo_ultimo_periodo: consumoJson(alert.periods[alert.periods.length - 1] as bigint),
        media_periodos_anteriores: consumoJson(alert.baselineMean),
        limite: consumoJson(alert.threshold),
        excesso_consumo: consumoJson(alert.excess),
        periodos: alert.periods.map(consumoJson),
      },
    };
  });
}
