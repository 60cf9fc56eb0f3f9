/** Operations: `/saude` (this server and its database, liveness and readiness) and `/metricas` (Prometheus text format). */
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { HttpServer } from '../http/http-server.js';
import { ExpositionWriter, type HttpMetrics } from '../metrics.js';
import type { Route, RouteInput } from '../http/router.js';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ChangeFeed } from '../../database/change-feed.js';
import type { PoolUsage } from '../../database/open-store.js';
import type { CommandDelivery } from '../udp/command-delivery.js';
import { ALERT_KINDS } from '../../database/alert-store.js';
import type { AlertCenter } from '../../app/alert-center.js';
import type { WebhookSender } from '../webhook.js';
import type { EventIntake } from '../udp/meter-events.js';
import type { UdpIngest } from '../udp/ingest.js';
import type { LiveEvents } from '../live/live-events.js';

/** What `/saude` reads about this process and its database. */
export interface HealthSources {
  readonly store: Store;
  readonly startedAt: number;
  readonly storage: 'arquivos' | 'postgres';
  readonly httpConnections: () => number;
  readonly pendingReadings: () => number;
  readonly maxPendingReadings: number;
  readonly feed: ChangeFeed;
  readonly poolUsage: (() => PoolUsage) | undefined;
}

/** Milliseconds, to a tenth. */
const tenths = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * `/saude` tells this server's state (`servidor`) apart from its
 * database's (`banco`). Readiness (the default): 200 while both are fine,
 * 503 with `Retry-After` when the database cannot take writes — what a load
 * balancer polls. `escopo=servidor` (liveness, what an orchestrator restarts
 * on): 200 while this process answers, whatever the database.
 */
