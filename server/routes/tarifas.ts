/**
 * `GET /tarifas?data=YYYY-MM-DD`: the approved tariffs in force on a day
 * (default: today in TZ_LEGADO), as imported from ANEEL's open data.
 * Public information: answered to anyone, tokens or not.
 */
import { z } from 'zod';
import type { TariffStore } from '../../database/tariff-store.js';
import { formatIsoTimestamp, ISO_DAY, zoneOffset } from '../../protocol/timestamp.js';
import { decimalJson } from '../../app/views/decimals.js';
import { PRICE_SCALE } from '../../domain/billing/money.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { withFields } from './fields.js';
import { subclassOf } from '../../domain/billing/tariff.js';

const schema = z.object({
  data: z
    .string()
    .refine((text) => ISO_DAY.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text), 'deve ser uma data AAAA-MM-DD')
    .meta({ format: 'date' })
    .optional(),
  distribuidora: z.string().min(1).max(100).optional(),
});

/** Today's date on the wall clock of `timeZone`. */
export function localToday(timeZone: string, now = Date.now()): string {
  return formatIsoTimestamp(now + zoneOffset(now, timeZone)).slice(0, 10);
}

export function tarifasRoute(tariffs: TariffStore, timeZone: string): Route {
  const handler = withFields(schema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
    const day = fields.data ?? localToday(timeZone);
    const wanted = fields.distribuidora?.toUpperCase();
    const list = (await tariffs.tariffsInForce(day)).filter((tariff) => wanted === undefined || tariff.distribuidora.toUpperCase() === wanted);
    return {
      status: 200,
      body: {
        data: day,
        unidade: 'R$/kWh sem tributos',
        tarifas: list.map((tariff) => ({
          distribuidora: tariff.distribuidora,
          modalidade: tariff.modalidade,
          posto: tariff.posto,
          subclasse: subclassOf(tariff),
          vigencia_inicio: tariff.vigenciaInicio,
          vigencia_fim: tariff.vigenciaFim,
          te: decimalJson(tariff.te, PRICE_SCALE),
          tusd: decimalJson(tariff.tusd, PRICE_SCALE),
          total: decimalJson(tariff.te + tariff.tusd, PRICE_SCALE),
          resolucao: tariff.resolucao,
        })),
      },
    };
  });
  return { path: '/tarifas', handlers: { GET: handler } };
}
