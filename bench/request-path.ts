/**
 * Per-request CPU of the HTTP path without sockets: parse -> route ->
 * store -> JSON -> serialize, in one process, for a route over a preloaded
 * file store. Prints microseconds per request, so a change to the hot
 * path can be measured before and after (`npm run bench:caminho`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openStore } from '../database/open-store.js';
import { RequestParser, DEFAULT_PARSER_LIMITS } from '../protocol/http/request-parser.js';
import { serializeResponse } from '../protocol/http/response.js';
import { loadApiAccess } from '../server/http/api-access.js';
import { EmissionFactors } from '../app/emission-factors.js';
import { readingRoutes } from '../server/capabilities/readings.js';
import { Router } from '../server/http/router.js';
import { loadConfig } from '../server/config.js';
import { Responder } from '../server/http/responder.js';
import { median, parseCli, preloadFiles, routeTarget } from './lib.js';

const values = parseCli('bench:caminho', 'Per-request CPU of the HTTP path without sockets (parse, route, store, JSON, serialize), in microseconds per request.', {
  requisicoes: { default: '200000', help: 'requests per round and route' },
  rodadas: { default: '5', help: 'rounds per route (the median is printed)' },
});
const REQUESTS = Number(values.requisicoes);
const ROUNDS = Number(values.rodadas);
if (!Number.isSafeInteger(REQUESTS) || REQUESTS < 1 || !Number.isSafeInteger(ROUNDS) || ROUNDS < 1) {
  process.stderr.write('bench:caminho: --requisicoes and --rodadas must be whole numbers from 1 (--help shows the options)\n');
  process.exit(1);
}
const routes = ['/medicoes/ultima-medicao', '/alerta-consumo'];

const dataDir = await mkdtemp(join(tmpdir(), 'caminho-'));
try {
  await preloadFiles(dataDir, { customers: 1000, readings: 10_000, meters: 100 });
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, []);
  const logger = pino({ level: 'silent' });
  const stores = await openStore(config, logger);
  const { store } = stores;
  const responder = new Responder({ router: new Router(readingRoutes({ stores, config, access: (await loadApiAccess(config)).access, factors: new EmissionFactors(stores.billingRules, config.defaultEmissionFactor) })), logger, corsOrigins: config.corsOrigins });
  const date = new Date().toUTCString();
  for (const route of routes) {
    const bytes = Buffer.from(`GET ${routeTarget(route)} HTTP/1.1\r\nHost: 127.0.0.1:50000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n`, 'latin1');
    const parser = new RequestParser(DEFAULT_PARSER_LIMITS);
    const perRequestUs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = process.hrtime.bigint();
      let written = 0;
      for (let i = 0; i < REQUESTS; i++) {
        parser.feed(bytes);
        const step = parser.next();
        if (step.kind !== 'request') throw new Error(`unexpected parser step ${step.kind}`);
        const parts = await responder.respond(step.request);
        if (parts.status !== 200) throw new Error(`${route} answered ${parts.status}`);
        written += serializeResponse(parts, date, false).length;
      }
      perRequestUs.push(Number(process.hrtime.bigint() - started) / 1000 / REQUESTS);
      if (written === 0) throw new Error('nothing serialized');
    }
    console.log(`${route}: ${median(perRequestUs).toFixed(2)} us per request (median of ${ROUNDS} x ${REQUESTS}; min ${Math.min(...perRequestUs).toFixed(2)})`);
  }
  await store.close();
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
