/**
 * Wires store, routes, HTTP server and UDP ingest into one running server.
 * main.ts calls it with the process's config; tests call it with ports 0
 * and a temp DATA_DIR.
 */
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { openStore } from '../database/open-store.js';
import { VALID } from '../domain/readings/quality.js';
import type { ForecastJob } from '../app/forecast/forecast-job.js';
import { PartitionJob } from '../app/partition-job.js';
import { clusterMetrics } from './cluster.js';
import type { ForecastRecordStore } from '../database/forecast-record-store.js';
import type { Store } from '../database/store.js';
import type { Config } from './config.js';
import { DEFAULT_PARSER_LIMITS } from '../protocol/http/request-parser.js';
import { HttpServer } from './http/http-server.js';
import { Responder, type ResponderOptions } from './http/responder.js';
import { trustedProxies } from './http/client-address.js';
import { HttpMetrics, MetricsRegistry } from './metrics.js';
import { Router, type Answer, type Route } from './http/router.js';
import { AnswerVersions, MeterAnswers } from './http/result-cache.js';
import { clienteRoute, metaRoute, clientesRoute, senhaRoute } from './routes/clientes.js';
import type { ProfileStore } from '../database/profile-store.js';
import { PasswordChecks } from '../app/auth/login.js';
import type { CredentialStore } from '../database/credential-store.js';
import { consumoRoute } from './routes/consumo.js';
import { medicoesRoute } from './routes/medicoes.js';
import { metricasRoute, saudeRoute } from './routes/operacoes.js';
import { alertMetrics, storageMetrics } from './component-metrics.js';
import { alertaConsumoRoute } from './routes/alerta-consumo.js';
import { gerarFaturaRoute } from './routes/gerar-fatura.js';
import { ultimaMedicaoRoute } from './routes/ultima-medicao.js';
import { sessaoRoute, validacaoUsuarioRoute } from './routes/validacao-usuario.js';
import { ACCESS_REFRESH_MS, loadApiAccess, type ApiAccess } from './http/api-access.js';
import { loadMeterAuthenticator, MeterLineGate, replayMetrics, type MeterLine } from './udp/meter-authentication.js';
import { UdpIngest } from './udp/ingest.js';
import { FleetTracker } from '../app/fleet.js';
import { LiveEvents } from './live/live-events.js';
import { eventosRoute } from './routes/eventos.js';
import { frotaMedidoresRoute, frotaRoute } from './routes/frota.js';
import { EmissionFactors } from '../app/emission-factors.js';
import { PriceEstimates } from '../app/billing/price-estimates.js';
import type { BillingJob } from '../app/billing/billing-job.js';
import type { TariffStore } from '../database/tariff-store.js';
import { ALERT_READINGS } from '../domain/readings/consumption.js';
import { dashboardRoutes } from './routes/painel.js';
import { CommandDelivery } from './udp/command-delivery.js';
import { EventIntake } from './udp/meter-events.js';
import { comandosRoutes, commandJson } from './routes/comandos.js';
import { medidorRoute } from './routes/medidores.js';
import { eventJson, ocorrenciasRoute } from './routes/ocorrencias.js';
import { qualidadeRoute } from './routes/qualidade.js';
import { alertasRoutes } from './routes/alertas.js';
import { operadoresRoutes } from './routes/operadores.js';
import type { ReportJob } from '../app/reports/report-job.js';
import { AlertCenter, alertJson } from '../app/alert-center.js';
import { WebhookSender } from './webhook.js';
import type { AlertStore } from '../database/alert-store.js';
import { POWER_EVENTS, SUPPLY_EVENTS } from '../domain/meter-condition.js';
import { linesByTag, ANSWER_TAG, EVENT_TAG } from '../protocol/meter-commands.js';
import { MAX_CLOCK_AHEAD_MS } from './udp/ingest.js';
import type { CommandStore } from '../database/command-store.js';
import type { EventStore } from '../database/event-store.js';
import type { BillingRulesStore } from '../database/billing-rules-store.js';
import { DAY_MS } from '../protocol/timestamp.js';
import type { Capability } from './capabilities/capability.js';
import { analyticsCapability } from './capabilities/analytics.js';
import { billingCapability } from './capabilities/billing.js';
import { reportsCapability } from './capabilities/reports.js';

