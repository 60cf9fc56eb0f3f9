/**
 * `GET /ocorrencias`: events meters reported (issue 16), newest first, by
 * meter, type and time range, a page at a time as JSON or the whole range
 * as CSV (`formato=csv` or `Accept: text/csv`), as `/medicoes`. A customer
 * sees only its own meter's; the operator any, or all.
 */
import { z } from 'zod';
import { csvText } from '../../protocol/csv.js';
import type { EventStore, MeterEvent } from '../../database/event-store.js';
import { EVENT_TYPES } from '../../protocol/meter-commands.js';
import { formatIsoTimestamp, isValidTimeZone } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { authorizeMeterOrFleet, matriculaSchema, nextPageLink, positiveInteger, withFields } from './fields.js';
import { CSV_CONTENT_TYPE, END_OF_TIME, queryInstant, wantsCsv } from './medicoes.js';

export const EVENTS_PAGE_DEFAULT = 50;
export const EVENTS_PAGE_MAX = 1000;
const CSV_BATCH = 1000;
export const EVENTS_CSV_HEADER = 'data_hora,matricula,tipo,detalhe,recebido_em\r\n';

const eventsSchema = z.object({
  matricula: matriculaSchema.optional(),
  tipo: z.enum(EVENT_TYPES, { error: `deve ser ${EVENT_TYPES.join(', ')}` }).optional(),
  inicio: z.string().optional(),
  fim: z.string().optional(),
  fuso: z.string().refine(isValidTimeZone, 'deve ser um fuso IANA, como America/Sao_Paulo ou UTC').optional(),
  pagina: positiveInteger(1_000_000).optional(),
  limite: positiveInteger(EVENTS_PAGE_MAX).optional(),
  formato: z.enum(['json', 'csv'], { error: 'deve ser json ou csv' }).optional(),
  access_token: z.string().optional(),
});

export function eventJson(event: MeterEvent) {
  return {
    data_hora: formatIsoTimestamp(event.timestamp),
    matricula: event.matricula,
    tipo: event.type,
    detalhe: event.detail,
    recebido_em: formatIsoTimestamp(event.receivedAt),
    entrega: { estado: event.delivery, tentativas: event.deliveryAttempts },
  };
}

function csvLine(event: MeterEvent): string {
  return `${formatIsoTimestamp(event.timestamp)},${event.matricula},${event.type},${csvText(event.detail)},${formatIsoTimestamp(event.receivedAt)}\r\n`;
}

export function ocorrenciasRoute(events: EventStore, defaultTimeZone: string, access: ApiAccess): Route {
  const handler = withFields(eventsSchema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
    // Every meter's events: the operator's (or anyone's with the API open, as the fleet is).
    await authorizeMeterOrFleet(access, input, fields.matricula);
    const timeZone = fields.fuso ?? defaultTimeZone;
    const query = { matricula: fields.matricula, type: fields.tipo, from: queryInstant('inicio', fields.inicio, timeZone, 0), to: queryInstant('fim', fields.fim, timeZone, END_OF_TIME) };
    if (wantsCsv(fields.formato, input)) {
      return {
        status: 200,
        contentType: CSV_CONTENT_TYPE,
        headers: [['Content-Disposition', `attachment; filename="ocorrencias${fields.matricula === undefined ? '' : `-${fields.matricula}`}.csv"`]],
        stream: async function* (signal) {
          yield EVENTS_CSV_HEADER;
          for (let offset = 0; !signal.aborted; offset += CSV_BATCH) {
            const page = await events.list(query, offset, CSV_BATCH);
            if (page.length > 0) yield page.map(csvLine).join('');
            if (page.length < CSV_BATCH) return;
          }
        },
      };
    }
    const page = fields.pagina ?? 1;
    const limit = fields.limite ?? EVENTS_PAGE_DEFAULT;
    const found = await events.list(query, (page - 1) * limit, limit + 1);
    return {
      status: 200,
      body: { matricula: fields.matricula ?? null, tipo: fields.tipo ?? null, inicio: formatIsoTimestamp(query.from), fim: formatIsoTimestamp(query.to), ocorrencias: found.slice(0, limit).map(eventJson), pagina: page, limite: limit, proxima: found.length > limit ? nextPageLink('/ocorrencias', input, page) : null },
    };
  });
  return { path: '/ocorrencias', handlers: { GET: handler }, traits: { heavy: true } };
}
