/**
 * API tokens end to end: /validacao-usuario issues them; with
 * AUTENTICACAO_API=obrigatoria the other routes answer 401 without a valid
 * one and 403 for another customer's matricula; the open default needs none.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { signToken } from '../../protocol/api-token.js';
import { API_SECRET_FILE } from '../../server/http/api-access.js';
import { hashPassword } from '../../domain/auth/password.js';
import type { RunningServer } from '../../server/app.js';
import { exchange, request, startTestServer, tempDir, type RawResponse } from '../helpers.js';

const ROUTES = ['/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo'];
const minute = (n: number): number => Date.UTC(2026, 0, 1, 0, n);

async function ask(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  const result = await exchange(port, [request(method, target, { headers, body })], { count: 1 });
  return result.responses[0] as RawResponse;
}

const PASSWORD = 'uma senha longa';

/** Gives the customer a password (through the store, as the operator would) and logs in with it. */
async function tokenFor(server: RunningServer, username: string): Promise<string> {
  const [customer] = await server.stores.store.findCustomers({ username });
  await server.stores.store.setPasswordHash(customer?.matricula ?? '', await hashPassword(PASSWORD));
  const body = JSON.stringify({ username, senha: PASSWORD });
  return (await ask(server.http.port, 'POST', '/validacao-usuario', { 'Content-Type': 'application/json' }, body)).json().token as string;
}

t.test('obrigatoria: 401 without a valid token, 403 for another matricula, 200 with the right one', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir, env: { AUTENTICACAO_API: 'obrigatoria' } });
  await server.stores.store.append([0, 1, 2, 3, 4].map((n) => ({ matricula: '13456789', timestamp: minute(n), consumo: BigInt(n * 1000) })));
  const port = server.http.port;
  const token = await tokenFor(server, 'amancio123');
  for (const route of ROUTES) {
    const none = await ask(port, 'GET', `${route}?matricula=13456789`);
    t.equal(none.status, 401, `${route}: no token`);
    t.equal(none.json().erro.codigo, 'nao_autenticado');
    t.match(none.headers.get('www-authenticate'), /^Bearer realm="consumo-inteligente"$/);
    const garbage = await ask(port, 'GET', `${route}?matricula=13456789`, { Authorization: 'Bearer abc.def.ghi' });
    t.same([garbage.status, garbage.json().erro.codigo], [401, 'token_invalido'], `${route}: garbage token`);
    t.match(garbage.headers.get('www-authenticate'), /error="invalid_token"/);
    const basic = await ask(port, 'GET', `${route}?matricula=13456789`, { Authorization: 'Basic YTpi' });
    t.equal(basic.status, 401, `${route}: not a Bearer token`);
    const invalidFields = await ask(port, 'GET', `${route}?matricula=abc`);
    t.equal(invalidFields.status, 401, `${route}: no token is told nothing about its fields`);
    const other = await ask(port, 'GET', `${route}?matricula=09812389`, { Authorization: `Bearer ${token}` });
    t.same([other.status, other.json().erro.codigo], [403, 'acesso_negado'], `${route}: another customer's matricula`);
    const get = await ask(port, 'GET', `${route}?matricula=13456789`, { Authorization: `Bearer ${token}` });
    t.equal(get.status, 200, `${route}: GET with the token`);
    const post = await ask(port, 'POST', route, { Authorization: `bearer  ${token}`, 'Content-Type': 'application/json' }, '{"matricula":"13456789"}');
    t.equal(post.status, 200, `${route}: POST, scheme in any case (RFC 6750)`);
  }
  const preflight = await ask(port, 'OPTIONS', '/gerar-fatura', { Origin: 'http://example.com', 'Access-Control-Request-Headers': 'authorization' });
  t.equal(preflight.status, 204, 'a preflight needs no token');
  t.equal(preflight.headers.get('access-control-allow-headers'), undefined, 'an origin CORS_ORIGENS does not list gets no CORS headers');
});