export function saudeRoute(sources: HealthSources): Route {
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const handler = async (input: RouteInput) => {
    const { startedAt, store } = sources;
    const pending = sources.pendingReadings();
    const servidor = {
      estado: pending >= sources.maxPendingReadings ? 'sobrecarregado' : 'ok',
      pid: process.pid,
      conexoes_http: sources.httpConnections(),
      leituras_aguardando_banco: pending,
      atraso_laco_eventos_ms: tenths(loop.max / 1e6),
    };
    loop.reset();
    const base = { iniciado_em: formatIsoTimestamp(startedAt), tempo_atividade_s: Math.floor((Date.now() - startedAt) / 1000) };
    if (input.query.get('escopo') === 'servidor') return { status: 200, body: { status: 'ok', ...base, servidor } };
    const feed = sources.feed.stats();
    const pool = sources.poolUsage?.();
    const banco = {
      tipo: sources.storage,
      ...(pool === undefined ? {} : { conexoes: { maximo: pool.max, abertas: pool.total, em_uso: pool.busy, aguardando: pool.waiting } }),
      ...(sources.storage === 'postgres' ? { notificacoes: feed.listening ? 'ouvindo' : 'reconectando' } : {}),
    };
    const began = performance.now();
    try {
      await store.health();
      return { status: 200, body: { status: 'ok', ...base, armazenamento: 'ok', servidor, banco: { estado: 'ok', latencia_ms: tenths(performance.now() - began), ...banco } } };
    } catch (error) {
      return {
        status: 503,
        body: { status: 'degradado', ...base, armazenamento: 'indisponivel', motivo: (error as Error).message, servidor, banco: { estado: 'indisponivel', motivo: (error as Error).message, ...banco } },
        headers: [['Retry-After', '5']] as const,
      };
    }
  };
  return { path: '/saude', handlers: { GET: handler } };
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `render` gives the exposition: this process's, or with PROCESSOS every worker's (server/cluster.ts). */
export function metricasRoute(render: () => Promise<string>): Route {
  return { path: '/metricas', handlers: { GET: async () => ({ status: 200, text: await render(), contentType: PROMETHEUS_CONTENT_TYPE }) } };
}

/** Everything `/metricas` reports, in the Prometheus text format. */
export interface ChannelMetrics {
  readonly delivery: Pick<CommandDelivery, 'counters' | 'openCount'>;
  readonly events: Pick<EventIntake, 'counters'>;
  readonly alerts?: Pick<AlertCenter, 'raised' | 'failures'>;
  readonly webhook?: Pick<WebhookSender, 'counters' | 'pending'> | undefined;
  readonly feed?: ChangeFeed;
  readonly poolUsage?: (() => PoolUsage) | undefined;
}

export function renderMetrics(http: HttpMetrics, httpServer: HttpServer, ingest: UdpIngest, live: LiveEvents, channel?: ChannelMetrics): string {
  const out = new ExpositionWriter();
  const c = ingest.counters;
  const counter = (name: string, help: string, value: number): void => void out.family(name, 'counter', help).sample(name, value);
  counter('consumo_datagramas_recebidos_total', 'UDP datagrams received from meters.', c.datagrams);
  counter('consumo_datagramas_descartados_total', 'Datagrams dropped unread because too many readings were waiting for the store (UDP_MAX_PENDENTES).', c.shed);
  counter('consumo_leituras_recebidas_total', 'Well-formed, authentic, not-future readings handed to the store.', c.readings);
  counter('consumo_leituras_armazenadas_total', 'Readings newly stored.', c.stored);
  counter('consumo_leituras_duplicadas_total', 'Readings already stored, identical (resends, replays).', c.duplicates);
  out.family('consumo_leituras_rejeitadas_total', 'counter', 'Readings refused, by reason: the rules answered with REJEITADA, and assinatura and limite_medidores, which are not answered.');
  for (const [motivo, count] of Object.entries(c.rejected)) out.sample('consumo_leituras_rejeitadas_total', count, { motivo });
  out.sample('consumo_leituras_rejeitadas_total', c.unauthenticated, { motivo: 'assinatura' });
  out.sample('consumo_leituras_rejeitadas_total', c.refused, { motivo: 'limite_medidores' });
  counter('consumo_rejeicoes_enviadas_total', 'REJEITADA lines sent to meters.', c.rejectionsSent);
  counter('consumo_linhas_malformadas_total', 'Datagram lines (or whole datagrams) that did not parse.', c.malformed);
  counter('consumo_acks_enviados_total', 'ACK lines sent to meters.', c.acksSent);
  counter('consumo_falhas_armazenamento_total', 'Store calls that failed (not acknowledged; meters resend).', c.storeFailures);
  out.family('consumo_lote_leituras', 'histogram', 'Readings per store call (group commit).').histogram('consumo_lote_leituras', ingest.batchSizes);
  out.family('consumo_commit_segundos', 'histogram', 'Time for a batch of readings to become durable.').histogram('consumo_commit_segundos', ingest.commitSeconds);
  out.family('consumo_http_conexoes_abertas', 'gauge', 'Open HTTP connections.').sample('consumo_http_conexoes_abertas', httpServer.openConnections);
  out.family('consumo_http_bytes_aguardando_clientes', 'gauge', 'Answer bytes held for clients that have not read them yet.').sample('consumo_http_bytes_aguardando_clientes', httpServer.bufferedAnswerBytes());
  counter('consumo_http_conexoes_recusadas_total', 'Connections answered 503 at HTTP_MAX_CONEXOES.', httpServer.refusedConnections);
  out.family('consumo_sse_clientes', 'gauge', 'Clients connected to /eventos.').sample('consumo_sse_clientes', live.clients);
  counter('consumo_sse_clientes_descartados_total', 'Clients of /eventos dropped for falling too far behind.', live.dropped);
  if (channel !== undefined) {
    const d = channel.delivery.counters;
    counter('consumo_comandos_enviados_total', 'COMANDO lines sent to meters (each retry counts).', d.sent);
    counter('consumo_comandos_respostas_total', 'Authentic answers of meters to commands not yet finished.', d.answers);
    counter('consumo_comandos_respostas_ignoradas_total', 'Answers malformed, not authentic, or naming another meter.', d.answersIgnored);
    out.family('consumo_comandos_abertos', 'gauge', 'Commands pendente or enviado.').sample('consumo_comandos_abertos', channel.delivery.openCount);
    const e = channel.events.counters;
    counter('consumo_mensagens_repetidas_total', 'Authentic answers and events of keyed meters refused as replays (invocation counter not above the newest accepted).', d.answersReplayed + e.replayed);
    out.family('consumo_ocorrencias_total', 'counter', 'EVENTO lines from meters, by what became of them.');
    for (const [resultado, count] of [['armazenada', e.stored], ['ignorada', e.ignored], ['repetida', e.replayed], ['recusada', e.refused], ['adiada', e.deferred], ['medidor_desconhecido', e.unknown], ['sem_cliente_limitada', e.strangers]] as const) out.sample('consumo_ocorrencias_total', count, { resultado });
  }
  if (channel?.alerts !== undefined) {
    out.family('consumo_alertas_total', 'counter', 'Alerts raised since start, by kind.');
    for (const kind of ALERT_KINDS) out.sample('consumo_alertas_total', channel.alerts.raised.get(kind) ?? 0, { tipo: kind });
    counter('consumo_alertas_falhas_total', 'Alerts that could not be stored (logged).', channel.alerts.failures);
  }
  const webhook = channel?.webhook;
  if (webhook !== undefined) {
    const w = webhook.counters;
    out.family('consumo_webhook_entregas_total', 'counter', 'Webhook deliveries, by outcome: entregue, tentativa_falhou (retried), desistida (after the last attempt), descartada (queue full).');
    for (const [resultado, count] of [['entregue', w.delivered], ['tentativa_falhou', w.failedAttempts], ['desistida', w.givenUp], ['descartada', w.dropped]] as const) out.sample('consumo_webhook_entregas_total', count, { resultado });
    out.family('consumo_webhook_pendentes', 'gauge', 'Webhook deliveries waiting or in flight.').sample('consumo_webhook_pendentes', webhook.pending);
  }
  const pool = channel?.poolUsage?.();
  if (pool !== undefined) {
    out.family('consumo_pg_conexoes', 'gauge', 'PostgreSQL pool connections: maximo (PG_POOL_MAX), abertas, em_uso; aguardando: callers waiting for one.');
    for (const [estado, count] of [['maximo', pool.max], ['abertas', pool.total], ['em_uso', pool.busy], ['aguardando', pool.waiting]] as const) out.sample('consumo_pg_conexoes', count, { estado });
  }
  if (channel?.feed !== undefined && pool !== undefined) {
    const f = channel.feed.stats();
    out.family('consumo_notificacoes_total', 'counter', 'Change notifications (LISTEN/NOTIFY) between servers sharing the database: enviada, recebida (from another server), falhou (not sent).');
    for (const [resultado, count] of [['enviada', f.published], ['recebida', f.received], ['falhou', f.failed]] as const) out.sample('consumo_notificacoes_total', count, { resultado });
    counter('consumo_notificacoes_reconexoes_total', 'Times the change feed connection was lost and made again (each reloads the fleet from the store).', f.reconnects);
    out.family('consumo_notificacoes_atraso_segundos', 'gauge', 'Delay of the newest change received from another server (its arrival minus its sending, by the two servers\' clocks).').sample('consumo_notificacoes_atraso_segundos', (f.lastLagMs ?? 0) / 1000);
    out.family('consumo_notificacoes_ouvindo', 'gauge', '1 while the change feed is listening.').sample('consumo_notificacoes_ouvindo', f.listening ? 1 : 0);
  }
  http.write(out);
  return out.text();
}
