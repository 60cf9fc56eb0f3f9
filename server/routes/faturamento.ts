/**
 * The billing rules the operator sets: `GET`/`PUT /faturamento/parametros`
 * (parameter versions by start date) and `GET /faturamento/bandeiras`,
 * `PUT /faturamento/bandeiras/{mes}` (each month's bandeira). Reading them
 * needs only the credentials every route needs; setting them, the operator.
 */
import { z } from 'zod';
import { flagJson, flagSchema, MONTH, parametersJson, parametersSchema } from '../../database/billing-rules-json.js';
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import type { ApiAccess } from '../api-access.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../router.js';
import { readFields } from './fields.js';

const monthRange = z.object({
  de: z.string().regex(MONTH, 'deve ser um mês AAAA-MM').optional(),
  ate: z.string().regex(MONTH, 'deve ser um mês AAAA-MM').optional(),
});

export function parametrosRoute(rules: BillingRulesStore, access: ApiAccess): Route {
  const list = async (input: RouteInput): Promise<Answer> => {
    await access.authenticate(input.request);
    return { status: 200, body: { parametros: (await rules.listParameters()).map(parametersJson) } };
  };
  const put = async (input: RouteInput): Promise<Answer> => {
    await access.authenticateOperator(input.request);
    const parameters = readFields(input, parametersSchema);
    const outcome = await rules.putParameters(parameters);
    return { status: outcome === 'created' ? 201 : 200, body: parametersJson(parameters) };
  };
  return { path: '/faturamento/parametros', handlers: { GET: list, PUT: put } };
}

export function bandeirasRoutes(rules: BillingRulesStore, access: ApiAccess): Route[] {
  const list = async (input: RouteInput): Promise<Answer> => {
    await access.authenticate(input.request);
    const fields = readFields(input, monthRange);
    const year = new Date().getUTCFullYear();
    const from = fields.de ?? `${year}-01`;
    const to = fields.ate ?? `${year}-12`;
    if (to < from) throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'ate', problema: 'deve ser o mês de de ou depois' }] });
    return { status: 200, body: { de: from, ate: to, bandeiras: (await rules.listFlags(from, to)).map(flagJson) } };
  };
  const put = async (input: RouteInput): Promise<Answer> => {
    await access.authenticateOperator(input.request);
    const month = input.params.mes ?? '';
    if (!MONTH.test(month)) throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'mes', problema: 'deve ser um mês AAAA-MM' }] });
    const fields = readFields(input, flagSchema);
    const flag = { month, flag: fields.bandeira, additional: fields.adicional_kwh };
    const outcome = await rules.putFlag(flag);
    return { status: outcome === 'created' ? 201 : 200, body: flagJson(flag) };
  };
  return [
    { path: '/faturamento/bandeiras', handlers: { GET: list } },
    { path: '/faturamento/bandeiras/{mes}', handlers: { PUT: put } },
  ];
}
