/** `/gerar-fatura`: bills the period between a meter's two newest usable readings (validation's `pico` and `regressiva` left out). */
import type { Store } from '../../database/store.js';
import { recentUsableReadings } from '../../database/usable-readings.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { computeInvoice, INCONSISTENT, MONEY_SCALE, type Tariff } from '../domain/consumption.js';
import { HttpError } from '../http/http-error.js';
import type { ApiAccess } from '../api-access.js';
import type { Route } from '../router.js';
import { consumoJson, decimalJson } from './decimals.js';
import { matriculaFields, matriculaRoute } from './fields.js';

export function gerarFaturaRoute(store: Store, tariff: Tariff, access: ApiAccess): Route {
  return matriculaRoute('/gerar-fatura', matriculaFields, access, async ({ matricula }) => {
    const { readings, excluded } = await recentUsableReadings(store, matricula, 2);
    const [current, previous] = readings;
    if (current === undefined || previous === undefined) {
      if (readings.length + excluded >= 2) throw new HttpError('leituras_inconsistentes', `Medições recentes da matrícula ${matricula} foram sinalizadas pela validação (pico ou regressiva): não há 2 medições utilizáveis.`);
      throw new HttpError('medicoes_insuficientes', `A matrícula ${matricula} precisa de ao menos 2 medições para gerar fatura.`);
    }
    const invoice = computeInvoice(previous, current, tariff);
    if (invoice === INCONSISTENT) {
      throw new HttpError('leituras_inconsistentes', `O registro da matrícula ${matricula} diminuiu entre as duas últimas medições.`);
    }
    return {
      status: 200,
      body: {
        matricula,
        periodo: { inicio: formatIsoTimestamp(previous.timestamp), fim: formatIsoTimestamp(current.timestamp) },
        leitura_anterior: consumoJson(previous.consumo),
        leitura_atual: consumoJson(current.consumo),
        consumo: consumoJson(invoice.consumption),
        tarifa: decimalJson(tariff.units, tariff.scale),
        valor_pagamento: decimalJson(invoice.amountCents, MONEY_SCALE),
      },
    };
  });
}
