/**
 * Issue 26 §1, each attack that once worked, as a regression test named
 * after it: anyone could cut a customer's supply (and change every other
 * state) with the default AUTENTICACAO_API=aberta, and any web page could
 * read and command through wildcard CORS.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { hashPassword } from '../../domain/auth/password.js';
import { operatorTokenHowTo } from '../../server/main.js';
import type { RunningServer } from '../../server/app.js';
import { AS_OPERATOR, call, exchange, request, startTestServer, tempDir, TEST_OPERATOR_TOKEN, type RawResponse } from '../helpers.js';

/** Every route and method that changes state beyond the original four, with a body it would accept. */
const CHANGES: ReadonlyArray<readonly [method: string, path: string, body: unknown, ownData: boolean]> = [
  ['POST', '/clientes', { username: 'intrusa', matricula: '777' }, false],
  ['PATCH', '/clientes/13456789', { dia_leitura: 5 }, false],
  ['POST', '/clientes/13456789/senha', { senha: 'senha-nova-longa', senha_atual: 'senha-antiga-longa' }, true],
  ['PUT', '/clientes/13456789/meta', { kwh_mes: 100 }, true],
  ['DELETE', '/clientes/13456789/meta', undefined, true],
  ['POST', '/medidores/13456789/comandos', { tipo: 'leitura' }, false],
  ['DELETE', '/comandos/00000000-0000-4000-8000-000000000000', undefined, false],
  ['PUT', '/faturamento/parametros', { vigencia_inicio: '2026-01-01' }, false],
  ['PUT', '/faturamento/bandeiras/2026-05', { bandeira: 'verde', adicional_kwh: '0' }, false],
  ['PUT', '/co2e/fatores/2026-05', { kg_co2e_kwh: '0.1' }, false],
  ['POST', '/faturas', { matricula: '13456789', ciclo: '2026-05' }, false],
  ['POST', '/faturas/2026-000001/cancelamento', { motivo: 'teste' }, false],
  ['POST', '/alertas/qualquer/reconhecimento', undefined, true],
];

async function customerToken(server: RunningServer, matricula: string): Promise<string> {
  await server.stores.store.setPasswordHash(matricula, await hashPassword('senha-antiga-longa'));
  const login = await call(server.http.port, 'POST', '/validacao-usuario', { matricula, senha: 'senha-antiga-longa' });
  return login.json().token as string;
}

for (const mode of ['aberta', 'obrigatoria'] as const) {
  t.test(`anonymous supply cut (${mode}): every change of state needs a credential, in every mode`, async (t) => {
    const server = await startTestServer(t, { env: { AUTENTICACAO_API: mode } });
    const port = server.http.port;
    const token = await customerToken(server, '13456789');
    let own = { Authorization: `Bearer ${token}` };
    const other = { Authorization: `Bearer ${await customerToken(server, '09812389')}` };
    for (const [method, path, body, ownData] of CHANGES) {
      const anonymous = await call(port, method, path, body);
      t.same([anonymous.status, anonymous.json().erro.codigo], [401, 'nao_autenticado'], `${method} ${path}: no credential`);
      t.match(anonymous.headers.get('www-authenticate'), /^Bearer /, 'with its challenge (RFC 6750 §3)');
      const forged = await call(port, method, path, body, { Authorization: `Bearer ${token.slice(0, -2)}xx` });
      t.same([forged.status, forged.json().erro.codigo], [401, 'token_invalido'], `${method} ${path}: a forged token`);
      const foreign = await call(port, method, path, body, other);
      t.equal(foreign.status, path.startsWith('/alertas/') ? 404 : 403, `${method} ${path}: another customer's token`);
      const mine = await call(port, method, path, body, own);
      if (ownData) t.notOk(mine.status === 401 || mine.status === 403, `${method} ${path}: the customer's own data (${mine.status})`);
      else t.same([mine.status, mine.json().erro.codigo], [403, 'acesso_negado'], `${method} ${path}: the operator's alone`);
      const operator = await call(port, method, path, body, AS_OPERATOR);
      t.notOk(operator.status === 401 || operator.status === 403, `${method} ${path}: the operator (${operator.status})`);
      // A password change revokes the customer's tokens (issue 26 §5): it signs in again with the new one.
      if (path.endsWith('/senha')) own = { Authorization: `Bearer ${(await call(port, 'POST', '/validacao-usuario', { matricula: '13456789', senha: 'senha-nova-longa' })).json().token}` };
    }
    t.same((await server.stores.commands.listByMeter('13456789', 0, 10)).map((command) => command.requestedBy), ['operador'], 'the one command stored is the operator\'s');
    const customers = (await call(port, 'GET', '/clientes?matricula=777', undefined, AS_OPERATOR)).json().clientes;
    t.equal(customers.length, 1, 'the one customer registered is the operator\'s');
  });
}

