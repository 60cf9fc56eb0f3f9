/**
 * The forecast record (issue 17): every PREVISOES_INTERVALO_S (and at
 * start) each customer whose cycle is past its middle gets that cycle's
 * mid-cycle projection written down once, and recorded cycles that have
 * closed are settled against what they consumed. It keeps no state of its
 * own: the store's one-record-per-cycle rule makes a pass after a restart,
 * or on another server, record nothing twice.
 */
import type { Logger } from 'pino';
import type { ForecastRecordStore, RecordKey } from '../../database/forecast-record-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { Store } from '../../database/store.js';
import { calendarMonth, type Forecasting } from './forecasting.js';
import { DomainError } from '../../domain/errors.js';
import { PeriodicPass } from '../periodic.js';

/** Customers, and unsettled records, read per page of a pass. */
const PAGE = 500;

export interface ForecastJobOptions {
  readonly store: Store;
  readonly profiles: ProfileStore;
  readonly records: ForecastRecordStore;
  readonly forecasting: Forecasting;
  readonly timeZone: string;
  readonly intervalMs: number;
  readonly logger: Logger;
}

export class ForecastJob extends PeriodicPass {
  /** Records written and settled by this server (for /metricas and tests). */
  recorded = 0;
  settled = 0;

  constructor(private readonly options: ForecastJobOptions) {
    super(options.intervalMs, options.logger, 'forecast record pass');
  }

  protected async pass(now: number, stopped: () => boolean): Promise<void> {
    const { store, profiles, records, forecasting, logger } = this.options;
    for (let offset = 0; !stopped(); offset += PAGE) {
      const customers = await store.findCustomers({ offset, limit: PAGE });
      for (const { matricula } of customers) {
        if (stopped()) return;
        try {
          if ((await forecasting.recordMidCycle(matricula, (await profiles.profile(matricula)).readingDay, now)) !== undefined) this.recorded++;
        } catch (error) {
          // Billing not configured holds for every customer: nothing to record this pass.
          if (error instanceof DomainError && error.code === 'faturamento_nao_configurado') return;
          if (!(error instanceof DomainError)) throw error;
          logger.warn({ matricula, codigo: error.code, err: error.message }, 'could not record a forecast');
        }
      }
      if (customers.length < PAGE) break;
    }
    let after: RecordKey | undefined;
    for (;;) {
      const page = await records.unsettled(calendarMonth(now, this.options.timeZone), after, PAGE);
      for (const record of page) {
        if (stopped()) return;
        try {
          if ((await forecasting.settle(record, now)) !== undefined) this.settled++;
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          logger.warn({ matricula: record.matricula, ciclo: record.month, codigo: error.code, err: error.message }, 'could not settle a forecast');
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1];
    }
  }
}
