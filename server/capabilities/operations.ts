/**
 * Operations: health (/saude), metrics (/metricas, every capability's
 * families), the dashboard's files, PostgreSQL's monthly partitions and the
 * admission windows read ahead at start.
 */
import type { Logger } from 'pino';
import { PartitionJob } from '../../app/partition-job.js';
import type { OpenedStore } from '../../database/opened-store.js';
import { clusterMetrics } from '../cluster.js';
import { storageMetrics } from '../component-metrics.js';
import type { Config } from '../config.js';
import type { MetricsRegistry } from '../metrics.js';
import { dashboardRoutes } from '../routes/painel.js';
import { metricasRoute, saudeRoute } from '../routes/operacoes.js';
import type { Capability } from './capability.js';

export interface OperationsDeps {
  readonly stores: Pick<OpenedStore, 'store' | 'changes' | 'poolUsage' | 'maintainPartitions' | 'warmUp'>;
  readonly config: Pick<Config, 'storage' | 'udpMaxPending' | 'retentionMonths' | 'retentionExportDir'>;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly httpConnections: () => number;
  readonly pendingReadings: () => number;
}

export interface OperationsCapability extends Capability {
  /** PostgreSQL's monthly partitions: made ahead, and past RETENCAO_MESES exported and dropped (undefined for the file store). */
  readonly partitionJob: PartitionJob | undefined;
}

export async function operationsCapability({ stores, config, logger, metrics, httpConnections, pendingReadings }: OperationsDeps): Promise<OperationsCapability> {
  const { store, changes, poolUsage, maintainPartitions, warmUp } = stores;
  const partitionJob =
    maintainPartitions === undefined ? undefined : new PartitionJob(maintainPartitions, config.retentionMonths, config.retentionExportDir === '' ? undefined : config.retentionExportDir, logger.child({ component: 'particoes' }));
  return {
    partitionJob,
    routes: [
      saudeRoute({ store, startedAt: Date.now(), storage: config.storage, httpConnections, pendingReadings, maxPendingReadings: config.udpMaxPending, feed: changes, poolUsage }),
      metricasRoute(clusterMetrics(() => metrics.render())),
      ...(await dashboardRoutes()),
    ],
    metrics: [storageMetrics(changes, poolUsage)],
    start() {
      partitionJob?.start();
      if (warmUp === undefined) return;
      const began = Date.now();
      // In the background: the server takes readings meanwhile (a meter not warmed yet has its window read by its first batch, as before).
      warmUp().then(
        (meters) => logger.info({ medidores: meters, ms: Date.now() - began }, 'admission windows read ahead'),
        (error: unknown) => logger.warn({ err: (error as Error).message }, "could not read admission windows ahead; each is read with its meter's first batch"),
      );
    },
    stop: () => partitionJob?.close(),
  };
}
