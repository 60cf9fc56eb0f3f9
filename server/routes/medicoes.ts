/**
 * `GET /medicoes`: a meter's readings in a time range, newest first, a page
 * at a time as JSON, or the whole range streamed as CSV (`formato=csv` or
 * `Accept: text/csv`) without holding it in memory.
 */
import { READINGS_CSV_HEADER } from '../../protocol/readings-csv.js';
import { z } from 'zod';
import type { Store, StoredReading } from '../../database/store.js';
import { formatDecimal, formatRegister } from '../../protocol/decimal.js';
import { QUANTITIES, QUANTITY_SCALE } from '../../protocol/quantities.js';
import { formatIsoTimestamp, isValidTimeZone, parseQueryTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { consumoJson, qualityJson, readingDetailsJson } from '../../app/views/decimals.js';
import { invalidField, matriculaHandler, matriculaSchema, positiveInteger } from './fields.js';

export const DEFAULT_HISTORY_PAGE = 100;
export const MAX_HISTORY_PAGE = 1000;
/** Latest instant a range may name (exclusive): the last that formats with a four-digit year. */
export const END_OF_TIME = 253_402_300_799_999;
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
/** Quantities are empty cells when the reading has none; `qualidade` is `valida` or its flags joined by `+`. */
export const CSV_HEADER = `${READINGS_CSV_HEADER}\r\n`;

/** `inicio`, `fim` and `fuso`: the fields of a time range, shared with `/consumo`. */
export const rangeFields = {
  inicio: z.string().optional(),
  fim: z.string().optional(),
  fuso: z.string().refine(isValidTimeZone, 'deve ser um fuso IANA, como America/Sao_Paulo ou UTC').optional(),
};

const historySchema = z.object({
  matricula: matriculaSchema,
  ...rangeFields,
  limite: positiveInteger(Number.MAX_SAFE_INTEGER).optional(),
  formato: z.enum(['json', 'csv'], { error: 'deve ser json ou csv' }).optional(),
});

/** An instant typed in a query, or 422 naming the field. */
export function queryInstant(field: string, text: string | undefined, timeZone: string, fallback: number): number {
  if (text === undefined) return fallback;
  const instant = parseQueryTimestamp(text, timeZone);
  if (instant === undefined || instant > END_OF_TIME) {
    throw invalidField(field, 'deve ser uma data (2026-11-20), data e hora (2026-11-20T10:00) ou instante ISO 8601 (2026-11-20T13:00:00Z)');
  }
  return instant;
}

export function wantsCsv(formato: string | undefined, input: RouteInput): boolean {
  if (formato !== undefined) return formato === 'csv';
  const accept = input.request.head.headers.get('accept');
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    return type === 'text/csv' && !parameters.some((parameter) => /^q=0(\.0*)?$/.test(parameter));
  });
}

export function csvLine(reading: StoredReading): string {
  let line = `${formatIsoTimestamp(reading.timestamp)},${reading.matricula},${formatRegister(reading.consumo)}`;
  const quantities = reading.quantities;
  for (const spec of QUANTITIES) {
    const value = quantities?.[spec.name];
    line += value === undefined ? ',' : `,${formatDecimal(BigInt(value), QUANTITY_SCALE)}`;
  }
  return `${line},${qualityJson(reading.quality).join('+')}\r\n`;
}

export function medicoesRoute(store: Store, defaultTimeZone: string, access: ApiAccess): Route {
  const handler = matriculaHandler(historySchema, access, async (fields, input): Promise<Answer> => {
    const timeZone = fields.fuso ?? defaultTimeZone;
    const from = queryInstant('inicio', fields.inicio, timeZone, 0);
    const to = queryInstant('fim', fields.fim, timeZone, END_OF_TIME);
    const csv = wantsCsv(fields.formato, input);
    if (!csv && fields.limite !== undefined && fields.limite > MAX_HISTORY_PAGE) throw invalidField('limite', `deve ser no máximo ${MAX_HISTORY_PAGE}`);
    const limit = fields.limite ?? (csv ? Number.POSITIVE_INFINITY : DEFAULT_HISTORY_PAGE);
    const batches = store.history({ matricula: fields.matricula, from, to })[Symbol.asyncIterator]();
    // The first batch is read before answering: a store that fails answers 503, not a cut-off 200.
    const first = await batches.next();
    if (csv) {
      return {
        status: 200,
        contentType: CSV_CONTENT_TYPE,
        headers: [['Content-Disposition', `attachment; filename="medicoes-${fields.matricula}.csv"`]],
        stream: (signal) => csvRows(first, batches, limit, signal),
      };
    }
    const page: StoredReading[] = [];
    let more = false;
    for (let step = first; step.done !== true; step = await batches.next()) {
      for (const reading of step.value) {
        if (page.length === limit) {
          more = true;
          break;
        }
        page.push(reading);
      }
      if (more) break;
    }
    await batches.return?.();
    const oldest = page[page.length - 1];
    const next = new URLSearchParams(input.request.head.query);
    if (oldest !== undefined) next.set('fim', formatIsoTimestamp(oldest.timestamp));
    return {
      status: 200,
      body: {
        matricula: fields.matricula,
        inicio: formatIsoTimestamp(from),
        fim: formatIsoTimestamp(to),
        limite: limit,
        medicoes: page.map((reading) => ({ data_hora: formatIsoTimestamp(reading.timestamp), consumo: consumoJson(reading.consumo), ...readingDetailsJson(reading) })),
        // Keyset pagination: the next page ends where this one's oldest reading starts (`fim` is exclusive).
        proxima: more ? `/medicoes?${next.toString()}` : null,
      },
    };
  });
  return { path: '/medicoes', handlers: { GET: handler }, traits: { heavy: true } };
}

async function* csvRows(first: IteratorResult<StoredReading[]>, batches: AsyncIterator<StoredReading[]>, limit: number, signal: AbortSignal): AsyncGenerator<string> {
  try {
    yield CSV_HEADER;
    let left = limit;
    for (let step = first; step.done !== true && left > 0 && !signal.aborted; step = await batches.next()) {
      const rows = step.value.length > left ? step.value.slice(0, left) : step.value;
      left -= rows.length;
      yield rows.map(csvLine).join('');
    }
  } finally {
    await batches.return?.();
  }
}
