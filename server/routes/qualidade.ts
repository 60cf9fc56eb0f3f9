/**
 * `GET /qualidade`: data quality per local day for one meter
 * (`matricula=`), or the fleet view for the operator (no matricula): each
 * registered customer's meter over the range, a page of meters at a time,
 * and the page's totals. From the stored readings and their validation
 * flags (domain/readings/data-quality.ts).
 */
import { z } from 'zod';
import { QUALITY_FLAGS } from '../../domain/readings/quality.js';
import type { Store } from '../../database/store.js';
import { DAY_MS, formatIsoTimestamp, isValidTimeZone } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import { QualityAccumulator, completeness, type DayQuality, type FlagCounts, type QualityReport } from '../../domain/readings/data-quality.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { decimalJson } from '../../app/views/decimals.js';
import { authorizeMeterOrFleet, invalidField, matriculaSchema, nextPageLink, positiveInteger, withFields } from './fields.js';
import { queryInstant } from './medicoes.js';

/** The range when none is given: the last 7 days. */
export const QUALITY_DEFAULT_DAYS = 7;
/** The longest range one answer covers. */
export const QUALITY_MAX_DAYS = 92;
export const FLEET_QUALITY_PAGE_DEFAULT = 20;
export const FLEET_QUALITY_PAGE_MAX = 100;

const qualitySchema = z.object({
  matricula: matriculaSchema.optional(),
  inicio: z.string().optional(),
  fim: z.string().optional(),
  fuso: z.string().refine(isValidTimeZone, 'deve ser um fuso IANA, como America/Sao_Paulo ou UTC').optional(),
  pagina: positiveInteger(1_000_000).optional(),
  limite: positiveInteger(FLEET_QUALITY_PAGE_MAX).optional(),
  access_token: z.string().optional(),
});

const flagsJson = (flags: FlagCounts) => Object.fromEntries(QUALITY_FLAGS.map((flag) => [flag, flags[flag]]));
const completenessJson = (value: number | null) => (value === null ? null : decimalJson(BigInt(value), 3));

function figuresJson(figures: Omit<DayQuality, 'day'>) {
  return { recebidas: figures.received, esperadas: figures.expected, completude: completenessJson(figures.completeness), validas: figures.valid, sinalizadas: flagsJson(figures.flags) };
}

function reportJson(report: QualityReport) {
  return { intervalo_tipico_s: report.typicalIntervalS, dias: report.days.map((day) => ({ dia: day.day, ...figuresJson(day) })), total: figuresJson(report.total) };
}

export function qualidadeRoute(store: Store, defaultTimeZone: string, access: ApiAccess): Route {
  const meterReport = async (matricula: string, from: number, to: number, timeZone: string): Promise<QualityReport> => {
    const accumulator = new QualityAccumulator(from, to, timeZone);
    for await (const batch of store.history({ matricula, from, to })) accumulator.add(batch);
    return accumulator.report();
  };
  const handler = withFields(qualitySchema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
    await authorizeMeterOrFleet(access, input, fields.matricula);
    const timeZone = fields.fuso ?? defaultTimeZone;
    const to = queryInstant('fim', fields.fim, timeZone, Date.now());
    const from = queryInstant('inicio', fields.inicio, timeZone, to - QUALITY_DEFAULT_DAYS * DAY_MS);
    if (from >= to) throw invalidField('fim', 'deve ser depois de inicio');
    if (to - from > QUALITY_MAX_DAYS * DAY_MS) throw invalidField('inicio', `o intervalo passa de ${QUALITY_MAX_DAYS} dias`);
    const range = { inicio: formatIsoTimestamp(from), fim: formatIsoTimestamp(to), fuso: timeZone };
    if (fields.matricula !== undefined) {
      return { status: 200, body: { matricula: fields.matricula, ...range, ...reportJson(await meterReport(fields.matricula, from, to, timeZone)) } };
    }
    const page = fields.pagina ?? 1;
    const limit = fields.limite ?? FLEET_QUALITY_PAGE_DEFAULT;
    const customers = await store.findCustomers({ offset: (page - 1) * limit, limit: limit + 1 });
    const meters = [];
    const totals = { received: 0, expected: 0 as number | null, valid: 0, flags: Object.fromEntries(QUALITY_FLAGS.map((flag) => [flag, 0])) as FlagCounts };
    for (const customer of customers.slice(0, limit)) {
      if (input.signal?.aborted === true) break;
      const { total, typicalIntervalS } = await meterReport(customer.matricula, from, to, timeZone);
      meters.push({ matricula: customer.matricula, username: customer.username, intervalo_tipico_s: typicalIntervalS, ...figuresJson(total) });
      totals.received += total.received;
      totals.valid += total.valid;
      if (total.expected !== null && totals.expected !== null) totals.expected += total.expected;
      for (const flag of QUALITY_FLAGS) totals.flags[flag] += total.flags[flag];
    }
    return {
      status: 200,
      body: {
        ...range,
        medidores: meters,
        total: figuresJson({ ...totals, completeness: completeness(totals.received, totals.expected) }),
        pagina: page,
        limite: limit,
        proxima: customers.length > limit ? nextPageLink('/qualidade', input, page) : null,
      },
    };
  });
  return { path: '/qualidade', handlers: { GET: handler }, traits: { heavy: true } };
}
