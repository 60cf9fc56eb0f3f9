/**
 * The composition root: opens the stores, makes each capability
 * (capabilities/), lists them, and serves their routes on the HTTP listener
 * and their datagrams on the UDP one. main.ts calls it with the process's
 * config; tests call it with ports 0 and a temp DATA_DIR.
 */
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { openStore } from '../database/open-store.js';
import type { OpenedStore } from '../database/opened-store.js';
import { DEFAULT_PARSER_LIMITS } from '../protocol/http/request-parser.js';
import type { Config } from './config.js';
import { trustedProxies } from './http/client-address.js';
import { HttpServer } from './http/http-server.js';
import { Responder, type ResponderOptions } from './http/responder.js';
import { AnswerVersions, MeterAnswers } from './http/result-cache.js';
import { Router, type Answer, type Route } from './http/router.js';
import { HttpMetrics, MetricsRegistry } from './metrics.js';
import { loadMeterAuthenticator } from './udp/meter-authentication.js';
import { alertsCapability, type AlertsCapability } from './capabilities/alerts.js';
import { analyticsCapability, type AnalyticsCapability } from './capabilities/analytics.js';
import { authCapability, type AuthCapability } from './capabilities/auth.js';
import { billingCapability, type BillingCapability } from './capabilities/billing.js';
import type { Capability } from './capabilities/capability.js';
import { commandsCapability, type CommandsCapability } from './capabilities/commands.js';
import { fleetCapability, type FleetCapability } from './capabilities/fleet.js';
import { operationsCapability, type OperationsCapability } from './capabilities/operations.js';
import { readingsCapability, type ReadingsCapability } from './capabilities/readings.js';
import { reportsCapability, type ReportsCapability } from './capabilities/reports.js';

/** The example customers copied into a new DATA_DIR when CLIENTES_EXEMPLO=sim. */
export const SEED_CUSTOMERS_FILE = fileURLToPath(new URL('../../resources/clientes-exemplo.txt', import.meta.url));

export interface RunningServer {
  readonly http: AddressInfo;
  readonly udp: AddressInfo & { receiveBufferBytes: number };
  /** Every aggregate's store, and what start-up logs about the storage (`description`). */
  readonly stores: OpenedStore;
  /** Every route it serves (the OpenAPI document is generated from them). */
  readonly routes: readonly Route[];
  /** HTTP connections open now. */
  httpConnections(): number;
  /** Meters with a key in the keys file. */
  readonly meterKeys: number;
  readonly auth: AuthCapability;
  readonly fleet: FleetCapability;
  readonly commands: CommandsCapability;
  readonly readings: ReadingsCapability;
  readonly alerts: AlertsCapability;
  readonly billing: BillingCapability;
  readonly analytics: AnalyticsCapability;
  readonly reports: ReportsCapability;
  readonly operations: OperationsCapability;
  /** Graceful stop: no new work, finish requests, store and acknowledge pending readings, release the data. */
  close(): Promise<void>;
}

/** What a caller may watch of a running server besides its answers on the wire (tests). */
export interface ServerHooks {
  /** Shown every answer of the API as it leaves (the tests check each against the OpenAPI document). */
  readonly observe?: ResponderOptions['observe'];
}