t.test('the original four and reads stay open with AUTENTICACAO_API=aberta', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  await server.stores.store.append([0, 1, 2, 3, 4].map((n) => ({ matricula: '13456789', timestamp: Date.now() - (5 - n) * 60_000, consumo: BigInt(n * 1000) })));
  for (const route of ['/validacao-usuario', '/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo']) {
    t.equal((await call(port, 'POST', route, { matricula: '13456789' })).status, 200, `POST ${route}`);
  }
  for (const route of ['/clientes', '/medicoes?matricula=13456789', '/frota', '/alertas', '/medidores/13456789/comandos']) {
    t.equal((await call(port, 'GET', route)).status, 200, `GET ${route}`);
  }
});

t.test('a fresh installation is never operator-less: the first start makes a token, owner-only, kept across restarts', async (t) => {
  const dataDir = await tempDir(t);
  const first = await startTestServer(t, { dataDir, env: { API_TOKEN_ADMIN: '' } });
  const file = join(dataDir, 'token-operador');
  t.equal(first.auth.createdOperatorTokenFile, file, 'made by this start');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'readable by its owner only');
  const token = (await readFile(file, 'latin1')).trim();
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
  const whoami = await call(first.http.port, 'GET', '/sessao', undefined, { Authorization: `Bearer ${token}` });
  t.same([whoami.status, whoami.json()], [200, { papel: 'operador' }]);
  t.equal((await call(first.http.port, 'GET', '/sessao')).status, 401, '/sessao needs a credential');
  t.equal((await call(first.http.port, 'POST', '/clientes', { username: 'nova', matricula: '123' }, { Authorization: `Bearer ${token}` })).status, 201);
  await first.close();
  const second = await startTestServer(t, { dataDir, env: { API_TOKEN_ADMIN: '' } });
  t.equal(second.auth.createdOperatorTokenFile, undefined, 'told once: a restart makes nothing');
  t.equal((await call(second.http.port, 'GET', '/sessao', undefined, { Authorization: `Bearer ${token}` })).status, 200, 'the same token after a restart');
  const howTo = operatorTokenHowTo(file, 50000);
  t.match(howTo, /Token de operador criado em .*token-operador/);
  t.match(howTo, /curl -H "Authorization: Bearer \$\(cat '.*token-operador'\)"/);
  t.notMatch(howTo, token, 'the token itself is never printed');
  const configured = await startTestServer(t, { env: { API_TOKEN_ADMIN: TEST_OPERATOR_TOKEN } });
  t.equal(configured.auth.createdOperatorTokenFile, undefined, 'API_TOKEN_ADMIN set: nothing made');
});

async function raw(port: number, method: string, target: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  const result = await exchange(port, [request(method, target, { headers: { Host: `127.0.0.1:${port}`, ...headers }, ...(body === undefined ? {} : { body }) })], { count: 1 });
  return result.responses[0] as RawResponse;
}

