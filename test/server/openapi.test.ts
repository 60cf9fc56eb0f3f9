/**
 * The check every test server runs on its answers (test/openapi-check.ts):
 * it must catch what it is for, or the suite's silence about the OpenAPI
 * document would mean nothing.
 */
import t from 'tap';
import type { Exchange } from '../../server/http/responder.js';
import { OpenApiCheck } from '../openapi-check.js';

const check = new OpenApiCheck();
const json = (status: number, body: unknown): Exchange['answer'] => ({ status, headers: [['Content-Type', 'application/json; charset=utf-8']], body: JSON.stringify(body) });
const exchange = (method: string, route: string, answer: Exchange['answer']): Exchange => ({ method, route, path: route, answer });

t.test('an answer as the document says passes', async (t) => {
  t.equal(check.problem(exchange('GET', '/faturamento/bandeiras', json(200, { de: '2026-01', ate: '2026-12', bandeiras: [{ mes: '2026-05', bandeira: 'amarela', adicional_kwh: '0.01885' }] }))), undefined);
  t.equal(check.problem(exchange('GET', '/faturamento/bandeiras', json(401, { erro: { codigo: 'nao_autenticado', mensagem: 'x' } }))), undefined, 'a shared response ($ref) too');
  t.equal(check.problem(exchange('HEAD', '/faturamento/bandeiras', { status: 200, headers: [['Content-Type', 'application/json; charset=utf-8']], body: '' })), undefined, 'HEAD as GET, without its body');
});

t.test('what it catches', async (t) => {
  t.match(check.problem(exchange('GET', '/faturamento/bandeiras', json(418, {}))), /the status is not documented/);
  t.match(check.problem(exchange('DELETE', '/faturamento/bandeiras', json(200, {}))), /the method is not documented/);
  t.match(check.problem(exchange('GET', '/nao-documentada', json(200, {}))), /the route is not in the document/);
  t.match(check.problem(exchange('GET', '/faturamento/bandeiras', { status: 200, headers: [['Content-Type', 'text/plain']], body: 'oi' })), /content type text\/plain/);
  t.match(check.problem(exchange('GET', '/faturamento/bandeiras', json(200, { de: '2026-01', ate: '2026-12', bandeiras: [{ mes: 'maio', bandeira: 'amarela', adicional_kwh: '0.01' }] }))), /\/bandeiras\/0\/mes must match pattern/);
  t.match(check.problem(exchange('GET', '/faturamento/bandeiras', json(200, { de: '2026-01', ate: '2026-12', bandeiras: [{ mes: '2026-05', bandeira: 'roxa', adicional_kwh: '0.01' }] }))), /must be equal to one of the allowed values/);
  t.match(check.problem(exchange('GET', '/faturamento/bandeiras', json(401, { erro: 'x' }))), /\/erro must be object/, 'a shared response is checked too');
  t.match(check.problem(exchange('GET', '/faturamento/bandeiras', { status: 200, headers: [['Content-Type', 'application/json']], body: '{' })), /not JSON/);
});
