/** Operations: `/saude` (this server and its database, liveness and readiness) and `/metricas` (Prometheus text format). */
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { Route } from '../http/router.js';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ChangeFeed } from '../../database/change-feed.js';
import type { PoolUsage } from '../../database/open-store.js';
import { z } from 'zod';
import { withFields } from './fields.js';

/** `escopo=servidor` asks for this process only; any other value (or none), the server and its database. */
const healthSchema = z.object({ escopo: z.string().optional() });

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
  const handler = withFields(healthSchema, async (_input, read) => {
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
    if (read().escopo === 'servidor') return { status: 200, body: { status: 'ok', ...base, servidor } };
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
  });
  return { path: '/saude', handlers: { GET: handler } };
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `render` gives the exposition: this process's, or with PROCESSOS every worker's (server/cluster.ts). */
export function metricasRoute(render: () => Promise<string>): Route {
  return { path: '/metricas', handlers: { GET: async () => ({ status: 200, text: await render(), contentType: PROMETHEUS_CONTENT_TYPE }) } };
}

