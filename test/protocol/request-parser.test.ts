import fc from 'fast-check';
import t from 'tap';
import { RequestParser, type ParseStep, type Request } from '../../protocol/http/request-parser.js';
import { splitAt } from '../helpers.js';
import { REJECTED } from './rejected-requests.js';

type Outcome = { requests: Request[]; error?: { code: string; status: number } };

/** Feeds `chunks` one by one, pulling every step, as the server does. */
function parseAll(chunks: readonly Buffer[], parser = new RequestParser()): Outcome {
  const requests: Request[] = [];
  for (const chunk of chunks) {
    parser.feed(chunk);
    for (let step: ParseStep = parser.next(); step.kind !== 'incomplete'; step = parser.next()) {
      if (step.kind === 'error') return { requests, error: { code: step.error.code, status: step.error.status } };
      if (step.kind === 'request') requests.push(step.request);
    }
  }
  return { requests };
}

const raw = (text: string): Buffer => Buffer.from(text, 'latin1');

t.test('parses a request line, headers and a Content-Length body', async () => {
  const { requests, error } = parseAll([raw('POST /gerar-fatura?x=1&y=%20 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nX-A: 1\r\nX-A:  2 \r\nContent-Length: 5\r\n\r\nhello')]);
  t.equal(error, undefined);
  const [request] = requests;
  t.equal(request?.head.method, 'POST');
  t.equal(request?.head.path, '/gerar-fatura');
  t.equal(request?.head.query, 'x=1&y=%20');
  t.equal(request?.head.headers.get('x-a'), '1, 2', 'repeated fields are joined, OWS trimmed');
  t.equal(request?.head.keepAlive, true);
  t.equal(request?.body.toString(), 'hello');
});

t.test('decodes chunked bodies with extensions and trailers', async () => {
  const { requests, error } = parseAll([raw('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n')]);
  t.equal(error, undefined);
  t.equal(requests.length, 2);
  t.equal(requests[0]?.body.toString(), 'hello world');
  t.equal(requests[1]?.head.method, 'GET');
});

