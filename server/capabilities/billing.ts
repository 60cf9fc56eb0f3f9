/**
 * Billing: tariffs, the operator's parameters, bandeiras and emission
 * factors, a cycle's invoice (issued, listed, cancelled, previewed, as PDF),
 * the Tarifa Branca simulation, and automatic billing when cycles close.
 */
import type { Logger } from 'pino';
import { BillingJob } from '../../app/billing/billing-job.js';
import { BillingService } from '../../app/billing/billing.js';
import { EmissionFactors } from '../../app/emission-factors.js';
import { renderInvoicePdf } from '../../app/views/invoice-pdf.js';
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import type { InvoiceStore } from '../../database/invoice-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { Store } from '../../database/store.js';
import type { TariffStore } from '../../database/tariff-store.js';
import type { Config } from '../config.js';
import type { ApiAccess } from '../http/api-access.js';
import type { MeterAnswers } from '../http/result-cache.js';
import type { Answer } from '../http/router.js';
import { bandeirasRoutes, distribuidoraRoute, fatoresEmissaoRoutes, parametrosRoute, pisCofinsRoutes } from '../routes/faturamento.js';
import { faturasRoutes } from '../routes/faturas.js';
import { simulacaoRoute } from '../routes/simulacao.js';
import { tarifasRoute } from '../routes/tarifas.js';
import type { Capability } from './capability.js';

export interface BillingDeps {
  readonly stores: { readonly store: Store; readonly tariffs: TariffStore; readonly billingRules: BillingRulesStore; readonly profiles: ProfileStore; readonly invoices: InvoiceStore };
  readonly config: Pick<Config, 'distributor' | 'legacyTimeZone' | 'defaultEmissionFactor' | 'automaticBilling' | 'automaticBillingIntervalS'>;
  readonly access: ApiAccess;
  readonly logger: Logger;
  /** Kept answers of the dear routes, per meter (result-cache.ts). */
  readonly answers: () => MeterAnswers<Answer>;
}

export interface BillingCapability extends Capability {
  readonly billing: BillingService;
  readonly factors: EmissionFactors;
  /** The automatic billing job, when FATURAMENTO_AUTOMATICO=sim. */
  readonly job: BillingJob | undefined;
}

export function billingCapability({ stores, config, access, logger, answers }: BillingDeps): BillingCapability {
  const { store, tariffs, billingRules, profiles, invoices } = stores;
  const factors = new EmissionFactors(billingRules, config.defaultEmissionFactor);
  const billing = new BillingService({ store, tariffs, rules: billingRules, profiles, invoices }, config.distributor, config.legacyTimeZone, factors);
  const job = config.automaticBilling
    ? new BillingJob({ store, profiles, invoices, billing, rules: billingRules, distributor: config.distributor, timeZone: config.legacyTimeZone, intervalMs: config.automaticBillingIntervalS * 1000, logger: logger.child({ component: 'faturamento' }) })
    : undefined;
  return {
    billing,
    factors,
    job,
    routes: [
      tarifasRoute(tariffs, config.legacyTimeZone),
      parametrosRoute(billingRules, access),
      simulacaoRoute(billing, profiles, access, config.legacyTimeZone, answers()),
      ...faturasRoutes({ invoices, billing, access, distributor: config.distributor, rules: billingRules, pdf: (invoice) => renderInvoicePdf(invoice, config.legacyTimeZone) }),
      ...bandeirasRoutes(billingRules, access),
      ...pisCofinsRoutes(billingRules, access),
      distribuidoraRoute(billingRules, config.distributor, access),
      ...fatoresEmissaoRoutes(billingRules, config.defaultEmissionFactor, access),
    ],
    start: () => job?.start(),
    close: async () => {
      await job?.close();
    },
  };
}