export async function startServer(config: Config, logger: Logger, hooks: ServerHooks = {}): Promise<RunningServer> {
  const authenticator = await loadMeterAuthenticator(config);
  const stores = await openStore(config, logger.child({ component: 'store' }), config.exampleCustomers ? SEED_CUSTOMERS_FILE : undefined);
  const { store } = stores;
  // Made in dependency order; closed in reverse of `listed` (below) if start-up fails half-way.
  const made: Capability[] = [];
  const keep = <C extends Capability>(capability: C): C => {
    made.push(capability);
    return capability;
  };
  const abandon = async (error: unknown): Promise<never> => {
    for (const capability of made) await capability.stop?.();
    for (const capability of [...made].reverse()) await capability.close?.();
    await store.close();
    throw error;
  };
  let auth: AuthCapability;
  let fleet: FleetCapability;
  try {
    auth = keep(await authCapability({ stores, config, logger }));
    fleet = keep(await fleetCapability({ stores, access: auth.access, warn: (error, message) => logger.child({ component: 'feed' }).warn({ err: error }, message) }));
  } catch (error) {
    return abandon(error);
  }
  const { access } = auth;
  const metrics = new MetricsRegistry();
  // The dear analytic answers, kept per meter until its newest reading or any change made through the API (result-cache.ts).
  const versions = new AnswerVersions();
  const answers = () => new MeterAnswers<Answer>(async (matricula) => (await store.recentReadings(matricula, 1))[0]?.timestamp, versions);
  const billing = keep(billingCapability({ stores, config, access, logger, answers }));
  const analytics = keep(analyticsCapability({ stores, billing: billing.billing, factors: billing.factors, config, access, logger, answers }));
  const reports = keep(reportsCapability({ stores, fleet: fleet.tracker, factors: billing.factors, config, access, logger }));
  const alerts = keep(alertsCapability({ stores, config, access, logger, fleet, forecasting: analytics.forecasting }));
  const commands = keep(
    commandsCapability({ stores, config, access, logger, authenticator, link: () => readings.ingest, fleet, webhook: alerts.webhook !== undefined, onEvents: (events) => alerts.center.events(events) }),
  );
  const readings: ReadingsCapability = keep(
    readingsCapability({
      stores,
      config,
      access,
      factors: billing.factors,
      authenticator,
      logger,
      onStored: (stored, result) => {
        fleet.stored(stored, result);
        alerts.center.stored(stored, result);
      },
      onControl: (message, from) => commands.control(message, from),
    }),
  );
  const httpMetrics = new HttpMetrics();
  const httpLogger = logger.child({ component: 'http' });
  let httpServer: HttpServer | undefined;
  let operations: OperationsCapability;
  try {
    operations = keep(await operationsCapability({ stores, config, logger, metrics, httpConnections: () => httpServer?.openConnections ?? 0, pendingReadings: () => readings.ingest.pendingCount }));
  } catch (error) {
    return abandon(error);
  }
  // The order they start in, and the reverse of the order they close in: the socket's readings before the events they settle, accounts last.
  const listed: readonly Capability[] = [auth, fleet, commands, readings, alerts, billing, analytics, reports, operations];
  const routes = listed.flatMap((capability) => capability.routes);
  const router = new Router(routes);
  httpServer = new HttpServer({
    responder: new Responder({ router, logger: httpLogger, corsOrigins: config.corsOrigins, metrics: httpMetrics, principalOf: (request, address) => access.principalKey(request, address), trustedProxies: config.trustedProxies.length === 0 ? undefined : trustedProxies(config.trustedProxies), audit: (record) => stores.audit.append(record), onChange: () => versions.changed(), observe: hooks.observe }),
    logger: httpLogger,
    limits: {
      parser: DEFAULT_PARSER_LIMITS,
      maxPipelined: config.httpMaxPipelined,
      headerTimeoutMs: config.httpHeaderTimeoutMs,
      bodyTimeoutMs: config.httpBodyTimeoutMs,
      idleTimeoutMs: config.httpIdleTimeoutMs,
      writeTimeoutMs: config.httpWriteTimeoutMs,
      maxConnections: config.httpMaxConnections,
      maxConnectionsPerSource: config.httpMaxConnectionsPerSource,
    },
  });
  const transport = httpServer;
  // What /metricas shows, each component's families in turn (the listeners' first, the requests' last).
  for (const collect of readings.metrics ?? []) metrics.register(collect);
  metrics.register((out) => transport.writeMetrics(out));
  for (const capability of listed) if (capability !== readings) for (const collect of capability.metrics ?? []) metrics.register(collect);
  metrics.register((out) => httpMetrics.write(out));
  let http: AddressInfo;
  let udp: AddressInfo & { receiveBufferBytes: number };
  try {
    http = await transport.listen(config.httpPort, config.host);
    udp = await readings.ingest.listen(config.udpPort, config.host);
  } catch (error) {
    await transport.close();
    return abandon(error);
  }
  for (const capability of listed) await capability.start?.();
  await stores.changes.listen({
    changed(change, origin) {
      for (const capability of listed) capability.changed?.(change, origin);
    },
    resync() {
      for (const capability of listed) capability.resync?.();
    },
  });
  let closing: Promise<void> | undefined;
  return {
    http,
    udp,
    stores,
    routes,
    httpConnections: () => transport.openConnections,
    meterKeys: authenticator.keyCount,
    auth,
    fleet,
    commands,
    readings,
    alerts,
    billing,
    analytics,
    reports,
    operations,
    close() {
      closing ??= (async () => {
        await Promise.all(listed.map((capability) => capability.stop?.()));
        await transport.close();
        for (const capability of [...listed].reverse()) await capability.close?.();
        await store.close();
      })();
      return closing;
    },
  };
}
