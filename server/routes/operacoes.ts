/** Operations: `/saude` (liveness and storage readiness) and `/metricas` (Prometheus text format). */
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { Route } from '../router.js';

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
