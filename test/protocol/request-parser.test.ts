import fc from 'fast-check';
import t from 'tap';
import { RequestParser, type ParseStep, type Request } from '../../protocol/http/request-parser.js';
import { splitAt } from '../helpers.js';

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

// Raw request -> expected parse error code and status. Every row is a framing
// the parser must refuse rather than guess at (RFC 9112).
const REJECTED: ReadonlyArray<readonly [string, string, string, number]> = [
  ['bare LF line ends', 'GET / HTTP/1.1\nHost: a\n\n', 'INVALID_LINE_ENDING', 400],
  ['bare LF after a header', 'GET / HTTP/1.1\r\nHost: a\n\r\n', 'INVALID_LINE_ENDING', 400],
  ['bare CR in a header value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 'INVALID_HEADER_VALUE', 400],
  ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n', 'INVALID_HEADER_VALUE', 400],
  ['obsolete line folding', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', 'OBSOLETE_LINE_FOLDING', 400],
  ['space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'INVALID_HEADER_TOKEN', 400],
  ['header without colon', 'GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n', 'INVALID_HEADER_TOKEN', 400],
  ['empty header name', 'GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n', 'INVALID_HEADER_TOKEN', 400],
  ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_METHOD', 400],
  ['missing version', 'GET /\r\nHost: a\r\n\r\n', 'INVALID_METHOD', 400],
  ['bad method token', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_METHOD', 400],
  ['control byte in the target', 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_URL', 400],
  ['relative target', 'GET abc HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_URL', 400],
  ['asterisk without OPTIONS', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 'INVALID_URL', 400],
  ['malformed version', 'GET / HTTP/1\r\nHost: a\r\n\r\n', 'INVALID_VERSION', 400],
  ['lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n', 'INVALID_VERSION', 400],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 'UNSUPPORTED_VERSION', 505],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 'UNSUPPORTED_VERSION', 505],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 'MISSING_HOST', 400],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'DUPLICATE_HOST', 400],
  ['Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'TRANSFER_ENCODING_WITH_CONTENT_LENGTH', 400],
  ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'TRANSFER_ENCODING_IN_HTTP_1_0', 400],
  ['duplicate Content-Length, same value', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na', 'DUPLICATE_CONTENT_LENGTH', 400],
  ['conflicting Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\na', 'DUPLICATE_CONTENT_LENGTH', 400],
  ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
  ['hex Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
  ['chunked not last', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'INVALID_TRANSFER_ENCODING', 400],
  ['chunked twice', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'INVALID_TRANSFER_ENCODING', 400],
  ['empty coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n', 'INVALID_TRANSFER_ENCODING', 400],
  ['unknown coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 'UNSUPPORTED_TRANSFER_CODING', 501],
  ['invalid chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'INVALID_CHUNK', 400],
  ['chunk size with sign', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n', 'INVALID_CHUNK', 400],
  ['chunk data longer than its size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', 'INVALID_CHUNK', 400],
  ['chunk size LF only', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n', 'INVALID_LINE_ENDING', 400],
  ['huge chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n', 'BODY_TOO_LARGE', 413],
  ['body over 64 KiB by Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n', 'BODY_TOO_LARGE', 413],
  ['unknown expectation', 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\na', 'UNSUPPORTED_EXPECTATION', 417],
  ['header section over 16 KiB', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(16 * 1024)}\r\n\r\n`, 'HEADER_OVERFLOW', 431],
  ['header section over 16 KiB, never ending', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(17 * 1024)}`, 'HEADER_OVERFLOW', 431],
  ['more than 100 fields', `GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(101)}\r\n`, 'HEADER_OVERFLOW', 431],
];

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
