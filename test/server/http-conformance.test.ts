/**
 * HTTP conformance found by llhttp's request corpus and REDbot, over real
 * sockets: errors to HEAD without a body, caching headers, ETag
 * revalidation, 414, and refused methods counted under their route.
 */
import t from 'tap';
import { AS_OPERATOR, call, exchange, request, startTestServer } from '../helpers.js';
import { STATUS_TEXT } from '../../protocol/http/response.js';
import { WIRE_ERRORS } from '../../server/http/error-codes.js';

t.test('an error answer to HEAD carries no body, from a route or from the parser (RFC 9110 §9.3.2)', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const fromRoute = await exchange(port, [request('HEAD', '/medicoes/ultima-medicao?matricula=abc')], { count: 1, headOnly: [true] });
  t.equal(fromRoute.responses[0]?.status, 422);
  t.match(fromRoute.raw.toString('latin1'), /\r\n\r\n$/, 'nothing after the head');
  const fromParser = await exchange(port, ['HEAD / HTTP/1.1\r\nHost: a b\r\n\r\n'], { waitForClose: true });
  const text = fromParser.raw.toString('latin1');
  t.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.match(text, /Content-Length: \d+\r\n/, 'the length a GET would have had');
  t.match(text, /\r\n\r\n$/, 'but no body');
  t.ok(fromParser.closed);
});

t.test('a request-target over 8 KiB answers 414 url_muito_longa', async (t) => {
  const server = await startTestServer(t);
  const answer = await exchange(server.http.port, [`GET /medicoes?x=${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`], { waitForClose: true });
  t.equal(answer.responses[0]?.status, 414);
  t.equal(answer.responses[0]?.json().erro.codigo, 'url_muito_longa');
});

t.test('API answers are not stored by caches; the dashboard carries an ETag and answers 304 to it', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  for (const target of ['/validacao-usuario?matricula=13456789', '/medicoes/ultima-medicao?matricula=404', '/clientes', '/saude', '/nada']) {
    t.equal((await call(port, 'GET', target)).headers.get('cache-control'), 'no-store', target);
  }
  const page = await call(port, 'GET', '/');
  const etag = page.headers.get('etag') as string;
  t.match(etag, /^"[\w-]{22}"$/);
  t.equal(page.headers.get('cache-control'), 'no-cache', 'static files are revalidated, not refused to caches');
  const again = await exchange(port, [request('GET', '/', { headers: { 'If-None-Match': `"other", W/${etag}` } })], { count: 1 });
  t.equal(again.responses[0]?.status, 304);
  t.equal(again.responses[0]?.headers.get('etag'), etag);
  t.equal(again.responses[0]?.headers.get('content-length'), undefined);
  t.equal(again.responses[0]?.body, '');
  const changed = await exchange(port, [request('GET', '/painel/main.js', { headers: { 'If-None-Match': etag } })], { count: 1 });
  t.equal(changed.responses[0]?.status, 200, 'another file\'s tag does not match');
});

t.test('a refused method on a known path is counted under its route, not (desconhecida)', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  t.equal((await call(port, 'DELETE', '/gerar-fatura')).status, 405);
  t.equal((await call(port, 'PUT', '/clientes/13456789/senha')).status, 405);
  const metrics = (await call(port, 'GET', '/metricas')).body;
  t.match(metrics, /consumo_http_requisicoes_total\{rota="\/gerar-fatura",status="405"\} 1/);
  t.match(metrics, /consumo_http_requisicoes_total\{rota="\/clientes\/\{matricula\}\/senha",status="405"\} 1/);
});

t.test('username lengths count characters, not UTF-16 units', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const emoji = '😀'.repeat(100);
  t.equal((await call(port, 'POST', '/clientes', { username: emoji, matricula: '777' }, AS_OPERATOR)).status, 201, '100 characters (200 UTF-16 units)');
  t.equal((await call(port, 'POST', '/clientes', { username: `${emoji}x`, matricula: '778' }, AS_OPERATOR)).status, 422, '101 characters');
  t.equal((await call(port, 'POST', '/clientes', { username: '\ud800abc', matricula: '779' }, AS_OPERATOR)).status, 422, 'a lone surrogate is no character');
});

t.test('every status the server sends carries its RFC 9110 reason phrase (regression, issue 26: 202 Unknown)', async (t) => {
  // RFC 9110 §15 (and RFC 6585 for 429, 431), as the RFC writes them.
  const RFC_9110: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 413: 'Content Too Large', 414: 'URI Too Long', 417: 'Expectation Failed', 422: 'Unprocessable Content', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported' };
  const sent = new Set<number>([200, 201, 202, 204, 304, 100, ...Object.values(WIRE_ERRORS).filter((status) => status !== 499)]);
  for (const status of sent) t.equal(STATUS_TEXT[status], RFC_9110[status] ?? STATUS_TEXT[status], `${status} ${STATUS_TEXT[status] ?? '(none)'}`);
  for (const status of sent) t.ok(STATUS_TEXT[status] !== undefined, `${status} has a phrase`);
  const server = await startTestServer(t);
  const accepted = await exchange(server.http.port, [request('POST', '/medidores/13456789/comandos', { headers: { ...AS_OPERATOR, 'Content-Type': 'application/json' }, body: '{"tipo":"leitura"}' })], { count: 1 });
  t.match(accepted.raw.toString('latin1'), /^HTTP\/1\.1 202 Accepted\r\n/, 'a command accepted: 202 Accepted, on the wire');
});
