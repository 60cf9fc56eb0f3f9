/** `/gerar-fatura`: bills the period between a meter's two newest usable readings (validation's `pico` and `regressiva` left out). */
import type { Store } from '../../database/store.js';
import { recentUsableReadings } from '../../database/usable-readings.js';
import { formatIsoTimestamp, localMonth } from '../../protocol/timestamp.js';
import { co2eGrams } from '../../domain/co2e.js';
import type { EmissionFactors } from '../../app/emission-factors.js';
import { computeInvoice, INCONSISTENT, MONEY_SCALE, type Tariff } from '../../domain/readings/consumption.js';
import { HttpError } from '../http/http-error.js';
import type { ApiAccess } from '../http/api-access.js';
import type { Route } from '../http/router.js';
import { consumoJson, decimalJson } from '../../app/views/decimals.js';
import { matriculaFields, matriculaRoute } from './fields.js';

export function gerarFaturaRoute(store: Store, tariff: Tariff, factors: EmissionFactors, timeZone: string, access: ApiAccess): Route {
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
    const month = localMonth(current.timestamp, timeZone);
    const co2e = co2eGrams(invoice.consumption, (await factors.between(month, month))(month));
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
        co2e_kg: decimalJson(co2e, 3),
      },
    };
  });
}
