/**
 * Who did it (issue 26 §5): named operator accounts, tokens naming them, an
 * append-only audit log of every state-changing request, and tokens that
 * stop when their password changes, their account is disabled, or they
 * sign out — across a restart too.
 */
import t from 'tap';
import { hashPassword } from '../../domain/auth/password.js';
import { AS_OPERATOR, call, startTestServer, tempDir } from '../helpers.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

t.test('a named operator signs in, acts, and the audit log says who did what, to what, from where, with what outcome', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const created = await call(port, 'POST', '/operadores', { nome: 'maria.souza', senha: 'cavalo-bateria-grampo' }, AS_OPERATOR);
  t.same([created.status, created.json().nome, created.json().criado_por, created.json().ativo], [201, 'maria.souza', 'operador', true]);
  t.notMatch(created.body, /scrypt/, 'never the hash');
  t.equal((await call(port, 'POST', '/operadores', { nome: 'maria.souza', senha: 'outra-senha-longa-1' }, AS_OPERATOR)).status, 409);
  t.equal((await call(port, 'POST', '/operadores', { nome: 'Maria Souza', senha: 'cavalo-bateria-grampo' }, AS_OPERATOR)).status, 422, 'a name of a-z, 0-9 . _ -');
  t.equal((await call(port, 'POST', '/operadores', { nome: 'fraca', senha: 'password123' }, AS_OPERATOR)).json().erro.codigo, 'senha_fraca');
  t.equal((await call(port, 'POST', '/sessao/operador', { nome: 'maria.souza', senha: 'errada-mas-longa' })).status, 401);
  const login = await call(port, 'POST', '/sessao/operador', { nome: 'maria.souza', senha: 'cavalo-bateria-grampo' });
  t.equal(login.status, 200);
  const maria = bearer(login.json().token as string);
  t.same((await call(port, 'GET', '/sessao', undefined, maria)).json(), { papel: 'operador', nome: 'maria.souza' });
  const command = await call(port, 'POST', '/medidores/13456789/comandos', { tipo: 'leitura' }, maria);
  t.same([command.status, command.json().pedido_por], [202, 'operador:maria.souza'], 'the command names who asked for it');
  t.equal((await call(port, 'PUT', '/faturamento/parametros', { vigencia_inicio: 'ontem' }, maria)).status, 422);
  t.equal((await call(port, 'POST', '/clientes', { username: 'anonima', matricula: '9' })).status, 401, 'an anonymous refusal is not the log\'s to hold');

  const log = await call(port, 'GET', '/auditoria', undefined, AS_OPERATOR);
  t.equal(log.status, 200);
  const entries = log.json().registros as Array<{ ator: string; acao: string; alvo: string; endereco: string; status: number; em: string }>;
  t.same(
    entries.map((e) => [e.ator, e.acao, e.alvo, e.status]),
    [
      ['operador:maria.souza', 'PUT /faturamento/parametros', '/faturamento/parametros', 422],
      ['operador:maria.souza', 'POST /medidores/{matricula}/comandos', '/medidores/13456789/comandos', 202],
      ['operador', 'POST /operadores', '/operadores', 422],
      ['operador', 'POST /operadores', '/operadores', 422],
      ['operador', 'POST /operadores', '/operadores', 409],
      ['operador', 'POST /operadores', '/operadores', 201],
    ],
    'newest first: who, what, on what, the outcome',
  );
  t.ok(entries.every((e) => e.endereco === '127.0.0.1' && !Number.isNaN(Date.parse(e.em))), 'from which address, when');
  t.same((await call(port, 'GET', '/auditoria?ator=operador:maria.souza&limite=1', undefined, AS_OPERATOR)).json().registros.map((e: { acao: string }) => e.acao), ['PUT /faturamento/parametros']);
  const csv = await fetch(`http://127.0.0.1:${port}/auditoria?formato=csv`, { headers: AS_OPERATOR });
  const text = await csv.text();
  t.match(text, /^id,em,ator,acao,alvo,endereco,status\r\n/);
  t.match(text, /,operador:maria\.souza,POST \/medidores\/\{matricula\}\/comandos,\/medidores\/13456789\/comandos,127\.0\.0\.1,202\r\n/);
  t.equal((await call(port, 'GET', '/auditoria')).status, 401, 'not for anyone, even with the API open');
  for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) t.equal((await call(port, method, '/auditoria', undefined, AS_OPERATOR)).status, 405, `${method}: nothing changes the log`);
});