/** The example customers copied into a new DATA_DIR when CLIENTES_EXEMPLO=sim. */
export const SEED_CUSTOMERS_FILE = fileURLToPath(new URL('../../resources/clientes-exemplo.txt', import.meta.url));

/** Every route of the API over one store, and the operations routes when given. */
export function buildRouter(
  { store, profiles, billingRules, tariffs }: { store: Store & CredentialStore; profiles: ProfileStore; billingRules: BillingRulesStore; tariffs: TariffStore },
  config: Pick<Config, 'tariff' | 'legacyTimeZone' | 'defaultEmissionFactor' | 'apiAuthentication' | 'distributor'>,
  access: ApiAccess,
  operations: readonly Route[] = [],
  passwords: PasswordChecks = new PasswordChecks(store),
): Router {
  const factors = new EmissionFactors(billingRules, config.defaultEmissionFactor);
  return new Router([
    validacaoUsuarioRoute(store, access, passwords, config.apiAuthentication === 'obrigatoria'),
    sessaoRoute(access),
    ultimaMedicaoRoute(store, access),
    gerarFaturaRoute(store, config.tariff, factors, config.legacyTimeZone, access),
    alertaConsumoRoute(store, access),
    clientesRoute(store, profiles, access, passwords),
    clienteRoute(store, profiles, access),
    metaRoute(store, profiles, access),
    senhaRoute(store, access, passwords),
    medicoesRoute(store, config.legacyTimeZone, access),
    consumoRoute(store, config.legacyTimeZone, config.tariff, factors, access, new PriceEstimates({ tariffs, rules: billingRules, profiles }, config.distributor, config.legacyTimeZone)),
    ...operations,
  ]);
}

