/**
 * `GET /previsao`: the open cycle's consumption and invoice projected to its
 * end, with a range, CO2e and the customer's goal; `GET /previsao/precisao`:
 * how far the forecasts recorded at mid-cycle were from what the closed
 * cycles consumed (per meter, or the fleet's for the operator).
 */
import { z } from 'zod';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import { meanError, meanOfSum, type Forecast } from '../../domain/forecast.js';
import { cycleMonth } from '../../domain/billing/cycle.js';
import { ACCURACY_DEFAULT_CYCLES, ACCURACY_MAX_CYCLES, calendarMonth, monthsBefore, type Forecasting } from '../../app/forecast/forecasting.js';
import type { AccuracySummary, ForecastRecord } from '../../database/forecast-record-store.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import type { MeterAnswers } from '../http/result-cache.js';
import { goalJson } from './clientes.js';
import { consumoJson, decimalJson } from '../../app/views/decimals.js';
import { authorizeMeterOrFleet, matriculaHandler, matriculaSchema, nextPageLink, positiveInteger, withFields } from './fields.js';

export const FLEET_ACCURACY_PAGE_DEFAULT = 20;
export const FLEET_ACCURACY_PAGE_MAX = 100;
const money = (cents: bigint) => decimalJson(cents, 2);
/** A percentage held in thousandths of a percent, as an exact number with 3 places. */
const percent = (thousandths: bigint | null) => (thousandths === null ? null : decimalJson(thousandths, 3));

function forecastJson(forecast: Forecast) {
  return {
    metodo: forecast.method,
    consumo_previsto_kwh: consumoJson(forecast.consumption),
    faixa_kwh: { min: consumoJson(forecast.low), max: consumoJson(forecast.high) },
    taxa_ciclo_kwh_dia: consumoJson(forecast.ownRatePerDay),
    taxa_ano_anterior_kwh_dia: forecast.lastYearRatePerDay === null ? null : consumoJson(forecast.lastYearRatePerDay),
    peso_taxa_ciclo: decimalJson(forecast.ownWeight, 3),
  };
}

function recordJson(record: ForecastRecord) {
  return {
    mes: record.month,
    previsto_em: formatIsoTimestamp(record.madeAt),
    medido_ate: formatIsoTimestamp(record.measuredUpTo),
    previsto_meio_ciclo_kwh: consumoJson(record.projected),
    faixa_kwh: { min: consumoJson(record.low), max: consumoJson(record.high) },
    real_kwh: record.actual === null ? null : consumoJson(record.actual),
    erro_percentual: percent(record.error),
  };
}

const mapeOf = (summary: AccuracySummary) => percent(meanOfSum(summary.errorSum, summary.errorCount));

export function previsaoRoutes(forecasting: Forecasting, access: ApiAccess, answers?: MeterAnswers<Answer>): Route[] {
  // Kept until the meter's newest reading or the rules change (result-cache.ts): the same question twice costs once.
  const forecast = matriculaHandler(z.object({ matricula: matriculaSchema }), access, ({ matricula }) => (answers === undefined ? forecastOf(matricula) : answers.get('previsao', matricula, () => forecastOf(matricula))));
  const forecastOf = async (matricula: string): Promise<Answer> => {
    const made = await forecasting.forecast(matricula);
    const { bill } = made;
    return {
      status: 200,
      body: {
        matricula,
        ciclo: { mes: cycleMonth(bill.cycle), inicio: formatIsoTimestamp(bill.cycle.start), fim: formatIsoTimestamp(bill.cycle.end) },
        medido_ate: formatIsoTimestamp(bill.end.timestamp),
        consumo_ate_agora_kwh: consumoJson(bill.end.register - bill.start.register),
        ...forecastJson(made.forecast),
        // The R$ figures need billing configured; the kWh ones never do.
        valor_previsto: made.total === null ? null : money(made.total),
        faixa_valor: made.totalLow === null || made.totalHigh === null ? null : { min: money(made.totalLow), max: money(made.totalHigh) },
        valor_fixo: made.fixed === null ? null : money(made.fixed),
        valor_variavel: made.total === null || made.fixed === null ? null : money(made.total - made.fixed),
        valores_indisponiveis: made.unpriced === null ? null : { codigo: made.unpriced.code, mensagem: made.unpriced.message },
        co2e_kg: decimalJson(made.co2eGrams, 3),
        meta: made.goal === null ? null : { ...goalJson(made.goal.goal), acima_da_meta: made.goal.over },
      },
    };
  };
  const accuracySchema = z.object({ matricula: matriculaSchema.optional(), ciclos: positiveInteger(ACCURACY_MAX_CYCLES).optional(), pagina: positiveInteger(1_000_000).optional(), limite: positiveInteger(FLEET_ACCURACY_PAGE_MAX).optional(), access_token: z.string().optional() });
  const accuracy = withFields(accuracySchema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
    await authorizeMeterOrFleet(access, input, fields.matricula);
    const count = fields.ciclos ?? ACCURACY_DEFAULT_CYCLES;
    if (fields.matricula !== undefined) {
      const records = await forecasting.records.settled(fields.matricula, count);
      return { status: 200, body: { matricula: fields.matricula, ciclos: records.map(recordJson), mape: percent(meanError(records.map((r) => r.error))) } };
    }
    const page = fields.pagina ?? 1;
    const limit = fields.limite ?? FLEET_ACCURACY_PAGE_DEFAULT;
    const fromMonth = monthsBefore(calendarMonth(Date.now(), forecasting.timeZone), count);
    const { meters, total } = await forecasting.records.summary(fromMonth, (page - 1) * limit, limit + 1);
    return {
      status: 200,
      body: {
        desde: fromMonth,
        medidores: meters.slice(0, limit).map((m) => ({ matricula: m.matricula, ciclos_avaliados: m.errorCount, mape: mapeOf(m) })),
        ciclos_avaliados: total.errorCount,
        mape: mapeOf(total),
        pagina: page,
        limite: limit,
        proxima: meters.length > limit ? nextPageLink('/previsao/precisao', input, page) : null,
      },
    };
  });
  return [
    { path: '/previsao', handlers: { GET: forecast }, traits: { heavy: true } },
    { path: '/previsao/precisao', handlers: { GET: accuracy } },
  ];
}
