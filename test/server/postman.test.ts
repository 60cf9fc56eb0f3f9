/**
 * The shipped Postman collection, run by newman against a live server: every
 * request must pass its own tests. And the OpenAPI document must describe
 * every route the server answers, with the methods it answers.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Reading } from '../../database/store.js';
import { startTestServer } from '../helpers.js';
import { isDashboardAsset } from '../../server/routes/painel.js';

const RESOURCES = fileURLToPath(new URL('../../../resources/', import.meta.url));
const COLLECTION = `${RESOURCES}consumo-inteligente.postman_collection.json`;

interface NewmanSummary {
  run: {
    stats: { requests: { total: number; failed: number }; assertions: { total: number; failed: number } };
    failures: Array<{ source?: { name?: string }; error: { message: string; test?: string } }>;
  };
}
type NewmanRun = (options: Record<string, unknown>, callback: (error: Error | null, summary: NewmanSummary) => void) => void;
const newman = createRequire(import.meta.url)('newman') as { run: NewmanRun };

const OPERATOR_TOKEN = 'operador-postman-'.padEnd(40, 'p');

for (const mode of ['aberta', 'obrigatoria'] as const) {
  t.test(`the Postman collection passes under newman against a live server (AUTENTICACAO_API=${mode})`, async (t) => {
    const server = await startTestServer(t, { env: { AUTENTICACAO_API: mode, API_TOKEN_ADMIN: OPERATOR_TOKEN, DISTRIBUIDORA: 'TESTE-D' } });
    // What billing needs beyond the API: the distributor's tariffs (imported from ANEEL's file) and a closed cycle's readings
    // (the collection's ciclo 2026-06: 1 May to 1 June in São Paulo, 03:00Z).
    await server.stores.tariffs.addTariffs([{ distribuidora: 'TESTE-D', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: '2025-01-01', vigenciaFim: null, te: 29_459_000n, tusd: 41_238_000n, resolucao: 'REH 1/2025' }]);
    await server.stores.store.append([
      { matricula: '13456789', timestamp: Date.parse('2026-05-01T03:00:00Z'), consumo: 100_000n },
      { matricula: '13456789', timestamp: Date.parse('2026-06-01T03:00:00Z'), consumo: 250_000n },
    ]);
    // The example customer's meter with enough readings for the invoice and the alert.
    const base = Date.now() - 10 * 60_000;
    await server.stores.store.append(Array.from({ length: 6 }, (_, i): Reading => ({ matricula: '13456789', timestamp: base + i * 60_000, consumo: BigInt(251_000 + i * i * 500) })));
    const summary = await new Promise<NewmanSummary>((resolve, reject) => {
      newman.run(
        {
          collection: JSON.parse(readFileSync(COLLECTION, 'utf8')),
          envVar: [
            { key: 'baseUrl', value: `http://127.0.0.1:${server.http.port}` },
            { key: 'token_admin', value: OPERATOR_TOKEN },
          ],
          reporters: [],
          timeoutRequest: 5000,
        },
        (error, result) => (error === null ? resolve(result) : reject(error)),
      );
    });
    t.same(
      summary.run.failures.map((failure) => `${failure.source?.name ?? '?'}: ${failure.error.test ?? ''} ${failure.error.message}`),
      [],
      'no request failed',
    );
    t.equal(summary.run.stats.requests.failed, 0);
    t.ok(summary.run.stats.requests.total >= 29, `${summary.run.stats.requests.total} requests`);
    t.ok(summary.run.stats.assertions.total >= 50, `${summary.run.stats.assertions.total} assertions`);
  });
}

t.test('the OpenAPI document covers every route with the methods the server answers', async (t) => {
  const document = JSON.parse(readFileSync(`${RESOURCES}openapi.json`, 'utf8')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  t.equal(document.openapi, '3.1.0');
  const server = await startTestServer(t);
  for (const [path, operations] of Object.entries(document.paths)) {
    const answer = await fetch(`http://127.0.0.1:${server.http.port}${path}`, { method: 'OPTIONS' });
    const allowed = (answer.headers.get('allow') ?? '').split(', ');
    t.same(Object.keys(operations).map((method) => method.toUpperCase()).sort(), allowed.filter((method) => method !== 'HEAD' && method !== 'OPTIONS').sort(), `${path}: documented methods are the served ones`);
  }
  // And the other way round: every route the server has is documented (the dashboard's static files aside).
  for (const { path } of server.routes) if (!isDashboardAsset(path)) t.ok(path in document.paths, `${path} is in the OpenAPI document`);
  const collection = JSON.parse(readFileSync(COLLECTION, 'utf8')) as { item: Array<{ item: Array<{ request: { url: { path: string[] } } }> }> };
  // Postman's {{variable}} segments stand for OpenAPI's {parameter} ones.
  const requested = new Set(collection.item.flatMap((folder) => folder.item.map((item) => `/${item.request.url.path.join('/')}`.replace(/\{\{\w+\}\}/g, (name) => name.slice(1, -1)))));
  for (const path of Object.keys(document.paths)) t.ok(requested.has(path), `the collection has a request for ${path}`);
});
