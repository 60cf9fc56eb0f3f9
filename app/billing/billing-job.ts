/**
 * FATURAMENTO_AUTOMATICO=sim: every FATURAMENTO_INTERVALO_S (and at start)
 * the server issues each customer's invoice of the cycles that closed
 * recently. It keeps no state of its own: the invoice store's idempotent
 * issue is what makes a pass after a restart, or on another server, issue
 * nothing twice.
 */
import type { Logger } from 'pino';
import type { InvoiceStore } from '../../database/invoice-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { Store } from '../../database/store.js';
import type { BillingService } from './billing.js';
import { cycleContaining, cycleMonth, previousMonth } from '../../domain/billing/cycle.js';
import { DomainError, type DomainErrorCode } from '../../domain/errors.js';
import { issueInvoice } from './issuing.js';
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import { PeriodicPass } from '../periodic.js';

/** Customers read per page of a pass. */
const PAGE = 500;
/** Closed cycles looked at per customer: the newest, and the one before in case the server was down over a whole cycle. */
const CYCLES_BACK = 2;
/** Refusals that only mean "not billable yet (or ever)": not worth more than a debug line. */
const NOT_BILLABLE = new Set<DomainErrorCode>(['ciclo_aberto', 'medicoes_insuficientes', 'sem_medicoes']);

export interface BillingJobOptions {
  readonly store: Store;
  readonly profiles: ProfileStore;
  readonly invoices: InvoiceStore;
  readonly billing: BillingService;
  readonly rules: BillingRulesStore;
  readonly distributor: string;
  readonly timeZone: string;
  readonly intervalMs: number;
  readonly logger: Logger;
}

export class BillingJob extends PeriodicPass {
  /** Invoices this server issued (for /metricas and tests). */
  issued = 0;

  constructor(private readonly options: BillingJobOptions) {
    super(options.intervalMs, options.logger, 'automatic billing pass');
  }

  /** One pass over every customer. */
  protected async pass(now: number, stopped: () => boolean): Promise<void> {
    const { store, profiles, invoices, billing, rules, distributor, timeZone, logger } = this.options;
    for (let offset = 0; !stopped(); offset += PAGE) {
      const customers = await store.findCustomers({ offset, limit: PAGE });
      for (const customer of customers) {
        if (stopped()) return;
        const profile = await profiles.profile(customer.matricula);
        // The newest closed cycles, oldest first: numbers follow the cycles' order.
        const months: string[] = [];
        let open = cycleMonth(cycleContaining(now, profile.readingDay, timeZone));
        for (let back = 0; back < CYCLES_BACK; back++) {
          open = previousMonth(open);
          months.unshift(open);
        }
        for (const month of months) {
          try {
            const { created, invoice } = await issueInvoice({ invoices, billing, rules, distributor }, customer.matricula, month, new Date(now));
            if (created) {
              this.issued++;
              logger.info({ matricula: customer.matricula, ciclo: month, numero: invoice.numero }, 'invoice issued automatically');
            }
          } catch (error) {
            if (error instanceof DomainError && NOT_BILLABLE.has(error.code)) logger.debug({ matricula: customer.matricula, ciclo: month, codigo: error.code }, 'cycle not billable yet');
            else if (error instanceof DomainError) logger.warn({ matricula: customer.matricula, ciclo: month, codigo: error.code, err: error.message }, 'automatic billing refused a cycle');
            else throw error;
          }
        }
      }
      if (customers.length < PAGE) break;
    }
  }
}
