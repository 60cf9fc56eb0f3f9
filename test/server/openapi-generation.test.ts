/**
 * The OpenAPI document is generated (server/http/openapi.ts): its query
 * parameters and request bodies from the zod schemas the handlers read,
 * the rest from the prose. The generator refuses every disagreement
 * between the two, and the committed document and Postman collection are
 * exactly what the served routes and the prose give.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { z } from 'zod';
import { contracts, OPENAPI_FILE, POSTMAN_FILE, run } from '../../cli/contracts.js';
import { openApiDocument } from '../../server/http/openapi.js';
import { postmanCollection } from '../../server/http/postman.js';
import type { Route } from '../../server/http/router.js';
import { positiveInteger, withFields } from '../../server/routes/fields.js';
import { startTestServer } from '../helpers.js';

const answer = async () => ({ status: 200, body: {} });
const listSchema = z.object({ matricula: z.string().regex(/^\d+$/), pagina: positiveInteger(50).optional() });
const bodySchema = z.object({ motivo: z.string().min(3) });
const routes: Route[] = [
  { path: '/coisas', handlers: { GET: withFields(listSchema, answer), POST: withFields(bodySchema, answer) } },
  { path: '/coisas/{id}', handlers: { DELETE: answer } },
];
const prose = () => ({
  openapi: '3.1.0',
  paths: {
    '/coisas': {
      get: {
        summary: 'Lista',
        parameters: [
          { name: 'matricula', in: 'query', description: 'De quem', example: '1' },
          { name: 'pagina', in: 'query', description: 'Qual' },
        ],
        responses: { 200: { description: 'ok' } },
      },
      post: { summary: 'Cria', requestBody: { content: { 'application/json': { example: { motivo: 'porque' } } } }, responses: { 201: { description: 'criada' } } },
    },
    '/coisas/{id}': { delete: { summary: 'Apaga', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 204: { description: 'apagada' } } } },
  } as Record<string, Record<string, Record<string, unknown>>>,
});

t.test('query parameters and request bodies come from the handlers\' schemas, the words from the prose', async (t) => {
  const document = openApiDocument(routes, prose() as never) as { paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: unknown }>> };
  t.same(document.paths['/coisas']?.get?.parameters, [
    { name: 'matricula', in: 'query', required: true, description: 'De quem', example: '1', schema: { type: 'string', pattern: '^\\d+$' } },
    { name: 'pagina', in: 'query', required: false, description: 'Qual', schema: { type: 'integer', minimum: 1, maximum: 50 } },
  ]);
  t.same(document.paths['/coisas']?.post?.requestBody, {
    required: true,
    content: { 'application/json': { schema: { type: 'object', properties: { motivo: { type: 'string', minLength: 3 } }, required: ['motivo'] }, example: { motivo: 'porque' } } },
  });
  t.same(document.paths['/coisas/{id}']?.delete?.parameters, [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], 'path parameters as the prose writes them');
});

t.test('every disagreement between the prose and the routes is refused, by name', async (t) => {
  const cases: Array<[string, (p: ReturnType<typeof prose>) => void, Route[], RegExp]> = [
    ['a served route with no prose', (p) => delete p.paths['/coisas/{id}'], routes, /\/coisas\/\{id\}: served, with no prose/],
    ['a documented route not served', () => {}, routes.slice(0, 1), /\/coisas\/\{id\}: documented, not served/],
    ['a served method with no prose', (p) => delete p.paths['/coisas']?.post, routes, /POST \/coisas: served, with no prose/],
    ['a documented method not served', (p) => ((p.paths['/coisas'] as Record<string, unknown>).put = { summary: 'x', responses: {} }), routes, /PUT \/coisas: documented, not served/],
    ['a field read with no prose', (p) => (p.paths['/coisas']?.get?.parameters as unknown[]).pop(), routes, /query parameter pagina \(read by its handler\) has no prose/],
    ['a documented query parameter not read', (p) => (p.paths['/coisas']?.get?.parameters as unknown[]).push({ name: 'ordem', in: 'query' }), routes, /query parameter ordem is not a field its handler reads/],
    ['a documented body not read', (p) => (p.paths['/coisas/{id}']!.delete!.requestBody = { content: {} }), routes, /a request body its handler does not read/],
    ['a path parameter without words', (p) => (p.paths['/coisas/{id}']!.delete!.parameters = []), routes, /path parameter id has no prose/],
  ];
  for (const [name, change, served, expected] of cases) {
    const words = prose();
    change(words);
    t.throws(() => openApiDocument(served, words as never), { name: 'OpenApiDrift', message: expected }, name);
  }
});

t.test('the Postman collection: one request per example, in the run\'s order, and one made from the document for an operation without', async (t) => {
  const words = prose();
  words.paths['/coisas']!.get!['x-postman'] = [{ pasta: 'B', ordem: 2, nome: 'Listar', consulta: [{ key: 'matricula', value: '{{matricula}}' }], eventos: [] }];
  words.paths['/coisas']!.post!['x-postman'] = [{ pasta: 'A', ordem: 1, nome: 'Criar', cabecalhos: [{ key: 'Content-Type', value: 'application/json' }], corpo: { mode: 'raw', raw: '{}' } }];
  const collection = postmanCollection(openApiDocument(routes, words as never) as never) as { item: Array<{ name: string; item: Array<{ name: string; request: { method: string; url: { raw: string } } }> }> };
  t.same(
    collection.item.map((folder) => [folder.name, folder.item.map((item) => `${item.name}: ${item.request.method} ${item.request.url.raw}`)]),
    [
      ['A', ['Criar: POST {{baseUrl}}/coisas']],
      ['B', ['Listar: GET {{baseUrl}}/coisas?matricula={{matricula}}']],
      ['Demais rotas (geradas do documento)', ['Apaga: DELETE {{baseUrl}}/coisas/{{id}}']],
    ],
  );
});

t.test('the committed OpenAPI document and Postman collection are what the served routes and the prose give', async (t) => {
  const server = await startTestServer(t);
  const generated = await contracts(server.routes);
  t.equal(await readFile(OPENAPI_FILE, 'utf8'), generated.openapi, 'resources/openapi.json (npm run contratos writes it)');
  t.equal(await readFile(POSTMAN_FILE, 'utf8'), generated.postman, 'the Postman collection (npm run contratos writes it)');
  const out: string[] = [];
  t.equal(await run(['--verificar'], {}, { out: (text) => out.push(text), err: (text) => out.push(text) }), 0, 'npm run contratos -- --verificar agrees');
  t.match(out.join(''), /up to date/);
});
