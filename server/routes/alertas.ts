/**
 * `GET /alertas`: alerts newest first, filtered by meter, state and kind
 * (a customer sees its own meter's only); `POST /alertas/{id}/reconhecimento`:
 * acknowledges one, recording who (the operator, or the customer for its
 * own meter's alert).
 */
import { z } from 'zod';
import { ALERT_KINDS, ALERT_STATES, type AlertStore } from '../../database/alert-store.js';
import { alertJson } from '../../app/alert-center.js';
import { actorOf, type ApiAccess } from '../http/api-access.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { authorizeMeterOrFleet, matriculaSchema, nextPageLink, positiveInteger, withFields } from './fields.js';

export const ALERTS_PAGE_DEFAULT = 50;
export const ALERTS_PAGE_MAX = 500;

const listSchema = z.object({
  matricula: matriculaSchema.optional(),
  estado: z.enum(ALERT_STATES, { error: `deve ser ${ALERT_STATES.join(', ')}` }).optional(),
  tipo: z.enum(ALERT_KINDS, { error: `deve ser ${ALERT_KINDS.join(', ')}` }).optional(),
  pagina: positiveInteger(1_000_000).optional(),
  limite: positiveInteger(ALERTS_PAGE_MAX).optional(),
  access_token: z.string().optional(),
});


export function alertasRoutes(alerts: AlertStore, access: ApiAccess): Route[] {
  const list = withFields(listSchema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
    await authorizeMeterOrFleet(access, input, fields.matricula);
    const page = fields.pagina ?? 1;
    const limit = fields.limite ?? ALERTS_PAGE_DEFAULT;
    const found = await alerts.list({ matricula: fields.matricula, state: fields.estado, kind: fields.tipo }, (page - 1) * limit, limit + 1);
    return { status: 200, body: { alertas: found.slice(0, limit).map(alertJson), pagina: page, limite: limit, proxima: found.length > limit ? nextPageLink('/alertas', input, page) : null } };
  });
  const acknowledge = async (input: RouteInput): Promise<Answer> => {
    // A change in every mode: the operator, or the meter's customer with its own token.
    const principal = await access.whoIs(input.request);
    const id = input.params.id ?? '';
    const alert = id.length <= 64 ? await alerts.get(id) : undefined;
    // A customer is told nothing of other meters' alerts: not found, as if it did not exist.
    if (alert === undefined || (principal.papel === 'cliente' && principal.matricula !== alert.matricula)) throw new HttpError('alerta_nao_encontrado', 'Nenhum alerta com esse id.');
    const outcome = await alerts.acknowledge(id, actorOf(principal), Date.now());
    if (outcome === 'nao_encontrado') throw new HttpError('alerta_nao_encontrado', 'Nenhum alerta com esse id.');
    if (outcome === 'encerrado') throw new HttpError('alerta_encerrado', 'O alerta já foi encerrado: sua condição passou.');
    return { status: 200, body: alertJson(outcome) };
  };
  return [
    { path: '/alertas', handlers: { GET: list } },
    { path: '/alertas/{id}/reconhecimento', handlers: { POST: acknowledge } },
  ];
}
