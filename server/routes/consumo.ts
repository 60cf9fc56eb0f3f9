/**
 * `GET /consumo`: a meter's consumption per hour, day or month of a time
 * zone, from register differences; periods without readings are gaps. Each
 * period's `valor` is an estimate by the billing rules when billing is
 * configured (domain/billing/estimate.ts: tariff in force, bandeira,
 * taxes), else at the flat TARIFA; `precificacao` says which.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import type { Store } from '../../database/store.js';
import { DAY_MS, formatIsoTimestamp, localDay, localMonth } from '../../protocol/timestamp.js';
import { co2eGrams, co2eOfPeriods } from '../../domain/co2e.js';
import type { EmissionFactors } from '../../app/emission-factors.js';
import { usable } from '../../database/usable-readings.js';
import type { ApiAccess } from '../http/api-access.js';
import { boundariesOf, certainlyTooManyPeriods, PeriodAccumulator, periodStart, PERIOD_UNITS, type PeriodConsumption, type PeriodUnit } from '../../domain/readings/periods.js';
import { periodsOfRollups, rollupsFor } from '../../domain/readings/rollups.js';
import { stringifyJson } from '../../protocol/json.js';
import { ClientGoneError, type HttpError } from '../http/http-error.js';
import type { Route } from '../http/router.js';
import { consumoJson, decimalJson } from '../../app/views/decimals.js';
import { costCents, MONEY_SCALE, type Tariff } from '../../domain/readings/consumption.js';
import { estimateCents, unitPriceOn } from '../../domain/billing/estimate.js';
import { PRICE_SCALE } from '../../domain/billing/money.js';
import type { PriceEstimates } from '../../app/billing/price-estimates.js';
import { invalidField, matriculaHandler, matriculaSchema } from './fields.js';
import { queryInstant, rangeFields } from './medicoes.js';

/** Most periods one answer holds (a year of hours). */
export const MAX_PERIODS = 9000;
/** The range asked for when none is given, by unit: the last day of hours, month of days, year of months. */
const DEFAULT_SPAN_MS: Readonly<Record<PeriodUnit, number>> = { hora: DAY_MS, dia: 30 * DAY_MS, mes: 365 * DAY_MS };

const consumoSchema = z.object({
  matricula: matriculaSchema,
  ...rangeFields,
  agrupar: z.enum(PERIOD_UNITS as [PeriodUnit, ...PeriodUnit[]], { error: 'deve ser hora, dia ou mes' }).optional(),
});

/** Work done between two turns of the event loop (boundaries, periods serialized): a few milliseconds at most. */
const SLICE = 500;
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const co2eOf = (grams: bigint | undefined) => (grams === undefined ? null : decimalJson(grams, 3));

/**
 * A meter's consumption per period. Periods of local days of the store's
 * day zone (TZ_LEGADO) come from the daily rollups, other periods of whole
 * UTC hours (every zone of Brazil's) from the hourly ones: the cost follows
 * the periods, not the readings under them; others (a zone with a
 * half-hour offset) from the readings. Readings validation made unusable (pico, regressiva) count
 * in neither: a forged spike makes no period.
 */
async function consumptionPerPeriod(store: Store, matricula: string, boundaries: readonly number[], previousStart: number, pause: () => Promise<void>): Promise<PeriodConsumption[]> {
  const to = boundaries[boundaries.length - 1] as number;
  const rollups = rollupsFor([previousStart, ...boundaries], store.dayZone);
  if (rollups !== undefined) return periodsOfRollups(boundaries, previousStart, await (rollups === 'dia' ? store.daily : store.hourly).call(store, { matricula, from: previousStart, to }));
  const accumulator = new PeriodAccumulator(boundaries, previousStart);
  await pause();
  for await (const batch of store.history({ matricula, from: previousStart, to })) {
    accumulator.add(batch.filter(usable));
    await pause();
  }
  return accumulator.periods();
}

