/**
 * The HTTP server over real TCP: any valid request split at any byte
 * boundaries gets the same answer as when sent whole; garbage gets a 4xx/5xx
 * or a wait, never a crash, and other clients keep being served.
 */
import fc from 'fast-check';
import t from 'tap';
import { exchange, request, splitAt, startTestServer } from '../helpers.js';

const server = await startTestServer(t);
const port = server.http.port;
const minute = (n: number): number => Date.UTC(2026, 0, 1, 0, n);
await server.stores.store.append([0, 1, 2, 3, 4].map((n) => ({ matricula: '13456789', timestamp: minute(n), consumo: BigInt(n * n * 1000) })));

const routes = ['/validacao-usuario', '/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo', '/nada'];
const validRequest = fc
  .record({
    route: fc.constantFrom(...routes),
    method: fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'PUT'),
    matricula: fc.oneof(fc.constant('13456789'), fc.stringMatching(/^\d{1,8}$/), fc.constant('abc')),
    chunked: fc.boolean(),
    extraHeaders: fc.array(fc.tuple(fc.stringMatching(/^X-[a-zA-Z]{1,8}$/), fc.stringMatching(/^[\x21-\x7e]{1,20}$/)), { maxLength: 4 }),
  })
  .map(({ route, method, matricula, chunked, extraHeaders }) => {
    const headers: Record<string, string> = Object.fromEntries(extraHeaders);
    if (method === 'POST') {
      const body = JSON.stringify({ matricula });
      if (!chunked) return { method, text: request(method, route, { headers, body }) };
      headers['Transfer-Encoding'] = 'chunked';
      const encoded = `${(3).toString(16)}\r\n${body.slice(0, 3)}\r\n${(body.length - 3).toString(16)}\r\n${body.slice(3)}\r\n0\r\n\r\n`;
      return { method, text: request(method, route, { headers, body: encoded }) };
    }
    return { method, text: request(method, `${route}?matricula=${matricula}`, { headers }) };
  });

/** The answers without what depends on the second they were made in: Date, and the token /validacao-usuario issues. */
const withoutDate = (raw: Buffer): string =>
  raw
    .toString('latin1')
    .replace(/Date: [^\r]*\r\n/g, '')
    .replace(/"token":"[^"]*","tipo_token":"Bearer","expira_em":"[^"]*"/g, '"token":…');

t.test('valid pipelines split across TCP writes are answered exactly as when sent whole', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(validRequest, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), async (requests, offsets) => {
      const whole = requests.map((r) => r.text).join('');
      const headOnly = requests.map((r) => r.method === 'HEAD');
      const expected = await exchange(port, [whole], { count: requests.length, headOnly });
      const split = await exchange(port, splitAt(Buffer.from(whole, 'latin1'), offsets), { count: requests.length, headOnly, pauseMs: 2 });
      t.equal(split.responses.length, requests.length);
      t.equal(withoutDate(split.raw), withoutDate(expected.raw));
    }),
    { numRuns: 60 },
  );
});

t.test('garbage and mutated requests never crash the server nor disturb a well-behaved client', async (t) => {
  const garbage = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 600 }).map((a) => Buffer.from(a)),
    fc.tuple(validRequest, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([r, flips]) => {
      const bytes = Buffer.from(r.text, 'latin1');
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      return bytes;
    }),
  );
  const control = request('GET', '/alerta-consumo?matricula=13456789');
  const reference = (await exchange(port, [control], { count: 1 })).responses[0]?.body;
  await fc.assert(
    fc.asyncProperty(garbage, fc.array(fc.nat(), { maxLength: 6 }), async (bytes, offsets) => {
      const parts = splitAt(bytes, offsets);
      const [hostile, wellBehaved] = await Promise.all([
        exchange(port, parts, { timeoutMs: 150 }),
        exchange(port, [control], { count: 1 }),
      ]);
      for (const response of hostile.responses) {
        t.ok(response.status >= 200 && response.status < 600, `status ${response.status}`);
        if (response.status >= 400 && response.body.length > 0) t.type(response.json().erro.codigo, 'string', 'errors are JSON');
      }
      t.equal(wellBehaved.responses[0]?.body, reference);
    }),
    { numRuns: 100 },
  );
  t.ok((await exchange(port, [control], { count: 1 })).responses[0]?.status === 200, 'still serving');
});