t.test('wildcard CORS: no page of another origin reads the API or changes state, even with the operator token', async (t) => {
  const server = await startTestServer(t, { env: { CORS_ORIGENS: 'https://painel.distribuidora.com.br' } });
  const port = server.http.port;
  const read = await raw(port, 'GET', '/clientes', { Origin: 'http://evil.example' });
  t.equal(read.status, 200, 'a read is answered (the browser keeps it from the page)');
  t.equal(read.headers.get('access-control-allow-origin'), undefined, 'without CORS headers: the page cannot read it');
  const command = JSON.stringify({ tipo: 'leitura' });
  const attempts: Array<[string, Record<string, string>]> = [
    ['an Origin of another site, text/plain (a CORS-simple request)', { Origin: 'http://evil.example', 'Content-Type': 'text/plain' }],
    ['an Origin of another port', { Origin: `http://127.0.0.1:${port + 1}`, 'Content-Type': 'application/json' }],
    ['the opaque origin null', { Origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'Sec-Fetch-Site': 'same-site' }],
  ];
  for (const [what, headers] of attempts) {
    const refused = await raw(port, 'POST', '/medidores/13456789/comandos', { ...AS_OPERATOR, ...headers }, command);
    t.same([refused.status, refused.json().erro.codigo], [403, 'origem_nao_permitida'], what);
  }
  t.same(await server.stores.commands.listByMeter('13456789', 0, 10), [], 'no command was stored');
  const sameOrigin = await raw(port, 'POST', '/medidores/13456789/comandos', { ...AS_OPERATOR, Origin: `http://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/json' }, command);
  t.equal(sameOrigin.status, 202, 'the dashboard (same origin) commands');
  const listed = await raw(port, 'POST', '/medidores/13456789/comandos', { ...AS_OPERATOR, Origin: 'https://painel.distribuidora.com.br', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json' }, JSON.stringify({ tipo: 'leitura' }));
  t.same([listed.status, listed.headers.get('access-control-allow-origin')], [202, 'https://painel.distribuidora.com.br'], 'a listed origin does, and reads the answer');
  const tool = await raw(port, 'POST', '/medidores/13456789/comandos', { ...AS_OPERATOR, 'Content-Type': 'application/json' }, JSON.stringify({ tipo: 'leitura' }));
  t.equal(tool.status, 202, 'curl, Postman and scripts send no Origin');
  const original = await raw(port, 'POST', '/alerta-consumo', { Origin: 'http://evil.example', 'Content-Type': 'application/json' }, '{"matricula":"13456789"}');
  t.same([original.status, original.json().erro.codigo], [403, 'origem_nao_permitida'], 'a foreign page\'s POST is refused on every route');
});

t.test('a bad CORS_ORIGENS stops start-up naming it', async (t) => {
  const dataDir = await tempDir(t);
  for (const bad of ['*', 'http://x.com/path', 'ftp://x.com', 'x.com']) {
    await t.rejects(startTestServer(t, { dataDir, env: { CORS_ORIGENS: bad } }), { name: 'ConfigError', message: /^invalid setting CORS_ORIGENS: / }, bad);
  }
});

t.test('a name registered with surrounding spaces vanished after a restart (regression, issue 26): names are trimmed and NFC, and a collision is refused', async (t) => {
  const dataDir = await tempDir(t);
  const first = await startTestServer(t, { dataDir, env: { CLIENTES_EXEMPLO: 'nao' } });
  const port = first.http.port;
  t.equal((await call(port, 'POST', '/clientes', { username: 'joana', matricula: '1001' }, AS_OPERATOR)).status, 201);
  const spaced = await call(port, 'POST', '/clientes', { username: 'joana ', matricula: '1002' }, AS_OPERATOR);
  t.same([spaced.status, spaced.json().erro.codigo, spaced.json().erro.detalhes], [409, 'cliente_existente', [{ campo: 'username', problema: 'já cadastrado' }]], '"joana " is joana');
  const composed = 'Jos\u00e9';
  const decomposed = 'Jose\u0301';
  const made = await call(port, 'POST', '/clientes', { username: ` ${decomposed}\t`, matricula: '1003' }, AS_OPERATOR);
  t.same([made.status, made.json().username], [201, composed], 'kept trimmed and composed (NFC)');
  t.equal((await call(port, 'POST', '/clientes', { username: composed, matricula: '1004' }, AS_OPERATOR)).status, 409, 'the composed spelling is the same name');
  t.equal((await call(port, 'POST', '/validacao-usuario', { username: `${decomposed} ` })).json().matricula, '1003', 'and found by either spelling');
  await first.close();
  const second = await startTestServer(t, { dataDir, env: { CLIENTES_EXEMPLO: 'nao' } });
  const listed = (await call(second.http.port, 'GET', '/clientes')).json().clientes.map((c: { username: string; matricula: string }) => `${c.username};${c.matricula}`);
  t.same(listed, ['joana;1001', `${composed};1003`], 'every customer is there after a restart, as registered');
});
