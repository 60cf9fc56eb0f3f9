/**
 * The /metricas families of components below the server, which do not know
 * the exposition format themselves (the layers below server/ know no
 * transport): the alert centre, the database's pool and change feed.
 */
import type { AlertCenter } from '../app/alert-center.js';
import type { ChangeFeed } from '../database/change-feed.js';
import type { PoolUsage } from '../database/open-store.js';
import { ALERT_KINDS } from '../domain/alerts.js';
import { counter, type Collector } from './metrics.js';

/** Alerts raised since start by kind, and those that could not be stored. */
export function alertMetrics(alerts: Pick<AlertCenter, 'raised' | 'failures'>): Collector {
  return (out) => {
    out.family('consumo_alertas_total', 'counter', 'Alerts raised since start, by kind.');
    for (const kind of ALERT_KINDS) out.sample('consumo_alertas_total', alerts.raised.get(kind) ?? 0, { tipo: kind });
    counter(out, 'consumo_alertas_falhas_total', 'Alerts that could not be stored (logged).', alerts.failures);
  };
}

/** PostgreSQL's pool and the change feed between servers (nothing for the file store, which has neither). */
export function storageMetrics(feed: ChangeFeed, poolUsage: (() => PoolUsage) | undefined): Collector {
  return (out) => {
    const pool = poolUsage?.();
    if (pool === undefined) return;
    out.family('consumo_pg_conexoes', 'gauge', 'PostgreSQL pool connections: maximo (PG_POOL_MAX), abertas, em_uso; aguardando: callers waiting for one.');
    for (const [estado, count] of [['maximo', pool.max], ['abertas', pool.total], ['em_uso', pool.busy], ['aguardando', pool.waiting]] as const) out.sample('consumo_pg_conexoes', count, { estado });
    const f = feed.stats();
    out.family('consumo_notificacoes_total', 'counter', 'Change notifications (LISTEN/NOTIFY) between servers sharing the database: enviada, recebida (from another server), falhou (not sent).');
    for (const [resultado, count] of [['enviada', f.published], ['recebida', f.received], ['falhou', f.failed]] as const) out.sample('consumo_notificacoes_total', count, { resultado });
    counter(out, 'consumo_notificacoes_reconexoes_total', 'Times the change feed connection was lost and made again (each reloads the fleet from the store).', f.reconnects);
    out.family('consumo_notificacoes_atraso_segundos', 'gauge', "Delay of the newest change received from another server (its arrival minus its sending, by the two servers' clocks).").sample('consumo_notificacoes_atraso_segundos', (f.lastLagMs ?? 0) / 1000);
    out.family('consumo_notificacoes_ouvindo', 'gauge', '1 while the change feed is listening.').sample('consumo_notificacoes_ouvindo', f.listening ? 1 : 0);
  };
}