t.test('tokens stop at once: a password change, a disabled account, a sign-out; and stay stopped after a restart', async (t) => {
  const dataDir = await tempDir(t);
  let server = await startTestServer(t, { dataDir });
  let port = server.http.port;
  await server.stores.store.setPasswordHash('13456789', await hashPassword('senha-antiga-longa'));
  const login = async (senha: string) => (await call(port, 'POST', '/validacao-usuario', { matricula: '13456789', senha })).json().token as string;
  const before = bearer(await login('senha-antiga-longa'));
  t.equal((await call(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 100 }, before)).status, 200);
  t.equal((await call(port, 'POST', '/clientes/13456789/senha', { senha: 'senha-nova-e-longa', senha_atual: 'senha-antiga-longa' }, before)).status, 200);
  const stale = await call(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 120 }, before);
  t.same([stale.status, stale.json().erro.codigo], [401, 'token_invalido'], 'the token issued before the password change is revoked');
  t.match(stale.json().erro.mensagem, /revogado/);
  const after = bearer(await login('senha-nova-e-longa'));
  t.equal((await call(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 120 }, after)).status, 200, 'a new one works');

  await call(port, 'POST', '/operadores', { nome: 'joao', senha: 'cavalo-bateria-grampo' }, AS_OPERATOR);
  const joao = bearer((await call(port, 'POST', '/sessao/operador', { nome: 'joao', senha: 'cavalo-bateria-grampo' })).json().token as string);
  t.equal((await call(port, 'GET', '/sessao', undefined, joao)).status, 200);
  t.equal((await call(port, 'PATCH', '/operadores/joao', { ativo: false }, AS_OPERATOR)).json().ativo, false);
  t.equal((await call(port, 'GET', '/sessao', undefined, joao)).status, 401, 'a disabled account\'s token stops');
  t.equal((await call(port, 'POST', '/sessao/operador', { nome: 'joao', senha: 'cavalo-bateria-grampo' })).status, 401, 'and it cannot sign in');
  await call(port, 'PATCH', '/operadores/joao', { ativo: true }, AS_OPERATOR);
  t.equal((await call(port, 'GET', '/sessao', undefined, joao)).status, 401, 'enabled again: the old token stays revoked');
  const joaoAgain = bearer((await call(port, 'POST', '/sessao/operador', { nome: 'joao', senha: 'cavalo-bateria-grampo' })).json().token as string);
  t.equal((await call(port, 'POST', '/sessao/encerrar', undefined, joaoAgain)).status, 200, 'signs out');
  t.equal((await call(port, 'GET', '/sessao', undefined, joaoAgain)).status, 401, 'its token stops');
  t.equal((await call(port, 'POST', '/sessao/encerrar', undefined, AS_OPERATOR)).status, 400, 'the bootstrap token is revoked by changing the configuration');

  await server.close();
  server = await startTestServer(t, { dataDir });
  port = server.http.port;
  t.equal((await call(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 130 }, before)).status, 401, 'revoked before the restart: still revoked');
  t.equal((await call(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 130 }, after)).status, 200, 'the current one still works');
  t.equal((await call(port, 'GET', '/sessao', undefined, joaoAgain)).status, 401);
  const log = (await call(port, 'GET', '/auditoria?limite=1000', undefined, AS_OPERATOR)).json().registros as Array<{ ator: string; acao: string }>;
  t.ok(log.some((e) => e.ator === 'cliente:13456789' && e.acao === 'POST /clientes/{matricula}/senha'), 'the audit log survives the restart');
  t.ok(log.some((e) => e.ator === 'operador' && e.acao === 'PATCH /operadores/{nome}'));
});