export interface RunningServer {
  readonly http: AddressInfo;
  readonly udp: AddressInfo & { receiveBufferBytes: number };
  readonly store: Store & CredentialStore;
  readonly tariffs: TariffStore;
  /** Every route's path pattern. */
  readonly routePaths: readonly string[];
  /** The automatic billing job, when FATURAMENTO_AUTOMATICO=sim. */
  readonly billingJob: BillingJob | undefined;
  /** What start-up logs about the storage. */
  readonly storage: Record<string, unknown>;
  readonly ingest: UdpIngest;
  readonly commands: CommandStore;
  readonly events: EventStore;
  readonly delivery: CommandDelivery;
  readonly eventIntake: EventIntake;
  readonly alerts: AlertStore;
  readonly forecasts: ForecastRecordStore;
  readonly alertCenter: AlertCenter;
  readonly webhook: WebhookSender | undefined;
  /** The scheduled fleet reports (undefined with RELATORIOS_INTERVALO_H=0). */
  readonly reportJob: ReportJob | undefined;
  /** Runs a goal pass now (forecast every customer with a goal; alert or clear), as the ALERTAS_META_INTERVALO_S timer does. */
  checkGoals(): Promise<void>;
  /** Records mid-cycle forecasts and settles closed cycles (PREVISOES_INTERVALO_S); `runOnce(now)` runs a pass as of `now`. */
  readonly forecastJob: ForecastJob;
  /** PostgreSQL's monthly partitions: made ahead, and past RETENCAO_MESES exported and dropped (undefined for the file store). */
  readonly partitionJob: PartitionJob | undefined;
  /** HTTP connections open now. */
  httpConnections(): number;
  /** Meters with a key in the keys file. */
  readonly meterKeys: number;
  /** DATA_DIR's operator token file, when this start created it (main.ts tells the operator how to use it, once). */
  readonly createdOperatorTokenFile: string | undefined;
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
  const { store, tariffs, billingRules, profiles, invoices, commands, alerts, events, forecasts, meterCounters, accessStore, audit, changes, poolUsage, maintainPartitions, warmUp, description } = await openStore(config, logger.child({ component: 'store' }), config.exampleCustomers ? SEED_CUSTOMERS_FILE : undefined);
  let loaded;
  try {
    loaded = await loadApiAccess(config, accessStore);
  } catch (error) {
    await store.close();
    throw error;
  }
  const { access, createdOperatorTokenFile } = loaded;
  // Another server sharing the database may revoke tokens or disable an account: read them again now and then.
  const accessTimer = config.storage === 'postgres' ? setInterval(() => access.refresh().catch((error: unknown) => logger.warn({ err: error }, 'could not reload token generations')), ACCESS_REFRESH_MS).unref() : undefined;
  const httpMetrics = new HttpMetrics();
  const metrics = new MetricsRegistry();
  // The dear analytic answers, kept per meter until its newest reading or any change made through the API (result-cache.ts).
  const versions = new AnswerVersions();
  const answers = <T>() => new MeterAnswers<T>(async (matricula) => (await store.recentReadings(matricula, 1))[0]?.timestamp, versions);
  const billingCap = billingCapability({ stores: { store, tariffs, billingRules, profiles, invoices }, config, access, logger, answers: () => answers<Answer>() });
  const fleet = new FleetTracker();
  // The fleet as the store knows it, so silent meters and alerts survive a restart (and, after a lost change feed, what other servers stored).
  const loadFleet = async (refresh: boolean): Promise<void> => {
    for await (const meters of store.recentReadingsOfEveryMeter(ALERT_READINGS)) fleet.seed(meters, refresh);
    fleet.noted(await events.newestPerMeter(SUPPLY_EVENTS));
    fleet.noted(await events.newestPerMeter(POWER_EVENTS));
  };
  try {
    await loadFleet(false);
  } catch (error) {
    clearInterval(accessTimer);
    await store.close();
    throw error;
  }
  const live = new LiveEvents((silentAfterS) => fleet.summary(silentAfterS));
  const analyticsCap = analyticsCapability({ stores: { store, profiles, forecasts }, billing: billingCap.billing, factors: billingCap.factors, config, access, logger, answers: () => answers<Answer>() });
  const reportsCap = reportsCapability({ stores: { store, events, alerts }, fleet, factors: billingCap.factors, config, access, logger });
  const capabilities: readonly Capability[] = [billingCap, analyticsCap, reportsCap];
  const alertLogger = logger.child({ component: 'alertas' });
  const webhook =
    config.webhookUrl === ''
      ? undefined
      : new WebhookSender({
          url: config.webhookUrl,
          secret: config.webhookSecret,
          logger: alertLogger,
        });
  const alertCenter = new AlertCenter({ alerts, events, eventPayload: eventJson, fleet, logger: alertLogger, webhook, publish: (alert) => live.meterNews(alert.matricula, 'alerta', alertJson(alert)) });
  const gate = new MeterLineGate(authenticator, meterCounters);
  const meterLines = {
    admit: (lines: readonly MeterLine[]) => gate.admit(lines),
    sign: (line: string, matricula: string) => authenticator.sign(line, matricula),
    send: (lines: readonly string[], to: { address: string; port: number }) => ingest.send(lines, to),
    heardFrom: (matricula: string, from: { address: string; port: number }) => ingest.heardFrom(matricula, from),
  };
  const delivery = new CommandDelivery({
    commands,
    logger: logger.child({ component: 'comandos' }),
    // Delivered by the server that last heard the meter: another one's address for it is out of date.
    addressOf: (matricula) => (fleet.heardBy(matricula) === undefined ? ingest.addressOf(matricula) : undefined),
    ...meterLines,
    onChange: (command) => live.meterNews(command.matricula, 'comando', commandJson(command)),
  });
  const eventIntake = new EventIntake({
    events,
    delivery: webhook === undefined ? 'desativada' : 'pendente',
    logger: logger.child({ component: 'ocorrencias' }),
    timestampRules: { maxAheadMs: MAX_CLOCK_AHEAD_MS, maxAgeMs: config.readingMaxAgeDays * DAY_MS },
    known: (matricula) => fleet.heardAt(matricula) !== undefined,
    isCustomer: async (matricula) => (await store.findCustomers({ matricula, limit: 1 })).length > 0,
    strangersPerMinute: config.strangerEventsPerMinute,
    ...meterLines,
    onStored: (stored) => {
      fleet.noted(stored);
      for (const event of stored) live.meterNews(event.matricula, 'ocorrencia', eventJson(event));
      alertCenter.events(stored);
    },
  });
  const passwords = new PasswordChecks(store, { lookupsPerMinute: config.lookupsPerMinute });
  // The listeners are made below; the metrics route reads them only when scraped.
  const operations = [
    saudeRoute({
      store,
      startedAt: Date.now(),
      storage: config.storage,
      httpConnections: () => httpServer.openConnections,
      pendingReadings: () => ingest.pendingCount,
      maxPendingReadings: config.udpMaxPending,
      feed: changes,
      poolUsage,
    }),
    metricasRoute(clusterMetrics(() => metrics.render())),
    eventosRoute(store, live, access),
    frotaRoute(fleet, access),
    frotaMedidoresRoute(fleet, store, access),
    ...comandosRoutes({ commands, delivery, store, access, hasKey: (m) => authenticator.hasKey(m) }),
    medidorRoute({ store, commands, events, delivery, fleet, access, addressOf: (m) => ingest.addressOf(m), hasKey: (m) => authenticator.hasKey(m) }),
    ocorrenciasRoute(events, config.legacyTimeZone, access),
    qualidadeRoute(store, config.legacyTimeZone, access),
    ...alertasRoutes(alerts, access),
    ...operadoresRoutes({ accounts: accessStore, audit, access, passwords }),
    ...capabilities.flatMap((capability) => capability.routes),
    ...(await dashboardRoutes()),
  ];
  const router = buildRouter({ store, profiles, billingRules, tariffs }, config, access, operations, passwords);
  const httpLogger = logger.child({ component: 'http' });
  const httpServer: HttpServer = new HttpServer({
    responder: new Responder({ router, logger: httpLogger, corsOrigins: config.corsOrigins, metrics: httpMetrics, principalOf: (request, address) => access.principalKey(request, address), trustedProxies: config.trustedProxies.length === 0 ? undefined : trustedProxies(config.trustedProxies), audit: (record) => audit.append(record), onChange: () => versions.changed(), observe: hooks.observe }),
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
  const ingest: UdpIngest = new UdpIngest({
    store,
    logger: logger.child({ component: 'udp' }),
    legacyTimeZone: config.legacyTimeZone,
    receiveBufferBytes: config.udpReceiveBuffer,
    maxPendingReadings: config.udpMaxPending,
    maxAgeDays: config.readingMaxAgeDays,
    authenticator,
    onStored: (readings, result) => {
      fleet.heard(readings, result.outcomes, result.qualities);
      live.stored(readings, result.outcomes);
      alertCenter.stored(readings, result);
    },
    onControl: (message, from) => {
      // Meters send answers and events in datagrams of their own; each line goes to its handler by its tag.
      const { groups, lines } = linesByTag(message);
      const answers = groups.get(ANSWER_TAG) ?? [];
      const reported = groups.get(EVENT_TAG) ?? [];
      ingest.counters.malformed += lines - answers.length - reported.length;
      if (answers.length > 0) delivery.answered(answers, from).catch((error: unknown) => logger.warn({ err: error }, 'could not judge meter answers; the meter repeats them'));
      if (reported.length > 0) eventIntake.received(reported, from);
    },
  });
  // What /metricas shows, each component's families in turn (the listeners' first, the requests' last).
  metrics.register((out) => ingest.writeMetrics(out));
  metrics.register((out) => httpServer.writeMetrics(out));
  metrics.register((out) => live.writeMetrics(out));
  metrics.register((out) => delivery.writeMetrics(out));
  metrics.register(replayMetrics(() => delivery.counters.answersReplayed + eventIntake.counters.replayed));
  metrics.register((out) => eventIntake.writeMetrics(out));
  metrics.register(alertMetrics(alertCenter));
  if (webhook !== undefined) metrics.register((out) => webhook.writeMetrics(out));
  metrics.register(storageMetrics(changes, poolUsage));
  metrics.register((out) => httpMetrics.write(out));
  let http: AddressInfo;
  let udp: AddressInfo & { receiveBufferBytes: number };
  try {
    http = await httpServer.listen(config.httpPort, config.host);
    udp = await ingest.listen(config.udpPort, config.host);
  } catch (error) {
    await Promise.allSettled([httpServer.close(), ingest.close(), passwords.close()]);
    clearInterval(accessTimer);
    live.close();
    await store.close();
    throw error;
  }
  for (const capability of capabilities) capability.start?.();
  await delivery.start();
  const feedLogger = logger.child({ component: 'feed' });
  await changes.listen({
    changed(change, origin, sentAt) {
      if (change.kind === 'leituras') {
        const outcomes = change.readings.map(() => 'stored' as const);
        fleet.heard(change.readings, outcomes, change.readings.map((reading) => reading.quality ?? VALID), { origin });
        live.stored(change.readings, outcomes);
      } else if (change.kind === 'ocorrencias') {
        fleet.noted(change.events);
        for (const event of change.events) live.meterNews(event.matricula, 'ocorrencia', eventJson(event));
      } else void delivery.refresh(change.id);
    },
    resync() {
      loadFleet(true).catch((error: unknown) => feedLogger.warn({ err: error }, 'could not reload the fleet after the change feed came back'));
    },
  });
  await alertCenter.start();
  const goalTimer = setInterval(() => {
    alertCenter.checkGoals(profiles, analyticsCap.forecasting).catch((error: unknown) => alertLogger.error({ err: error }, 'goal check failed'));
  }, config.goalCheckIntervalS * 1000);
  goalTimer.unref();
  const partitionJob = maintainPartitions === undefined ? undefined : new PartitionJob(maintainPartitions, config.retentionMonths, config.retentionExportDir === '' ? undefined : config.retentionExportDir, logger.child({ component: 'particoes' }));
  partitionJob?.start();
  if (warmUp !== undefined) {
    const began = Date.now();
    // In the background: the server takes readings meanwhile (a meter not warmed yet has its window read by its first batch, as before).
    warmUp().then(
      (meters) => logger.info({ medidores: meters, ms: Date.now() - began }, 'admission windows read ahead'),
      (error: unknown) => logger.warn({ err: (error as Error).message }, 'could not read admission windows ahead; each is read with its meter\'s first batch'),
    );
  }
  let closing: Promise<void> | undefined;
  return {
    http,
    udp,
    store,
    tariffs,
    routePaths: router.paths,
    billingJob: billingCap.job,
    storage: description,
    ingest,
    commands,
    events,
    delivery,
    eventIntake,
    alerts,
    forecasts,
    alertCenter,
    webhook,
    checkGoals: () => alertCenter.checkGoals(profiles, analyticsCap.forecasting),
    reportJob: reportsCap.job,
    forecastJob: analyticsCap.forecastJob,
    partitionJob,
    httpConnections: () => httpServer.openConnections,
    meterKeys: authenticator.keyCount,
    createdOperatorTokenFile,
    close() {
      closing ??= (async () => {
        // Events being stored when ingest stops are kept; their acknowledgement is not sent, and the meter's resend is recognised.
        clearInterval(goalTimer);
        clearInterval(accessTimer);
        await Promise.all([...capabilities.map((capability) => capability.close()), partitionJob?.close()]);
        alertCenter.stop();
        webhook?.close();
        await Promise.all([httpServer.close(), delivery.close(), ingest.close().then(() => eventIntake.settle())]);
        live.close();
        await Promise.all([store.close(), passwords.close()]);
      })();
      return closing;
    },
  };
}