t.test('an expired token is refused; the key outlives a restart in DATA_DIR, readable by its owner only', async (t) => {
  const dataDir = await tempDir(t);
  const first = await startTestServer(t, { dataDir, env: { AUTENTICACAO_API: 'obrigatoria' } });
  await first.stores.store.append([{ matricula: '13456789', timestamp: minute(0), consumo: 1000n }]);
  const token = await tokenFor(first, 'amancio123');
  await first.close();
  const secretFile = join(dataDir, API_SECRET_FILE);
  t.equal((await stat(secretFile)).mode & 0o777, 0o600);
  const second = await startTestServer(t, { dataDir, env: { AUTENTICACAO_API: 'obrigatoria' } });
  t.equal((await ask(second.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789', { Authorization: `Bearer ${token}` })).status, 200, 'a token from before the restart');
  await second.close();

  const secret = 'ab'.repeat(32);
  const third = await startTestServer(t, { dataDir, env: { AUTENTICACAO_API: 'obrigatoria', API_SEGREDO: secret } });
  const now = Math.floor(Date.now() / 1000);
  const expired = await signToken({ sub: '13456789', papel: 'cliente', username: 'amancio123', iat: now - 7200, exp: now - 1 }, Buffer.from(secret, 'hex'));
  const answer = await ask(third.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789', { Authorization: `Bearer ${expired}` });
  t.same([answer.status, answer.json().erro.codigo], [401, 'token_invalido']);
  t.match(answer.json().erro.mensagem, /expirou/);
  t.equal((await ask(third.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789', { Authorization: `Bearer ${token}` })).status, 401, 'a token signed with another key');
});

t.test('obrigatoria: /clientes is for the operator token only; without API_TOKEN_ADMIN the one made in DATA_DIR', async (t) => {
  const operator = 'operador-'.padEnd(40, 'x');
  const dataDir = await tempDir(t);
  const made = await startTestServer(t, { dataDir, env: { AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: '' } });
  const refused = await ask(made.http.port, 'GET', '/clientes', { Authorization: `Bearer ${operator}` });
  t.same([refused.status, refused.json().erro.codigo], [401, 'token_invalido'], 'a token nobody made');
  const kept = (await readFile(join(dataDir, 'token-operador'), 'latin1')).trim();
  t.equal((await ask(made.http.port, 'GET', '/clientes', { Authorization: `Bearer ${kept}` })).status, 200, 'the token kept in DATA_DIR is the operator\'s');
  const server = await startTestServer(t, { env: { AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: operator } });
  const port = server.http.port;
  t.equal((await ask(port, 'GET', '/clientes')).status, 401);
  t.equal((await ask(port, 'GET', '/clientes', { Authorization: `Bearer ${operator}y` })).status, 401, 'a wrong operator token');
  const customerToken = await tokenFor(server, 'amancio123');
  const wrongRole = await ask(port, 'GET', '/clientes', { Authorization: `Bearer ${customerToken}` });
  t.same([wrongRole.status, wrongRole.json().erro.codigo], [403, 'acesso_negado'], 'a customer token is valid, but of the wrong role');
  t.equal((await ask(port, 'GET', '/clientes', { Authorization: `Bearer ${operator}` })).status, 200);
  const created = await ask(port, 'POST', '/clientes', { Authorization: `Bearer ${operator}`, 'Content-Type': 'application/json' }, '{"username":"op","matricula":"42"}');
  t.equal(created.status, 201);
});

t.test('aberta (the default): no token needed, tokens still issued for a right password', async (t) => {
  const server = await startTestServer(t);
  await server.stores.store.append([{ matricula: '13456789', timestamp: minute(0), consumo: 1000n }]);
  t.equal((await ask(server.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789')).status, 200);
  t.match(await tokenFor(server, 'amancio123'), /^eyJ/);
});
