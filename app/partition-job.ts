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

export class PartitionJob extends PeriodicPass {
  constructor(
    private readonly maintain: NonNullable<OpenedStore['maintainPartitions']>,
    private readonly retentionMonths: number,
    private readonly exportDir: string | undefined,
    logger: Logger,
  ) {
    super(PARTITION_PASS_INTERVAL_MS, logger, 'partition maintenance');
  }

  protected async pass(now: number): Promise<void> {
    const result = await this.maintain(now, this.retentionMonths, this.exportDir);
    if (result.created.length + result.dropped.length > 0) this.logger.info({ criadas: result.created, exportadas: result.exported, removidas: result.dropped }, 'monthly partitions maintained');
  }
}
