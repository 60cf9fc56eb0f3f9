/**
 * The baseline the benchmarks compare against: the same routes, the same
 * store and the same responder, behind Node's own `node:http` instead of
 * the project's hand-written HTTP/1.1 layer. Started like the server
 * (same settings); prints the same start-up line.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { openStore } from '../database/open-store.js';
import type { Request, RequestHead } from '../protocol/http/request-parser.js';
import { loadApiAccess } from '../server/http/api-access.js';
import { EmissionFactors } from '../app/emission-factors.js';
import { readingRoutes } from '../server/capabilities/readings.js';
import { Router } from '../server/http/router.js';
import { loadConfig } from '../server/config.js';
import { Responder } from '../server/http/responder.js';

const config = loadConfig();
const logger = pino({ level: config.logLevel, base: { pid: process.pid } });
const stores = await openStore(config, logger);
const { store } = stores;
const responder = new Responder({ router: new Router(readingRoutes({ stores, config, access: (await loadApiAccess(config)).access, factors: new EmissionFactors(stores.billingRules, config.defaultEmissionFactor) })), logger, corsOrigins: config.corsOrigins });

function toRequest(message: IncomingMessage, body: Buffer): Request {
  const target = message.url ?? '/';
  const questionMark = target.indexOf('?');
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(message.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  const head: RequestHead = {
    method: message.method ?? 'GET',
    target,
    path: questionMark === -1 ? target : target.slice(0, questionMark),
    query: questionMark === -1 ? '' : target.slice(questionMark + 1),
    httpMinor: message.httpVersionMinor === 0 ? 0 : 1,
    headers,
    keepAlive: true,
    expectContinue: false,
    bodyLength: body.length,
  };
  return { head, body };
}

const server = createServer({ keepAliveTimeout: 30_000 }, (message, response) => {
  const chunks: Buffer[] = [];
  message.on('data', (chunk: Buffer) => chunks.push(chunk));
  message.on('end', () => {
    void responder.respond(toRequest(message, Buffer.concat(chunks))).then((parts) => {
      response.writeHead(parts.status, Object.fromEntries(parts.headers));
      response.end(message.method === 'HEAD' ? undefined : parts.body);
    });
  });
});
server.listen(config.httpPort, config.host, () => {
  const address = server.address() as AddressInfo;
  logger.info({ http: `${address.address}:${address.port}`, udp: 'none', baseline: 'node:http' }, 'consumo-inteligente started');
});
process.on('SIGTERM', () => {
  server.close();
  void store.close().then(() => process.exit(0));
});
