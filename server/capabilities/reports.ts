/**
 * Reports: a meter's or the fleet's day, week or month (JSON, CSV, PDF),
 * and the fleet reports written on schedule to DATA_DIR/relatorios.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EmissionFactors } from '../../app/emission-factors.js';
import type { FleetTracker } from '../../app/fleet.js';
import { REPORTS_DIR, ReportArchive, ReportJob } from '../../app/reports/report-job.js';
import { Reporting } from '../../app/reports/reporting.js';
import type { AlertStore } from '../../database/alert-store.js';
import type { EventStore } from '../../database/event-store.js';
import type { Store } from '../../database/store.js';
import type { Config } from '../config.js';
import type { ApiAccess } from '../http/api-access.js';
import { relatoriosRoutes } from '../routes/relatorios.js';
import type { Capability } from './capability.js';

export interface ReportsDeps {
  readonly stores: { readonly store: Store; readonly events: EventStore; readonly alerts: AlertStore };
  readonly fleet: FleetTracker;
  readonly factors: EmissionFactors;
  readonly config: Pick<Config, 'dataDir' | 'legacyTimeZone' | 'reportIntervalH' | 'reportRetentionDays'>;
  readonly access: ApiAccess;
  readonly logger: Logger;
}

export interface ReportsCapability extends Capability {
  /** The scheduled fleet reports (undefined with RELATORIOS_INTERVALO_H=0). */
  readonly job: ReportJob | undefined;
}

export function reportsCapability({ stores, fleet, factors, config, access, logger }: ReportsDeps): ReportsCapability {
  const reporting = new Reporting({ ...stores, fleet, factors });
  const archive = new ReportArchive(join(config.dataDir, REPORTS_DIR));
  const job =
    config.reportIntervalH === 0
      ? undefined
      : new ReportJob({ reporting, archive, intervalMs: config.reportIntervalH * 3_600_000, retentionDays: config.reportRetentionDays, timeZone: config.legacyTimeZone, logger: logger.child({ component: 'relatorios' }) });
  return {
    job,
    routes: relatoriosRoutes(reporting, archive, config.legacyTimeZone, access),
    start: () => job?.start(),
    close: async () => {
      await job?.close();
    },
  };
}
