/** Operations: `/saude` (liveness and storage readiness) and `/metricas` (Prometheus text format). */
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { HttpServer } from '../http/http-server.js';
import { ExpositionWriter, type HttpMetrics } from '../metrics.js';
import type { Route } from '../router.js';
import type { CommandDelivery } from '../command-delivery.js';
import { ALERT_KINDS } from '../../database/alert-store.js';
import type { AlertCenter } from '../alert-center.js';
import type { WebhookSender } from '../webhook.js';
import type { EventIntake } from '../meter-events.js';
import type { UdpIngest } from '../udp-ingest.js';
import type { LiveEvents } from '../live-events.js';

/** 200 while the storage can take writes, 503 otherwise: what a load balancer or orchestrator polls. */
export function saudeRoute(store: Store, startedAt: number): Route {
  const handler = async () => {
    const body = { status: 'ok', iniciado_em: formatIsoTimestamp(startedAt), tempo_atividade_s: Math.floor((Date.now() - startedAt) / 1000) };
    try {
      await store.health();
      return { status: 200, body: { ...body, armazenamento: 'ok' } };
    } catch (error) {
      return { status: 503, body: { ...body, status: 'degradado', armazenamento: 'indisponivel', motivo: (error as Error).message }, headers: [['Retry-After', '5']] as const };
    }
  };
  return { path: '/saude', handlers: { GET: handler } };
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function metricasRoute(render: () => string): Route {
  return { path: '/metricas', handlers: { GET: async () => ({ status: 200, text: render(), contentType: PROMETHEUS_CONTENT_TYPE }) } };
}

/** Everything `/metricas` reports, in the Prometheus text format. */
export interface ChannelMetrics {
  readonly delivery: Pick<CommandDelivery, 'counters' | 'openCount'>;
  readonly events: Pick<EventIntake, 'counters'>;
  readonly alerts?: Pick<AlertCenter, 'raised' | 'failures'>;
  readonly webhook?: Pick<WebhookSender, 'counters' | 'pending'> | undefined;
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
    out.family('consumo_ocorrencias_total', 'counter', 'EVENTO lines from meters, by what became of them.');
    for (const [resultado, count] of [['armazenada', e.stored], ['ignorada', e.ignored], ['recusada', e.refused], ['adiada', e.deferred], ['medidor_desconhecido', e.unknown]] as const) out.sample('consumo_ocorrencias_total', count, { resultado });
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
  http.write(out);
  return out.text();
}
