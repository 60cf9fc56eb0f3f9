/**
 * `GET /consumo`: a meter's consumption per hour, day or month of a time
 * zone, from register differences; periods without readings are gaps.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../api-access.js';
import { PeriodAccumulator, periodBoundaries, periodStart, PERIOD_UNITS, type PeriodUnit } from '../consumption-periods.js';
import type { Route } from '../router.js';
import { consumoJson } from './decimals.js';
import { invalidField, matriculaHandler, matriculaSchema } from './fields.js';
import { queryInstant, rangeFields } from './medicoes.js';

/** Most periods one answer holds (a year of hours). */
export const MAX_PERIODS = 9000;
/** The range asked for when none is given, by unit: the last day of hours, month of days, year of months. */
const DEFAULT_SPAN_MS: Readonly<Record<PeriodUnit, number>> = { hora: 86_400_000, dia: 30 * 86_400_000, mes: 365 * 86_400_000 };

const consumoSchema = z.object({
  matricula: matriculaSchema,
  ...rangeFields,
  agrupar: z.enum(PERIOD_UNITS as [PeriodUnit, ...PeriodUnit[]], { error: 'deve ser hora, dia ou mes' }).optional(),
});

export function consumoRoute(store: Store, defaultTimeZone: string, access: ApiAccess): Route {
  const handler = matriculaHandler(consumoSchema, access, async (fields) => {
    const unit = fields.agrupar ?? 'dia';
    const timeZone = fields.fuso ?? defaultTimeZone;
    const to = queryInstant('fim', fields.fim, timeZone, Date.now());
    const from = queryInstant('inicio', fields.inicio, timeZone, to - DEFAULT_SPAN_MS[unit]);
    if (from >= to) throw invalidField('fim', 'deve ser depois de inicio');
    const boundaries = periodBoundaries(from, to, unit, timeZone, MAX_PERIODS);
    if (boundaries === undefined) throw invalidField('inicio', `o intervalo passa de ${MAX_PERIODS} períodos; encurte-o ou agrupe por período maior`);
    const accumulator = new PeriodAccumulator(boundaries, periodStart((boundaries[0] as number) - 1, unit, timeZone));
    // Between pieces of work the event loop runs: datagrams and other requests are never held behind this one.
    await yieldToEventLoop();
    for await (const batch of store.history({ matricula: fields.matricula, ...accumulator.range })) {
      accumulator.add(batch);
      await yieldToEventLoop();
    }
    const periods = accumulator.periods();
    let total = 0n;
    for (const period of periods) total += period.consumption ?? 0n;
    return {
      status: 200,
      body: {
        matricula: fields.matricula,
        agrupar: unit,
        fuso: timeZone,
        inicio: formatIsoTimestamp(boundaries[0] as number),
        fim: formatIsoTimestamp(boundaries[boundaries.length - 1] as number),
        consumo_total: consumoJson(total),
        lacunas: periods.filter((period) => period.readings === 0).length,
        periodos: periods.map((period) => ({
          inicio: formatIsoTimestamp(period.start),
          fim: formatIsoTimestamp(period.end),
          leituras: period.readings,
          consumo: period.consumption === undefined ? null : consumoJson(period.consumption),
          completo: period.complete,
        })),
      },
    };
  });
  return { path: '/consumo', handlers: { GET: handler }, traits: { heavy: true } };
}
