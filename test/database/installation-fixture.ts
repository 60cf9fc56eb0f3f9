/** An installation with data behind every route, and the answers a reader compares: what backups and migrations must keep. */
import type { Test } from 'tap';
import type { RunningServer } from '../../server/app.js';
import { TEST_OPERATOR_TOKEN } from '../helpers.js';
import { send } from '../server/billing-fixtures.js';

/** The answers a reader compares: every route with data in this test, JSON and CSV (`extra` routes first: ones a POST below would change). */
export async function answers(port: number, numero: string, commandId: string, extra: ReadonlyArray<[string, string, unknown?]> = []): Promise<Record<string, string>> {
  const routes: Array<[string, string, unknown?]> = [
    ...extra,
    ['GET', '/clientes'],
    ['GET', '/clientes/13456789'],
    ['GET', '/medicoes?matricula=13456789&limite=1000'],
    ['GET', '/medicoes?matricula=13456789&formato=csv'],
    ['GET', '/medicoes/ultima-medicao?matricula=13456789'],
    ['POST', '/alerta-consumo', { matricula: '13456789' }],
    ['POST', '/gerar-fatura', { matricula: '13456789' }],
    ['GET', '/consumo?matricula=13456789&periodo=dia&inicio=2026-01-01&fim=2030-01-01&fuso=UTC'],
    ['GET', '/faturas?matricula=13456789'],
    [`GET`, `/faturas/${numero}`],
    ['GET', '/faturamento/parametros'],
    ['GET', '/tarifas?data=2026-06-01'],
    ['GET', '/ocorrencias?matricula=13456789'],
    ['GET', '/alertas?matricula=13456789'],
    ['GET', '/medidores/13456789/comandos'],
    ['GET', `/comandos/${commandId}`],
    ['GET', '/clientes/13456789/meta'],
    ['GET', `/qualidade?matricula=13456789&inicio=${new Date(Date.now() - 45 * 86_400_000).toISOString().slice(0, 10)}&fim=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}&fuso=UTC`],
  ];
  const result: Record<string, string> = {};
  for (const [method, path, body] of routes) {
    const answer = await send(port, method, path, body, { token: TEST_OPERATOR_TOKEN });
    result[`${method} ${path}`] = `${answer.status} ${answer.bytes.toString('utf8')}`;
  }
  return result;
}

/** History a month back, an issued invoice, a command and a goal, through the store and the API. */
export async function populate(server: RunningServer): Promise<{ numero: string; commandId: string }> {
  const port = server.http.port;
  const start = Date.now() - 40 * 86_400_000;
  await server.stores.store.append(Array.from({ length: 160 }, (_, i) => ({ matricula: '13456789', timestamp: start + i * 6 * 3_600_000, consumo: 1_000_000n + BigInt(i) * 1500n })));
  const month = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 7);
  await send(port, 'PATCH', '/clientes/13456789', { dia_leitura: 1 }, { token: TEST_OPERATOR_TOKEN });
  const issued = await send(port, 'POST', '/faturas', { matricula: '13456789', ciclo: month }, { token: TEST_OPERATOR_TOKEN });
  await send(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 150 }, { token: TEST_OPERATOR_TOKEN });
  const command = await send(port, 'POST', '/medidores/13456789/comandos', { tipo: 'leitura' }, { token: TEST_OPERATOR_TOKEN });
  return { numero: (issued.json as { numero?: string }).numero ?? 'nenhuma', commandId: (command.json as { id: string }).id };
}

/** Every answer with data, each route once: a failed route is named. */
export function everyRouteAnswered(t: Test, answered: Record<string, string>): void {
  t.ok(Object.values(answered).every((answer) => /^(200|201) /.test(answer)), `every route answered: ${Object.entries(answered).filter(([, a]) => !/^(200|201) /.test(a)).map(([r, a]) => `${r} → ${a.slice(0, 80)}`).join('; ')}`);
}