export function consumoRoute(store: Store, defaultTimeZone: string, tariff: Tariff, factors: EmissionFactors, access: ApiAccess, prices?: PriceEstimates): Route {
  const handler = matriculaHandler(consumoSchema, access, async (fields, input) => {
    const unit = fields.agrupar ?? 'dia';
    const timeZone = fields.fuso ?? defaultTimeZone;
    const to = queryInstant('fim', fields.fim, timeZone, Date.now());
    const from = queryInstant('inicio', fields.inicio, timeZone, to - DEFAULT_SPAN_MS[unit]);
    if (from >= to) throw invalidField('fim', 'deve ser depois de inicio');
    const tooMany = (): HttpError => invalidField('inicio', `o intervalo passa de ${MAX_PERIODS} períodos; encurte-o ou agrupe por período maior`);
    if (certainlyTooManyPeriods(from, to, unit, MAX_PERIODS)) throw tooMany();
    // Between slices of work the event loop runs: datagrams and other requests never wait long behind this one,
    // and work for a client that left stops.
    const pause = async (): Promise<void> => {
      await yieldToEventLoop();
      if (input.signal?.aborted === true) throw new ClientGoneError();
    };
    const boundaries: number[] = [];
    for (const boundary of boundariesOf(from, to, unit, timeZone)) {
      boundaries.push(boundary);
      if (boundaries.length > MAX_PERIODS + 1) throw tooMany();
      if (boundaries.length % SLICE === 0) await pause();
    }
    const previousStart = periodStart((boundaries[0] as number) - 1, unit, timeZone);
    const periods = await consumptionPerPeriod(store, fields.matricula, boundaries, previousStart, pause);
    const firstMonth = localMonth(boundaries[0] as number, timeZone);
    const factorOf = await factors.between(firstMonth, localMonth((boundaries[boundaries.length - 1] as number) - 1, timeZone));
    // Each period at the factor of the month it starts in (a period never spans two months).
    const co2e = periods.map((period) => (period.consumption === undefined ? undefined : co2eGrams(period.consumption, factorOf(localMonth(period.start, timeZone)))));
    let total = 0n;
    let gaps = 0;
    for (const period of periods) {
      total += period.consumption ?? 0n;
      if (period.readings === 0) gaps++;
    }
    // Priced by the billing rules when they are configured (an estimate: fixed items aside), else at the flat TARIFA.
    const billingZone = prices?.timeZone ?? timeZone;
    const lastInstant = (boundaries[boundaries.length - 1] as number) - 1;
    const pricing = prices === undefined ? undefined : await prices.rulesFor(fields.matricula, localDay(boundaries[0] as number, billingZone), localDay(lastInstant, billingZone));
    const valueOf = (period: { start: number; end: number; consumption: bigint | undefined }): bigint | undefined =>
      period.consumption === undefined ? undefined : pricing === undefined ? costCents(period.consumption, tariff) : estimateCents({ start: period.start, end: period.end, day: localDay(period.start, billingZone), consumption: period.consumption }, pricing);
    const values = periods.map(valueOf);
    const totalValue = values.reduce<bigint>((sum, value) => sum + (value ?? 0n), 0n);
    const unitPrice = pricing === undefined ? undefined : unitPriceOn(localDay(lastInstant, billingZone), pricing);
    const totalCo2e = co2eOfPeriods(periods.map((period) => ({ month: localMonth(period.start, timeZone), consumption: period.consumption })), factorOf);
    // The body is written a slice of periods at a time (a year of hours is ~1 MB of JSON).
    const head = stringifyJson({
      matricula: fields.matricula,
      agrupar: unit,
      fuso: timeZone,
      inicio: formatIsoTimestamp(boundaries[0] as number),
      fim: formatIsoTimestamp(boundaries[boundaries.length - 1] as number),
      consumo_total: consumoJson(total),
      tarifa: pricing === undefined ? decimalJson(tariff.units, tariff.scale) : unitPrice === undefined ? null : decimalJson(unitPrice, PRICE_SCALE),
      valor_total: decimalJson(pricing === undefined ? costCents(total, tariff) : totalValue, MONEY_SCALE),
      precificacao:
        pricing === undefined
          ? { origem: 'tarifa_fixa', estimativa: false, faturamento_configurado: prices === undefined ? false : await prices.configured() }
          : { origem: 'faturamento', estimativa: true, distribuidora: pricing.distributor, modalidade: pricing.modality, inclui: ['energia', 'bandeira', 'tributos'], faturamento_configurado: true },
      co2e_kg: decimalJson(totalCo2e, 3),
      lacunas: gaps,
    });
    const pieces: string[] = [`${head.slice(0, -1)},"periodos":[`];
    for (let start = 0; start < periods.length; start += SLICE) {
      if (start > 0) {
        pieces.push(',');
        await pause();
      }
      pieces.push(
        periods
          .slice(start, start + SLICE)
          .map((period, index) =>
            stringifyJson({
              inicio: formatIsoTimestamp(period.start),
              fim: formatIsoTimestamp(period.end),
              leituras: period.readings,
              consumo: period.consumption === undefined ? null : consumoJson(period.consumption),
              valor: values[start + index] === undefined ? null : decimalJson(values[start + index] as bigint, MONEY_SCALE),
              co2e_kg: co2eOf(co2e[start + index]),
              completo: period.complete,
            }),
          )
          .join(','),
      );
    }
    pieces.push(']}');
    return { status: 200, text: pieces.join(''), contentType: JSON_CONTENT_TYPE };
  });
  return { path: '/consumo', handlers: { GET: handler }, traits: { heavy: true } };
}
