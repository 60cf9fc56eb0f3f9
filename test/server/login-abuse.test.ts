/**
 * Hostile clients against login: each attack that once worked, as a
 * regression test named after it, over real sockets.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { connect } from 'node:net';
import { MAX_ATTEMPTS_PER_SOURCE, MAX_FAILURES_PER_CUSTOMER } from '../../domain/auth/login-limits.js';
import { AS_OPERATOR, call, exchange, parseResponses, request, startLoggedServer, startTestServer, tempDir, type RawResponse } from '../helpers.js';

const OPERATOR = 'operador-'.padEnd(40, 'k');
const TOKENS_REQUIRED = { AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: OPERATOR };

async function post(port: number, target: string, fields: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawResponse> {
  const body = JSON.stringify(fields);
  const result = await exchange(port, [request('POST', target, { headers: { 'Content-Type': 'application/json', ...headers }, body })], { count: 1 });
  return result.responses[0] as RawResponse;
}

const asOperator = { Authorization: `Bearer ${OPERATOR}` };

t.test('free token: the matricula alone issues no token, with tokens required or not', async (t) => {
  for (const env of [TOKENS_REQUIRED, {}]) {
    const server = await startTestServer(t, { env });
    const answer = await post(server.http.port, '/validacao-usuario', { matricula: '13456789' });
    if (env === TOKENS_REQUIRED) t.same([answer.status, answer.json().erro.codigo], [422, 'dados_invalidos'], 'with tokens required, a lookup without senha tells nothing');
    else t.same([answer.status, answer.json()], [200, { valido: true, username: 'amancio123', matricula: '13456789' }], 'the original meaning, no token');
    const token = answer.json().token;
    t.equal(token, undefined);
    const read = await exchange(server.http.port, [request('GET', '/medicoes/ultima-medicao?matricula=13456789')], { count: 1 });
    if (env === TOKENS_REQUIRED) t.equal(read.responses[0]?.status, 401, 'nothing to read without a token');
  }
});

t.test('a password set at registration logs in; a wrong one and an unknown customer get the same 401', async (t) => {
  const server = await startTestServer(t, { env: TOKENS_REQUIRED });
  const port = server.http.port;
  const created = await post(port, '/clientes', { username: 'joana', matricula: '22334455', senha: 'correta-e-longa' }, asOperator);
  t.same([created.status, created.json()], [201, { username: 'joana', matricula: '22334455', ligacao: 'monofasica', modalidade: 'convencional', dia_leitura: 1, tarifa_social: false, senha_definida: true }], 'the password is never echoed');
  const login = await post(port, '/validacao-usuario', { username: 'joana', senha: 'correta-e-longa' });
  t.equal(login.status, 200);
  t.match(login.json().token, /^eyJ/);
  const own = await exchange(port, [request('GET', '/medicoes/ultima-medicao?matricula=22334455', { headers: { Authorization: `Bearer ${login.json().token}` } })], { count: 1 });
  t.equal(own.responses[0]?.status, 404, 'the token reads its own matricula (no readings yet)');

  const wrong = await post(port, '/validacao-usuario', { username: 'joana', senha: 'errada-mas-longa' });
  const unknown = await post(port, '/validacao-usuario', { username: 'ninguem', senha: 'errada-mas-longa' });
  const noPassword = await post(port, '/validacao-usuario', { username: 'amancio123', senha: 'errada-mas-longa' });
  for (const answer of [wrong, unknown, noPassword]) t.same([answer.status, answer.body], [401, wrong.body], 'one answer for every failure');
  t.equal(wrong.json().erro.codigo, 'credenciais_invalidas');

  const inUrl = await call(port, 'GET', '/validacao-usuario?username=joana&senha=correta-e-longa');
  t.same([inUrl.status, inUrl.json().erro.codigo], [400, 'senha_na_url'], 'a password in the URL is refused');
  const short = await post(port, '/clientes', { username: 'curta', matricula: '5', senha: 'curta' }, asOperator);
  t.same([short.status, short.json().erro.detalhes], [422, [{ campo: 'senha', problema: 'deve ter de 8 a 128 caracteres' }]]);
  const emoji = await post(port, '/clientes', { username: 'emoji', matricula: '6', senha: '🔑🔑🔑🔑🔑🔑🔑🔑' }, asOperator);
  t.equal(emoji.status, 201, 'length counts characters, not UTF-16 units');
});

t.test('an unknown customer costs the same work as a wrong password (no timing oracle)', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  await post(port, '/clientes', { username: 'tempo', matricula: '31', senha: 'correta-e-longa' }, AS_OPERATOR);
  const time = async (username: string): Promise<number> => {
    const started = performance.now();
    await post(port, '/validacao-usuario', { username, senha: 'errada-mas-longa' });
    return performance.now() - started;
  };
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 4; i++) {
    known.push(await time('tempo'));
    unknown.push(await time(`ninguem${i}`));
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
  // scrypt dominates both: an unknown name that skipped it would answer in well under a millisecond.
  t.ok(median(unknown) > median(known) / 3, `unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`);
});

t.test('password guessing: the 6th failure for one customer within 15 minutes gets 429 with Retry-After', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  await post(port, '/clientes', { username: 'alvo', matricula: '41', senha: 'correta-e-longa' }, AS_OPERATOR);
  for (let i = 0; i < MAX_FAILURES_PER_CUSTOMER; i++) t.equal((await post(port, '/validacao-usuario', { username: 'alvo', senha: `chute-${i}-longo` })).status, 401);
  const limited = await post(port, '/validacao-usuario', { matricula: '41', senha: 'correta-e-longa' });
  t.same([limited.status, limited.json().erro.codigo], [429, 'muitas_tentativas'], 'even the right password, by the other identifier');
  const retryAfter = Number(limited.headers.get('retry-after'));
  t.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter} s: until the oldest failure is 15 minutes old`);
  t.equal((await post(port, '/validacao-usuario', { username: 'amancio123', senha: 'outra-senha-longa' })).status, 401, 'other customers are not locked out');
});

t.test('spraying: more than 30 attempts a minute from one address get 429', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const statuses: number[] = [];
  for (let i = 0; i <= MAX_ATTEMPTS_PER_SOURCE; i++) statuses.push((await post(port, '/validacao-usuario', { username: `spray${i}`, senha: 'senha-comum-123' })).status);
  t.same(statuses.slice(0, MAX_ATTEMPTS_PER_SOURCE), Array(MAX_ATTEMPTS_PER_SOURCE).fill(401));
  const last = await post(port, '/validacao-usuario', { username: 'outro', senha: 'senha-comum-123' });
  t.same([last.status, last.json().erro.codigo], [429, 'muitas_tentativas']);
  t.ok(Number(last.headers.get('retry-after')) >= 1 && Number(last.headers.get('retry-after')) <= 60);
});

t.test('POST /clientes/{matricula}/senha: operator resets; a customer needs its token and the current password', async (t) => {
  const server = await startTestServer(t, { env: TOKENS_REQUIRED });
  const port = server.http.port;
  t.equal((await post(port, '/clientes/13456789/senha', { senha: 'primeira-senha' })).status, 401, 'no credentials');
  const set = await post(port, '/clientes/13456789/senha', { senha: 'primeira-senha' }, asOperator);
  t.same([set.status, set.json()], [200, { matricula: '13456789', senha_definida: true }]);
  t.equal((await post(port, '/clientes/404/senha', { senha: 'primeira-senha' }, asOperator)).status, 404, 'no such customer');
  const token = (await post(port, '/validacao-usuario', { matricula: '13456789', senha: 'primeira-senha' })).json().token as string;
  const asCustomer = { Authorization: `Bearer ${token}` };
  const missing = await post(port, '/clientes/13456789/senha', { senha: 'segunda-senha' }, asCustomer);
  t.same([missing.status, missing.json().erro.detalhes], [422, [{ campo: 'senha_atual', problema: 'obrigatória sem o token de operador' }]]);
  t.equal((await post(port, '/clientes/13456789/senha', { senha: 'segunda-senha', senha_atual: 'nao-e-esta' }, asCustomer)).status, 401);
  t.equal((await post(port, '/clientes/09812389/senha', { senha: 'segunda-senha', senha_atual: 'primeira-senha' }, asCustomer)).status, 403, 'another customer');
  t.equal((await post(port, '/clientes/13456789/senha', { senha: 'segunda-senha', senha_atual: 'primeira-senha' }, asCustomer)).status, 200);
  t.equal((await post(port, '/validacao-usuario', { matricula: '13456789', senha: 'primeira-senha' })).status, 401, 'the old password no longer works');
  t.equal((await post(port, '/validacao-usuario', { matricula: '13456789', senha: 'segunda-senha' })).status, 200);
  const get = await call(port, 'GET', '/clientes/13456789/senha');
  t.equal(get.status, 405, 'only POST');
});

t.test('an open API still needs the operator token, or the customer\'s own token and current password, to change a password', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const takeover = await post(port, '/clientes/13456789/senha', { senha: 'senha-do-atacante' });
  t.same([takeover.status, takeover.json().erro.codigo], [401, 'nao_autenticado'], 'no credential: refused');
  const withOld = await post(port, '/clientes/13456789/senha', { senha: 'senha-do-atacante', senha_atual: 'qualquer-uma-longa' });
  t.equal(withOld.status, 401, 'a current password alone is no credential');
  t.equal(await server.stores.store.passwordHash('13456789'), undefined, 'nothing was set');
});

t.test('passwords are never logged or stored in the clear; the file is readable by its owner only', async (t) => {
  const dataDir = await tempDir(t);
  const { server, lines } = await startLoggedServer(t, { dataDir, env: { LOG_LEVEL: 'debug' } });
  const port = server.http.port;
  await post(port, '/clientes', { username: 'segredo', matricula: '51', senha: 'nunca-no-log-123' }, AS_OPERATOR);
  await post(port, '/validacao-usuario', { username: 'segredo', senha: 'tambem-nunca-no-log' });
  await server.close();
  t.notMatch(JSON.stringify(lines), /nunca-no-log|tambem-nunca/);
  const stored = await readFile(join(dataDir, 'senhas.txt'), 'latin1');
  t.match(stored, /^51;scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n$/);
  t.notMatch(stored, /nunca-no-log/);
  const { stat } = await import('node:fs/promises');
  t.equal((await stat(join(dataDir, 'senhas.txt'))).mode & 0o777, 0o600);
});

t.test('nobody can lock the owner out (regression, issue 26: guesses from 10 addresses made 8 of 15 of a real customer\'s logins fail)', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  await post(port, '/clientes', { username: 'dona', matricula: '61', senha: 'correta-e-longa' }, AS_OPERATOR);
  const from = async (address: string, fields: Record<string, unknown>): Promise<RawResponse> => {
    const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', localAddress: address });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const body = JSON.stringify(fields);
    socket.write(request('POST', '/validacao-usuario', { headers: { 'Content-Type': 'application/json', Connection: 'close' }, body }));
    const text = await new Promise<string>((resolve) => {
      let all = '';
      socket.on('data', (chunk: Buffer) => (all += chunk.toString('latin1')));
      socket.on('close', () => resolve(all));
    });
    return parseResponses(Buffer.from(text, 'latin1')).responses[0] as RawResponse;
  };
  // Six addresses, five guesses each: the account's cap of 30 guesses an hour is reached.
  for (let a = 2; a < 8; a++) {
    for (let i = 0; i < MAX_FAILURES_PER_CUSTOMER; i++) await from(`127.0.0.${a}`, { username: 'dona', senha: `chute-${a}-${i}-longo` });
    t.equal((await from(`127.0.0.${a}`, { username: 'dona', senha: 'correta-e-longa' })).status, 429, `127.0.0.${a}, after its failures, waits`);
  }
  const owner = await from('127.0.0.50', { username: 'dona', senha: 'correta-e-longa' });
  t.same([owner.status, owner.json().matricula], [200, '61'], 'the owner, from an address with no failures, logs in');
  for (let a = 12; a < 15; a++) t.equal((await from(`127.0.0.${a}`, { username: 'dona', senha: `chute-novo-${a}` })).status, 401, `a fresh address gets its guess (${a})`);
  t.equal((await from('127.0.0.12', { username: 'dona', senha: 'chute-de-novo-12' })).status, 429, 'and only one, past the cap');
  const capped = await from('127.0.0.7', { username: 'dona', senha: 'outro-chute-longo' });
  t.equal(capped.status, 429, 'past the account\'s cap, addresses that failed wait');
  t.equal((await from('127.0.0.51', { username: 'dona', senha: 'correta-e-longa' })).status, 200, 'and the owner still logs in from a clean address');
});

t.test('lookups without a password are limited per address, and with obrigatoria tell nothing', async (t) => {
  const open = await startTestServer(t, { env: { VALIDACAO_CONSULTAS_POR_MINUTO: '5' } });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await post(open.http.port, '/validacao-usuario', { matricula: String(13456780 + i) })).status);
  t.same(statuses.slice(0, 5).every((status) => status === 200 || status === 404), true);
  const limited = await post(open.http.port, '/validacao-usuario', { matricula: '13456789' });
  t.same([limited.status, limited.json().erro.codigo], [429, 'muitas_tentativas'], 'past 5 a minute');
  t.ok(Number(limited.headers.get('retry-after')) >= 1, 'with Retry-After');
  const closed = await startTestServer(t, { env: { AUTENTICACAO_API: 'obrigatoria' } });
  const known = await post(closed.http.port, '/validacao-usuario', { matricula: '13456789' });
  const unknown = await post(closed.http.port, '/validacao-usuario', { matricula: '404404' });
  t.same([known.status, known.body], [unknown.status, unknown.body], 'the same answer for a customer and for nobody');
  t.same(known.json().erro.detalhes, [{ campo: 'senha', problema: 'obrigatória com AUTENTICACAO_API=obrigatoria' }]);
});

t.test('common passwords are refused: 422 senha_fraca (the list is @zxcvbn-ts/language-common\'s)', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  for (const weak of ['password123', 'iloveyou', '12345678', 'Qwertyuiop']) {
    const answer = await post(port, '/clientes', { username: `fraca-${weak}`, matricula: String(700 + weak.length), senha: weak }, AS_OPERATOR);
    t.same([answer.status, answer.json().erro.codigo], [422, 'senha_fraca'], weak);
  }
  t.same((await post(port, '/clientes', { username: 'nome-comprido', matricula: '801', senha: 'nome-comprido' }, AS_OPERATOR)).json().erro.codigo, 'senha_fraca', 'the username itself');
  t.equal((await post(port, '/clientes', { username: 'boa', matricula: '802', senha: 'cavalo-bateria-grampo' }, AS_OPERATOR)).status, 201);
  t.equal((await post(port, '/clientes/802/senha', { senha: 'password1' }, AS_OPERATOR)).json().erro.codigo, 'senha_fraca', 'nor as a new password');
  t.same(await server.stores.store.findCustomers({ matricula: '801' }), [], 'nothing registered with a weak one');
});
