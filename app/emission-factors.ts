/** Each month's emission factor from the billing rules store, with the configured default for months without one. */
import type { BillingRulesStore } from '../database/billing-rules-store.js';
import { factorLookup } from '../domain/co2e.js';

export class EmissionFactors {
  constructor(
    private readonly rules: BillingRulesStore,
    readonly fallback: bigint,
  ) {}

  /** The factor (10^-6 kg CO2e/kWh) of every month from `fromMonth` to `toMonth` (`YYYY-MM`, inclusive). */
  async between(fromMonth: string, toMonth: string): Promise<(month: string) => bigint> {
    return factorLookup(await this.rules.listEmissionFactors(fromMonth, toMonth), this.fallback);
  }
}
