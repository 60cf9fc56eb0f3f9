/** What the billing tests share: the parameters and PIS/COFINS rates of the README's worked example, a JSON request helper, and a server ready to bill. */
import type { Test } from 'tap';
import type { RunningServer } from '../../server/app.js';
import { startTestServer, TEST_OPERATOR_TOKEN } from '../helpers.js';

export const BILLING_PARAMETERS = {
  vigencia_inicio: '2026-01-01',
  // Minas Gerais (CEMIG-D's state): 18% on residential supply, Tarifa Social households of at most 3 kWh a day exempt.
  tributos: { icms: { faixas: [{ ate_kwh: null, aliquota: '0.18' }], isencao_tarifa_social: { media_diaria_ate_kwh: 3 } } },
  custo_disponibilidade_kwh: { monofasica: 30, bifasica: 50, trifasica: 100 },
  cip: [
    { ate_kwh: 100, valor: '5.00' },
    { ate_kwh: null, valor: '12.50' },
  ],
  vencimento_dias: 10,
  postos_tarifa_branca: { ponta: ['18:00-21:00'], intermediario: ['17:00-18:00', '21:00-22:00'] },
  tarifa_social: [
    { ate_kwh: 30, desconto: '0.65' },
    { ate_kwh: 100, desconto: '0.4' },
    { ate_kwh: 220, desconto: '0.1' },
  ],
};

/** The made-up distributor's record (PUT /faturamento/distribuidora): its CNPJ's check digits are valid, its FEBRABAN code and PIX key illustrative. */
export const DISTRIBUTOR = { nome: 'Distribuidora Teste S.A.', cnpj: '11.222.333/0001-81', endereco: 'Av. das Linhas, 1000, Belo Horizonte - MG, 30000-000', codigo_febraban: '0123', chave_pix: '11222333000181', cidade: 'Belo Horizonte' };

/** Sets DISTRIBUTOR as the record of `sigla`, straight in the store. */
export async function setDistributor(server: RunningServer, sigla = 'TESTE-D'): Promise<void> {
  await server.stores.billingRules.putDistributor({ sigla, name: DISTRIBUTOR.nome, cnpj: '11222333000181', address: DISTRIBUTOR.endereco, febrabanCode: DISTRIBUTOR.codigo_febraban, pixKey: DISTRIBUTOR.chave_pix, pixCity: DISTRIBUTOR.cidade });
}

/** The effective PIS/COFINS rates the tests set for every month they bill. */
export const PIS_COFINS = { pis: '0.0112', cofins: '0.0516' };
export const PIS_COFINS_UNITS = { pis: 11_200n, cofins: 51_600n };

/** Sets PIS_COFINS for each month from `from` to `to` (`YYYY-MM`, inclusive), straight in the store. */
export async function setPisCofins(server: RunningServer, from = '2019-01', to = '2028-12'): Promise<void> {
  for (let month = from; month <= to; month = nextMonth(month)) await server.stores.billingRules.putPisCofins({ month, ...PIS_COFINS_UNITS });
}

const nextMonth = (month: string): string => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString().slice(0, 7);

export interface JsonAnswer {
  readonly status: number;
  readonly json: any;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

/** One request with a JSON body (when given) and optional Bearer token; the answer parsed when it is JSON. */
export async function send(port: number, method: string, path: string, body?: unknown, options: { token?: string; headers?: Record<string, string> } = {}): Promise<JsonAnswer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }), ...options.headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: response.status, json, headers: response.headers, bytes };
}

/**
 * A server that can bill: DISTRIBUIDORA TESTE-D, its convencional tariff in
 * force since `since`, BILLING_PARAMETERS from the same day, PIS_COFINS
 * for every month from that year to 2028, and the distributor's record.
 */
export async function billingReadyServer(t: Test, env: Record<string, string> = {}, since = '2020-01-01'): Promise<RunningServer> {
  const server = await startTestServer(t, { env: { DISTRIBUIDORA: 'TESTE-D', ...env } });
  await server.stores.tariffs.addTariffs([{ distribuidora: 'TESTE-D', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: since, vigenciaFim: null, te: 29_459_000n, tusd: 41_238_000n, resolucao: 'REH 1/2025' }]);
  const answer = await send(server.http.port, 'PUT', '/faturamento/parametros', { ...BILLING_PARAMETERS, vigencia_inicio: since }, { token: TEST_OPERATOR_TOKEN });
  if (answer.status !== 201) throw new Error(`parameters: ${answer.status}`);
  await setPisCofins(server, `${since.slice(0, 4)}-01`);
  await setDistributor(server);
  return server;
}
