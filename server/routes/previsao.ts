/**
 * `GET /previsao`: the open cycle's consumption and invoice projected to its
 * end, with a range, CO2e and the customer's goal; `GET /previsao/precisao`:
 * how far the mid-cycle forecasts of the closed cycles were from what they
 * consumed (per meter, or the fleet's for the operator).
 */
import { z } from 'zod';
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../api-access.js';
import { meanError, type Forecast } from '../domain/forecast.js';
import { cycleMonth } from '../domain/billing/cycle.js';
import { ACCURACY_DEFAULT_CYCLES, ACCURACY_MAX_CYCLES, type CycleAccuracy, type Forecasting } from '../forecasting.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../router.js';
import { goalJson } from './clientes.js';
import { consumoJson, decimalJson } from './decimals.js';
import { authorizeMeterOrFleet, matriculaHandler, matriculaSchema, nextPageLink, positiveInteger, readFields } from './fields.js';

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

function accuracyJson(cycles: readonly CycleAccuracy[]) {
  return {
    ciclos: cycles.map((c) => ({ mes: c.month, previsto_meio_ciclo_kwh: consumoJson(c.projected), real_kwh: consumoJson(c.actual), erro_percentual: percent(c.error) })),
    mape: percent(meanError(cycles.map((c) => c.error))),
  };
}

export function previsaoRoutes(forecasting: Forecasting, store: Store, access: ApiAccess): Route[] {
  const forecast = matriculaHandler(z.object({ matricula: matriculaSchema }), access, async ({ matricula }) => {
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
        valor_previsto: money(made.total),
        faixa_valor: { min: money(made.totalLow), max: money(made.totalHigh) },
        valor_fixo: money(made.fixed),
        valor_variavel: money(made.total - made.fixed),
        co2e_kg: decimalJson(made.co2eGrams, 3),
        meta: made.goal === null ? null : { ...goalJson(made.goal.goal), acima_da_meta: made.goal.over },
      },
    };
  });
  const accuracySchema = z.object({ matricula: matriculaSchema.optional(), ciclos: positiveInteger(ACCURACY_MAX_CYCLES).optional(), pagina: positiveInteger(1_000_000).optional(), limite: positiveInteger(FLEET_ACCURACY_PAGE_MAX).optional(), access_token: z.string().optional() });
  const accuracy = async (input: RouteInput): Promise<Answer> => {
    const fields = readFields(input, accuracySchema);
    await authorizeMeterOrFleet(access, input, fields.matricula);
    const count = fields.ciclos ?? ACCURACY_DEFAULT_CYCLES;
    if (fields.matricula !== undefined) {
      return { status: 200, body: { matricula: fields.matricula, ...accuracyJson(await forecasting.accuracy(fields.matricula, count)) } };
    }
    const page = fields.pagina ?? 1;
    const limit = fields.limite ?? FLEET_ACCURACY_PAGE_DEFAULT;
    const customers = await store.findCustomers({ offset: (page - 1) * limit, limit: limit + 1 });
    const meters = [];
    const every: CycleAccuracy[] = [];
    for (const customer of customers.slice(0, limit)) {
      if (input.signal?.aborted === true) break;
      let cycles: CycleAccuracy[];
      try {
        cycles = await forecasting.accuracy(customer.matricula, count);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        cycles = [];
      }
      every.push(...cycles);
      meters.push({ matricula: customer.matricula, ciclos_avaliados: cycles.length, mape: percent(meanError(cycles.map((c) => c.error))) });
    }
    return {
      status: 200,
      body: { medidores: meters, ciclos_avaliados: every.length, mape: percent(meanError(every.map((c) => c.error))), pagina: page, limite: limit, proxima: customers.length > limit ? nextPageLink('/previsao/precisao', input, page) : null },
    };
  };
  return [
    { path: '/previsao', handlers: { GET: forecast }, traits: { heavy: true } },
    { path: '/previsao/precisao', handlers: { GET: accuracy }, traits: { heavy: true } },
  ];
}