t.test('keep-alive follows the version and the Connection field (RFC 9112 §9.3)', async () => {
  const keepAlive = (text: string) => parseAll([raw(text)]).requests[0]?.head.keepAlive;
  t.equal(keepAlive('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), true);
  t.equal(keepAlive('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), false);
  t.equal(keepAlive('GET / HTTP/1.0\r\n\r\n'), false);
  t.equal(keepAlive('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), true);
  t.equal(keepAlive('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n'), false);
});

t.test('skips empty lines before a request, accepts absolute-form and asterisk-form targets', async () => {
  const { requests } = parseAll([raw('\r\n\r\nGET http://example.com:50000/alerta-consumo?matricula=1 HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n')]);
  t.equal(requests[0]?.head.path, '/alerta-consumo');
  t.equal(requests[0]?.head.query, 'matricula=1');
  t.equal(requests[1]?.head.path, '*');
});


t.test('refuses malformed and ambiguous framing with a typed error', async () => {
  for (const [name, text, code, status] of REJECTED) {
    t.same(parseAll([raw(text)]).error, { code, status }, name);
  }
});

t.test('chunked bodies over the limit are refused', async () => {
  const chunk = `8000\r\n${'a'.repeat(0x8000)}\r\n`;
  const text = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}1\r\na\r\n0\r\n\r\n`;
  t.same(parseAll([raw(text)]).error, { code: 'BODY_TOO_LARGE', status: 413 });
});

t.test('announces a head before its body arrives, once', async () => {
  const parser = new RequestParser();
  parser.feed(raw('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n'));
  const first = parser.next();
  t.equal(first.kind, 'head');
  t.equal(first.kind === 'head' && first.head.expectContinue, true);
  t.equal(parser.next().kind, 'incomplete');
  parser.feed(raw('ab'));
  t.equal(parser.next().kind, 'incomplete');
  parser.feed(raw('cd'));
  const done = parser.next();
  t.equal(done.kind === 'request' && done.request.body.toString(), 'abcd');
  t.ok(parser.idle);
});

// Generators of valid requests, to show chunking never changes the answer.
const token = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,15}$/);
const fieldValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);
const path = fc.stringMatching(/^\/[a-zA-Z0-9/_.~%-]{0,40}(\?[a-zA-Z0-9=&%]{0,30})?$/);
const validRequest = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'PUT'),
    target: path,
    headers: fc.array(fc.tuple(token, fieldValue), { maxLength: 8 }),
    body: fc.uint8Array({ maxLength: 300 }),
    chunked: fc.boolean(),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
  })
  .map(({ method, target, headers, body, chunked, chunkSizes }) => {
    const safeHeaders = headers.filter(([name]) => !['host', 'content-length', 'transfer-encoding', 'expect', 'connection'].includes(name.toLowerCase()));
    let head = `${method} ${target} HTTP/1.1\r\nHost: example\r\n${safeHeaders.map(([n, v]) => `${n}: ${v}\r\n`).join('')}`;
    let encoded: Buffer;
    if (chunked) {
      head += 'Transfer-Encoding: chunked\r\n';
      const parts: Buffer[] = [];
      let offset = 0;
      let i = 0;
      while (offset < body.length) {
        const size = Math.min(chunkSizes[i++ % chunkSizes.length] as number, body.length - offset);
        parts.push(raw(`${size.toString(16)}\r\n`), Buffer.from(body.subarray(offset, offset + size)), raw('\r\n'));
        offset += size;
      }
      parts.push(raw('0\r\n\r\n'));
      encoded = Buffer.concat(parts);
    } else {
      head += `Content-Length: ${body.length}\r\n`;
      encoded = Buffer.from(body);
    }
    return { bytes: Buffer.concat([raw(`${head}\r\n`), encoded]), method, target, body: Buffer.from(body), headers: safeHeaders };
  });

t.test('any valid pipeline split at any byte boundaries parses to the same requests', async () => {
  fc.assert(
    fc.property(fc.array(validRequest, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), (requests, offsets) => {
      const all = Buffer.concat(requests.map((r) => r.bytes));
      const whole = parseAll([all]);
      const split = parseAll(splitAt(all, offsets));
      t.equal(whole.error, undefined);
      t.equal(split.error, undefined);
      t.equal(split.requests.length, requests.length);
      split.requests.forEach((parsed, i) => {
        const expected = requests[i]!;
        t.equal(parsed.head.method, expected.method);
        t.equal(parsed.head.target, expected.target);
        t.ok(parsed.body.equals(expected.body));
        t.same(parsed.head, whole.requests[i]?.head);
      });
    }),
    { numRuns: 300 },
  );
});

t.test('garbage never throws: every input ends in requests, an error, or waiting for more', async () => {
  const mutated = fc.tuple(validRequest, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 })).map(([request, flips]) => {
    const bytes = Buffer.from(request.bytes);
    for (const [at, value] of flips) bytes[at % bytes.length] = value;
    return bytes;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)), mutated), fc.array(fc.nat(), { maxLength: 10 }), (bytes, offsets) => {
      const outcome = parseAll(splitAt(bytes, offsets));
      if (outcome.error !== undefined) t.ok(outcome.error.status >= 400 && outcome.error.status < 600);
      t.same(parseAll([bytes]).error, outcome.error, 'same verdict however chunked');
    }),
    { numRuns: 1000 },
  );
});

t.test('valid chunk extensions (RFC 9112 §7.1.1) and Host values (§3.2) are accepted', async () => {
  const body = (sizeLine: string) =>
    parseAll([raw(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${sizeLine}\r\nhello\r\n0\r\n\r\n`)]).requests[0]?.body.toString();
  for (const line of ['5', '5;a', '5;a=b', '5 ;a', '5; a = b', '5;a="b c"', '5;a="q\\"x"', '5;a=1;b=2']) t.equal(body(line), 'hello', line);
  const host = (value: string) => parseAll([raw(`GET / HTTP/1.1\r\nHost: ${value}\r\n\r\n`)]).error?.code;
  for (const value of ['localhost', 'localhost:50000', '127.0.0.1:1', '[::1]:8080', 'exemplo.com.br', 'a-b_c~d', '']) t.equal(host(value), undefined, `Host: ${value}`);
});
