/**
 * PostgreSQL's monthly partitions kept up (issue 18): at start and every
 * hour, the coming months' partitions are created and, with
 * RETENCAO_MESES, the months past it exported (RETENCAO_EXPORTAR) and
 * dropped. Whichever server holds the schema's advisory lock does it; a
 * pass on another server at the same time does nothing.
 */
import type { Logger } from 'pino';
import type { OpenedStore } from '../database/open-store.js';
import { PeriodicPass } from './periodic.js';

export const PARTITION_PASS_INTERVAL_MS = 3_600_000;

export class PartitionJob {
  private readonly periodic: PeriodicPass;

  constructor(
    maintain: NonNullable<OpenedStore['maintainPartitions']>,
    retentionMonths: number,
    exportDir: string | undefined,
    logger: Logger,
  ) {
    this.periodic = new PeriodicPass(
      async (now) => {
        const result = await maintain(now, retentionMonths, exportDir);
        if (result.created.length + result.dropped.length > 0) logger.info({ criadas: result.created, exportadas: result.exported, removidas: result.dropped }, 'monthly partitions maintained');
      },
      PARTITION_PASS_INTERVAL_MS,
      logger,
      'partition maintenance',
    );
  }

  start(): void {
    this.periodic.start();
  }

  runOnce(now = Date.now()): Promise<void> {
    return this.periodic.runOnce(now);
  }

  close(): Promise<void> {
    return this.periodic.close();
  }
}
