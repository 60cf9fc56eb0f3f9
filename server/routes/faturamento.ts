/**
 * The billing rules the operator sets: `GET`/`PUT /faturamento/parametros`
 * (parameter versions by start date) and `GET /faturamento/bandeiras`,
 * `PUT /faturamento/bandeiras/{mes}` (each month's bandeira),
 * `GET /faturamento/pis-cofins`, `PUT /faturamento/pis-cofins/{mes}` (each
 * month's effective PIS/COFINS rates), `GET`/`PUT /faturamento/distribuidora`
 * (the distributor's name, CNPJ, address and payment data), and
 * `GET /co2e/fatores`, `PUT /co2e/fatores/{mes}` (each month's grid emission
 * factor). Reading them needs only the credentials every route needs;
 * setting them, the operator.
 */
import { z } from 'zod';
import { distributorJson, distributorSchema, emissionFactorJson, emissionFactorSchema, EMISSION_FACTOR_SCALE, flagJson, flagSchema, MONTH, parametersJson, parametersSchema, pisCofinsJson, pisCofinsSchema } from '../../database/billing-rules-json.js';
import { formatDecimal } from '../../protocol/decimal.js';
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import type { ApiAccess } from '../http/api-access.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { withFields } from './fields.js';

const monthRange = z.object({
  de: z.string().regex(MONTH, 'deve ser um mês AAAA-MM').optional(),
  ate: z.string().regex(MONTH, 'deve ser um mês AAAA-MM').optional(),
});

export function parametrosRoute(rules: BillingRulesStore, access: ApiAccess): Route {
  const list = async (input: RouteInput): Promise<Answer> => {
    await access.authenticate(input.request);
    return { status: 200, body: { parametros: (await rules.listParameters()).map(parametersJson) } };
  };
  const put = withFields(parametersSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const parameters = read();
    const outcome = await rules.putParameters(parameters);
    return { status: outcome === 'created' ? 201 : 200, body: parametersJson(parameters) };
  });
  return { path: '/faturamento/parametros', handlers: { GET: list, PUT: put } };
}

/** The `de`/`ate` months of a list (default: this year), or 422. */
function monthsAsked(fields: z.infer<typeof monthRange>): { from: string; to: string } {
  const year = new Date().getUTCFullYear();
  const from = fields.de ?? `${year}-01`;
  const to = fields.ate ?? `${year}-12`;
  if (to < from) throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'ate', problema: 'deve ser o mês de de ou depois' }] });
  return { from, to };
}

function monthParameter(input: RouteInput): string {
  const month = input.params.mes ?? '';
  if (!MONTH.test(month)) throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'mes', problema: 'deve ser um mês AAAA-MM' }] });
  return month;
}

export function fatoresEmissaoRoutes(rules: BillingRulesStore, defaultFactor: bigint, access: ApiAccess): Route[] {
  const list = withFields(monthRange, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticate(input.request);
    const { from, to } = monthsAsked(read());
    return { status: 200, body: { de: from, ate: to, padrao_kg_co2e_kwh: formatDecimal(defaultFactor, EMISSION_FACTOR_SCALE), fatores: (await rules.listEmissionFactors(from, to)).map(emissionFactorJson) } };
  });
  const put = withFields(emissionFactorSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const month = monthParameter(input);
    const factor = { month, kgPerKwh: read().kg_co2e_kwh };
    const outcome = await rules.putEmissionFactor(factor);
    return { status: outcome === 'created' ? 201 : 200, body: emissionFactorJson(factor) };
  });
  return [
    { path: '/co2e/fatores', handlers: { GET: list } },
    { path: '/co2e/fatores/{mes}', handlers: { PUT: put } },
  ];
}

export function bandeirasRoutes(rules: BillingRulesStore, access: ApiAccess): Route[] {
  const list = withFields(monthRange, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticate(input.request);
    const { from, to } = monthsAsked(read());
    return { status: 200, body: { de: from, ate: to, bandeiras: (await rules.listFlags(from, to)).map(flagJson) } };
  });
  const put = withFields(flagSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const month = monthParameter(input);
    const fields = read();
    const flag = { month, flag: fields.bandeira, additional: fields.adicional_kwh };
    const outcome = await rules.putFlag(flag);
    return { status: outcome === 'created' ? 201 : 200, body: flagJson(flag) };
  });
  return [
    { path: '/faturamento/bandeiras', handlers: { GET: list } },
    { path: '/faturamento/bandeiras/{mes}', handlers: { PUT: put } },
  ];
}

export function pisCofinsRoutes(rules: BillingRulesStore, access: ApiAccess): Route[] {
  const list = withFields(monthRange, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticate(input.request);
    const { from, to } = monthsAsked(read());
    return { status: 200, body: { de: from, ate: to, aliquotas: (await rules.listPisCofins(from, to)).map(pisCofinsJson) } };
  });
  const put = withFields(pisCofinsSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const month = monthParameter(input);
    const rates = { month, ...read() };
    const outcome = await rules.putPisCofins(rates);
    return { status: outcome === 'created' ? 201 : 200, body: pisCofinsJson(rates) };
  });
  return [
    { path: '/faturamento/pis-cofins', handlers: { GET: list } },
    { path: '/faturamento/pis-cofins/{mes}', handlers: { PUT: put } },
  ];
}

/** The record of the distributor this server bills (DISTRIBUIDORA): what its invoices print and how they are paid. */
export function distribuidoraRoute(rules: BillingRulesStore, distributor: string, access: ApiAccess): Route {
  const configured = (): string => {
    if (distributor === '') throw new HttpError('faturamento_nao_configurado', 'O faturamento não está configurado: defina DISTRIBUIDORA (a distribuidora das tarifas importadas).');
    return distributor;
  };
  const get = async (input: RouteInput): Promise<Answer> => {
    await access.authenticate(input.request);
    const record = await rules.distributor(configured());
    if (record === undefined) throw new HttpError('faturamento_nao_configurado', `Os dados da distribuidora ${distributor} não foram definidos: defina-os em PUT /faturamento/distribuidora.`);
    return { status: 200, body: distributorJson(record) };
  };
  const put = withFields(distributorSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const r = read();
    const record = { sigla: configured(), name: r.nome, cnpj: r.cnpj, address: r.endereco, febrabanCode: r.codigo_febraban, pixKey: r.chave_pix, pixCity: r.cidade };
    const outcome = await rules.putDistributor(record);
    return { status: outcome === 'created' ? 201 : 200, body: distributorJson(record) };
  });
  return { path: '/faturamento/distribuidora', handlers: { GET: get, PUT: put } };
}
