import type { Test } from 'tap';
import type { Reading } from '../../protocol/meter-protocol.js';
import { AS_OPERATOR, call, exchange, request, startTestServer, type RawResponse } from '../helpers.js';
import type { Backend } from '../backends.js';

const at = (minute: number): number => Date.UTC(2026, 10, 20, 23, minute);
const iso = (minute: number): string => new Date(at(minute)).toISOString();
const readings = (matricula: string, registers: readonly string[]): Reading[] =>
  registers.map((register, i) => ({ matricula, timestamp: at(i), consumo: BigInt(Math.round(Number(register) * 1000)) }));

/** Every answer is complete HTTP/1.1: Date, JSON content type, exact byte length. */
function checkWellFormed(t: Test, response: RawResponse): void {
  t.ok(response.headers.has('date'), 'Date header');
  // Regression (issue 26): every answer carried Access-Control-Allow-Origin: *, so any page could read the API.
  t.not(response.headers.get('access-control-allow-origin'), '*', 'never a wildcard origin');
  if (response.status !== 204) {
    t.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    t.equal(Number(response.headers.get('content-length')), Buffer.byteLength(response.body), 'Content-Length counts bytes');
  }
}

/** The API end to end over real sockets, on the backend given. */
export async function httpApiSuite(t: Test, backend: Backend): Promise<void> {
  const server = await startTestServer(t, { env: { ...(await backend.env(t)), TARIFA: '0.1', CORS_ORIGENS: 'http://app, https://painel.exemplo.com.br:8443' } });
  const port = server.http.port;
  await server.stores.store.append([
    ...readings('13456789', ['100', '110', '120', '130', '160.3']), // last period 30.3 vs mean 10: alert
    ...readings('55667788', ['0', '10', '20', '30', '40']), // flat: no alert
    ...readings('98765432', ['100', '90']), // register went down
    ...readings('11223344', ['5']),
    ...readings('00000001', ['0', '0.3']),
  ]);

  for (const method of ['POST', 'GET'] as const) {
    const ask = (path: string, fields: Record<string, unknown>): Promise<RawResponse> =>
      method === 'POST' ? call(port, 'POST', path, fields) : call(port, 'GET', `${path}?${new URLSearchParams(fields as Record<string, string>)}`);

    t.test(`${method} /validacao-usuario`, async (t) => {
      const ok = await ask('/validacao-usuario', { username: 'amancio123', matricula: '13456789' });
      checkWellFormed(t, ok);
      t.equal(ok.status, 200);
      t.same(ok.json(), { valido: true, username: 'amancio123', matricula: '13456789' }, 'the original\'s answer: no token without a password');
      t.has((await ask('/validacao-usuario', { username: 'dani' })).json(), { valido: true, username: 'dani', matricula: '09812389' });
      t.has((await ask('/validacao-usuario', { matricula: '09812389' })).json(), { valido: true, username: 'dani', matricula: '09812389' });
      const wrong = await ask('/validacao-usuario', { username: 'dani', matricula: '9812389' });
      t.same([wrong.status, (wrong.json() as { erro: { codigo: string } }).erro.codigo], [404, 'usuario_nao_cadastrado']);
      const empty = await ask('/validacao-usuario', {});
      t.same([empty.status, (empty.json() as { erro: { codigo: string } }).erro.codigo], [422, 'dados_invalidos']);
    });

    t.test(`${method} /medicoes/ultima-medicao`, async (t) => {
      const ok = await ask('/medicoes/ultima-medicao', { matricula: '13456789' });
      checkWellFormed(t, ok);
      t.same([ok.status, ok.json()], [200, { matricula: '13456789', data_hora: iso(4), consumo: 160.3, qualidade: ['valida'] }]);
      t.match(ok.body, '"consumo":160.3,', 'exact decimal on the wire');
      const none = await ask('/medicoes/ultima-medicao', { matricula: '13456780' });
      t.same([none.status, none.json()], [404, { erro: { codigo: 'sem_medicoes', mensagem: 'Nenhuma medição armazenada para a matrícula 13456780.' } }]);
      t.same((await ask('/medicoes/ultima-medicao', { matricula: '1' })).status, 404, 'leading zeros are significant');
    });

    t.test(`${method} /gerar-fatura`, async (t) => {
      const ok = await ask('/gerar-fatura', { matricula: '13456789' });
      checkWellFormed(t, ok);
      t.same([ok.status, ok.json()], [
        200,
        {
          matricula: '13456789',
          periodo: { inicio: iso(3), fim: iso(4) },
          leitura_anterior: 130,
          leitura_atual: 160.3,
          consumo: 30.3,
          tarifa: 0.1,
          valor_pagamento: 3.03,
          co2e_kg: 1.167,
        },
      ]);
      t.equal((await ask('/gerar-fatura', { matricula: '00000001' })).json().valor_pagamento, 0.03, '0.3 x 0.1 = 0.03 exactly');
      const few = await ask('/gerar-fatura', { matricula: '11223344' });
      t.same([few.status, few.json().erro.codigo], [409, 'medicoes_insuficientes']);
      const down = await ask('/gerar-fatura', { matricula: '98765432' });
      t.same([down.status, down.json().erro.codigo], [409, 'leituras_inconsistentes']);
    });

    t.test(`${method} /alerta-consumo`, async (t) => {
      const fires = await ask('/alerta-consumo', { matricula: '13456789' });
      checkWellFormed(t, fires);
      t.same([fires.status, fires.json()], [
        200,
        {
          matricula: '13456789',
          alerta: true,
          consumo_ultimo_periodo: 30.3,
          media_periodos_anteriores: 10,
          limite: 15,
          excesso_consumo: 20.3,
          periodos: [10, 10, 10, 30.3],
        },
      ]);
      const calm = await ask('/alerta-consumo', { matricula: '55667788' });
      t.same(calm.json(), { matricula: '55667788', alerta: false, consumo_ultimo_periodo: 10, media_periodos_anteriores: 10, limite: 15, excesso_consumo: 0, periodos: [10, 10, 10, 10] });
      const few = await ask('/alerta-consumo', { matricula: '98765432' });
      t.same([few.status, few.json().erro.codigo], [409, 'medicoes_insuficientes']);
    });
  }

  t.test('/clientes: register (201, 409 naming the taken field, 422), list a page at a time, find by field', async (t) => {
    const before = (await call(port, 'GET', '/clientes?limite=1000')).json().clientes as Array<{ username: string; matricula: string }>;
    const created = await call(port, 'POST', '/clientes', { username: 'nova', matricula: '77777777' }, AS_OPERATOR);
    checkWellFormed(t, created);
    const defaults = { ligacao: 'monofasica', modalidade: 'convencional', dia_leitura: 1, tarifa_social: false };
    t.same([created.status, created.json()], [201, { username: 'nova', matricula: '77777777', ...defaults, senha_definida: false }]);
    t.equal(created.headers.get('location'), '/clientes/77777777');
    t.same((await call(port, 'GET', '/clientes/77777777')).json(), { username: 'nova', matricula: '77777777', ...defaults }, 'the Location answers');
    t.has((await call(port, 'GET', '/validacao-usuario?username=nova')).json(), { valido: true, matricula: '77777777' }, 'the new customer is valid at once');
    const taken = await call(port, 'POST', '/clientes', { username: 'nova', matricula: '13456789' }, AS_OPERATOR);
    t.same([taken.status, taken.json().erro.codigo], [409, 'cliente_existente']);
    t.same(taken.json().erro.detalhes.map((d: { campo: string }) => d.campo), ['username', 'matricula']);
    const invalid = await call(port, 'POST', '/clientes', { username: 'a;b', matricula: 'x' }, AS_OPERATOR);
    t.same([invalid.status, invalid.json().erro.detalhes.map((d: { campo: string }) => d.campo)], [422, ['username', 'matricula']]);
    t.same((await call(port, 'POST', '/clientes', { username: 'sem-matricula' }, AS_OPERATOR)).status, 422);
    const all = [...before, { username: 'nova', matricula: '77777777', ...defaults }];
    const first = await call(port, 'GET', '/clientes?limite=2');
    t.same(first.json(), { clientes: all.slice(0, 2), pagina: 1, limite: 2, proxima: '/clientes?limite=2&pagina=2' });
    const lastPage = Math.ceil(all.length / 2);
    const last = await call(port, 'GET', `/clientes?limite=2&pagina=${lastPage}`);
    t.same(last.json().clientes, all.slice((lastPage - 1) * 2));
    t.equal(last.json().proxima, null);
    t.same((await call(port, 'GET', '/clientes?matricula=77777777')).json().clientes, [{ username: 'nova', matricula: '77777777', ...defaults }]);
    t.same((await call(port, 'GET', '/clientes?limite=0')).status, 422);
    t.same((await call(port, 'GET', '/clientes?limite=1001')).status, 422);
  });

  t.test('/clientes: the billing profile at registration and by PATCH (operator); tarifa social is not for branca', async (t) => {
    const created = await call(port, 'POST', '/clientes', { username: 'perfil', matricula: '66666666', ligacao: 'trifasica', modalidade: 'branca', dia_leitura: 20 }, AS_OPERATOR);
    t.same(created.json(), { username: 'perfil', matricula: '66666666', ligacao: 'trifasica', modalidade: 'branca', dia_leitura: 20, tarifa_social: false, senha_definida: false });
    const patched = await call(port, 'PATCH', '/clientes/66666666', { modalidade: 'convencional', tarifa_social: true }, AS_OPERATOR);
    t.same([patched.status, patched.json()], [200, { username: 'perfil', matricula: '66666666', ligacao: 'trifasica', modalidade: 'convencional', dia_leitura: 20, tarifa_social: true }], 'what is not sent keeps its value');
    const branca = await call(port, 'PATCH', '/clientes/66666666', { modalidade: 'branca' }, AS_OPERATOR);
    t.same([branca.status, branca.json().erro.detalhes], [422, [{ campo: 'tarifa_social', problema: 'a tarifa social não se aplica à modalidade branca' }]]);
    const bad = await call(port, 'PATCH', '/clientes/66666666', { dia_leitura: 29, ligacao: 'quadrifasica' }, AS_OPERATOR);
    t.same(bad.json().erro.detalhes.map((d: { campo: string }) => d.campo), ['ligacao', 'dia_leitura']);
    t.equal((await call(port, 'PATCH', '/clientes/55555500', { dia_leitura: 5 }, AS_OPERATOR)).status, 404);
    t.equal((await call(port, 'GET', '/clientes/66666666')).json().tarifa_social, true);
  });

  t.test('matricula: a JSON number becomes its digits; bad values are 422 with details', async (t) => {
    t.same((await call(port, 'POST', '/medicoes/ultima-medicao', '{"matricula": 13456789}')).json().matricula, '13456789');
    for (const [body, problem] of [
      ['{"matricula": "12a"}', 'deve ter de 1 a 20 dígitos'],
      ['{"matricula": "123456789012345678901"}', 'deve ter de 1 a 20 dígitos'],
      ['{"matricula": -1}', 'não pode ser negativa'],
      ['{"matricula": 1.5}', 'deve ser um número inteiro'],
      ['{"matricula": 12345678901234567890}', 'número grande demais para JSON exato; envie como texto'],
      ['{"matricula": null}', 'deve ser um texto de 1 a 20 dígitos'],
      ['{}', 'campo obrigatório'],
    ] as const) {
      const response = await call(port, 'POST', '/gerar-fatura', body);
      t.same([response.status, response.json()], [422, { erro: { codigo: 'dados_invalidos', mensagem: 'Dados inválidos na requisição.', detalhes: [{ campo: 'matricula', problema: problem }] } }], body);
    }
    const array = await call(port, 'POST', '/gerar-fatura', '[1]');
    t.same([array.status, array.json().erro.codigo], [422, 'dados_invalidos']);
  });

  t.test('bodies: invalid JSON is 400 json_invalido; form-encoded and curl -d JSON work', async (t) => {
    const bad = await call(port, 'POST', '/gerar-fatura', '{"matricula": ');
    t.same([bad.status, bad.json()], [400, { erro: { codigo: 'json_invalido', mensagem: 'O corpo não é JSON válido.' } }]);
    const notUtf8 = await exchange(port, [Buffer.concat([Buffer.from(request('POST', '/gerar-fatura', { body: 'xx' }).slice(0, -2)), Buffer.from([0xff, 0xfe])])], { count: 1 });
    t.equal(notUtf8.responses[0]?.json().erro.codigo, 'json_invalido');
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const asForm = await exchange(port, [request('POST', '/medicoes/ultima-medicao', { headers: form, body: 'matricula=13456789' })], { count: 1 });
    t.equal(asForm.responses[0]?.json().consumo, 160.3);
    const curlStyle = await exchange(port, [request('POST', '/medicoes/ultima-medicao', { headers: form, body: '{"matricula":"13456789"}' })], { count: 1 });
    t.equal(curlStyle.responses[0]?.json().consumo, 160.3);
    const queryAndBody = await call(port, 'POST', '/medicoes/ultima-medicao?matricula=55667788', '');
    t.equal(queryAndBody.json().matricula, '55667788', 'POST without a body reads the query string');
  });

  t.test('unknown path 404, wrong method 405 with Allow, OPTIONS and CORS preflight', async (t) => {
    const missing = await call(port, 'GET', '/nada');
    checkWellFormed(t, missing);
    t.same([missing.status, missing.json().erro.codigo], [404, 'rota_nao_encontrada']);
    const wrong = await call(port, 'DELETE', '/gerar-fatura');
    t.same([wrong.status, wrong.json().erro.codigo, wrong.headers.get('allow')], [405, 'metodo_nao_permitido', 'GET, HEAD, POST, OPTIONS']);
    const proto = await call(port, 'toString', '/gerar-fatura');
    t.equal(proto.status, 405, 'method names are not looked up on prototypes');
    const preflight = await exchange(port, [request('OPTIONS', '/alerta-consumo', { headers: { Origin: 'http://app', 'Access-Control-Request-Method': 'POST' } })], { count: 1 });
    const options = preflight.responses[0]!;
    checkWellFormed(t, options);
    t.equal(options.status, 204);
    t.equal(options.headers.get('allow'), 'GET, HEAD, POST, OPTIONS');
    t.equal(options.headers.get('access-control-allow-methods'), 'GET, HEAD, POST, OPTIONS');
    t.match(options.headers.get('access-control-allow-headers') ?? '', /Content-Type/);
    t.same([options.headers.get('access-control-allow-origin'), options.headers.get('vary')], ['http://app', 'Origin'], 'a listed origin, named back');
    const listed = await exchange(port, [request('GET', '/alerta-consumo?matricula=13456789', { headers: { Origin: 'HTTPS://painel.exemplo.com.br:8443' } })], { count: 1 });
    t.equal(listed.responses[0]?.headers.get('access-control-allow-origin'), 'https://painel.exemplo.com.br:8443', 'origins compare without case');
    const foreign = await exchange(port, [request('OPTIONS', '/alerta-consumo', { headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } })], { count: 1 });
    t.equal(foreign.responses[0]?.status, 204);
    for (const name of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers']) t.equal(foreign.responses[0]?.headers.get(name), undefined, `${name}: not for an unlisted origin`);
    t.notOk(options.headers.has('content-length'), 'no Content-Length on 204');
    const star = await call(port, 'OPTIONS', '*');
    t.same([star.status, star.headers.get('allow')], [204, 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']);
    const encoded = await call(port, 'GET', '/medicoes%2Fultima-medicao?matricula=13456789');
    t.equal(encoded.status, 200, 'percent-encoded paths are decoded before matching');
    const badEncoding = await call(port, 'GET', '/%E0%A4%A');
    t.equal(badEncoding.status, 400);
  });

  t.test('HEAD answers the headers of GET without a body', async (t) => {
    const target = '/alerta-consumo?matricula=13456789';
    const get = await call(port, 'GET', target);
    const result = await exchange(port, [request('HEAD', target), request('GET', target)], { count: 2, headOnly: [true, false] });
    const [head, after] = result.responses;
    t.equal(head?.status, 200);
    t.equal(head?.headers.get('content-length'), String(Buffer.byteLength(get.body)));
    t.equal(head?.body, '');
    t.equal(after?.body, get.body, 'the next response starts right after the HEAD headers');
  });

  t.test('keep-alive: many requests on one connection; HTTP/1.0 closes unless asked', async (t) => {
    const chunks = Array.from({ length: 5 }, () => request('GET', '/medicoes/ultima-medicao?matricula=13456789'));
    const kept = await exchange(port, chunks, { count: 5, pauseMs: 20 });
    t.equal(kept.responses.length, 5);
    t.notOk(kept.closed, 'HTTP/1.1 stays open');
    const old = await exchange(port, ['GET /medicoes/ultima-medicao?matricula=13456789 HTTP/1.0\r\n\r\n'], { count: 1, waitForClose: true });
    t.same([old.responses[0]?.status, old.responses[0]?.headers.get('connection'), old.closed], [200, 'close', true]);
    const oldKept = await exchange(port, ['GET /medicoes/ultima-medicao?matricula=13456789 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], { count: 1, timeoutMs: 500 });
    t.same([oldKept.responses[0]?.headers.get('connection'), oldKept.closed], ['keep-alive', false]);
    const closing = await exchange(port, [request('GET', '/medicoes/ultima-medicao?matricula=1', { headers: { Connection: 'close' } }), request('GET', '/nada')], { count: 1, waitForClose: true });
    t.same([closing.responses.length, closing.closed], [1, true], 'nothing is answered after Connection: close');
  });

  t.test('pipelined requests are answered in order', async (t) => {
    const matriculas = ['13456789', '55667788', '98765432', '11223344', '00000001', '13456789', 'x', '55667788', '404', '13456789'];
    const pipeline = matriculas.map((m) => request('POST', '/medicoes/ultima-medicao', { body: JSON.stringify({ matricula: m }) })).join('');
    const result = await exchange(port, [pipeline], { count: 10 });
    t.same(
      result.responses.map((r) => r.status),
      [200, 200, 200, 200, 200, 200, 422, 200, 404, 200],
    );
    t.same(
      result.responses.filter((r) => r.status === 200).map((r) => r.json().matricula),
      matriculas.filter((m) => m !== 'x' && m !== '404'),
    );
    const deep = Array.from({ length: 200 }, () => request('GET', '/alerta-consumo?matricula=13456789')).join('');
    const many = await exchange(port, [deep], { count: 200, timeoutMs: 5000 });
    t.equal(many.responses.length, 200, 'a pipeline deeper than the read-ahead limit is answered whole');
    t.ok(many.responses.every((r) => r.status === 200));
  });

  t.test('Expect: 100-continue gets an interim 100 before the body is sent', async (t) => {
    const head = 'POST /medicoes/ultima-medicao HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 24\r\n\r\n';
    const result = await exchange(port, [head, '{"matricula":"13456789"}'], { count: 1, pauseMs: 100 });
    t.match(result.raw.toString('latin1'), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    t.equal(result.responses[0]?.json().consumo, 160.3);
  });

  t.test('chunked request bodies', async (t) => {
    const body = '{"matricula":"13456789"}';
    const chunked = `POST /gerar-fatura HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n${body.slice(0, 5)}\r\n${(body.length - 5).toString(16)}\r\n${body.slice(5)}\r\n0\r\n\r\n`;
    const result = await exchange(port, [chunked], { count: 1 });
    t.equal(result.responses[0]?.json().valor_pagamento, 3.03);
  });

  t.test('protocol errors: status, JSON body, connection closed', async (t) => {
    const cases: Array<[string, string | Buffer, number, string]> = [
      ['malformed request line', 'GARBAGE\r\n\r\n', 400, 'requisicao_invalida'],
      ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 400, 'requisicao_invalida'],
      ['CL and TE together', 'POST /gerar-fatura HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'requisicao_invalida'],
      ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505, 'versao_http_nao_suportada'],
      ['body over 64 KiB', request('POST', '/gerar-fatura', { body: `{"matricula":"${'1'.repeat(70_000)}"}` }), 413, 'corpo_muito_grande'],
      ['header section over 16 KiB', request('GET', '/gerar-fatura', { headers: { 'X-Big': 'a'.repeat(17_000) } }), 431, 'cabecalhos_muito_grandes'],
      ['unknown transfer coding', 'POST /gerar-fatura HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 501, 'nao_implementado'],
    ];
    for (const [name, bytes, status, codigo] of cases) {
      const result = await exchange(port, [bytes], { count: 1, waitForClose: true });
      const response = result.responses[0];
      t.equal(response?.status, status, name);
      t.equal(response?.json().erro.codigo, codigo, name);
      t.equal(response?.headers.get('connection'), 'close', name);
      t.ok(result.closed, `${name}: closed`);
    }
    const afterGood = await exchange(port, [request('GET', '/medicoes/ultima-medicao?matricula=13456789') + 'BAD\r\n\r\n' + request('GET', '/nada')], { count: 2, waitForClose: true });
    t.same(afterGood.responses.map((r) => r.status), [200, 400], 'answers before the bad request still go out, in order; nothing after it');
  });

  t.test('a bad request on one connection never disturbs another', async (t) => {
    const good = await exchange(port, [request('GET', '/alerta-consumo?matricula=13456789')], { count: 1 });
    const [bad, stillGood] = await Promise.all([
      exchange(port, ['\0\0\0\0\r\n\r\n'], { count: 1, waitForClose: true }),
      exchange(port, Array.from({ length: 3 }, () => request('GET', '/alerta-consumo?matricula=13456789')), { count: 3, pauseMs: 10 }),
    ]);
    t.equal(bad.responses[0]?.status, 400);
    t.same(stillGood.responses.map((r) => r.body), Array(3).fill(good.responses[0]?.body));
  });
}
