/**
 * Gathers what pricing a meter's consumption by the billing rules needs
 * (the distributor's tariffs over the range, the parameter versions, the
 * bandeiras, the customer's modality) and hands the pure estimate
 * (domain/billing/estimate.ts) its rules. Undefined when billing is not
 * configured (no DISTRIBUIDORA, no parameters, no tariff of the
 * distributor in the range): views then price at the flat TARIFA, and say
 * so.
 */
import { parametersOn } from '../../database/billing-rules-store.js';
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { TariffStore } from '../../database/tariff-store.js';
import type { EstimateRules } from '../../domain/billing/estimate.js';
import type { PriceVersion, TariffKey } from '../../domain/billing/invoice.js';
import { subclassOf } from '../../domain/billing/tariff.js';

export interface PriceEstimateStores {
  readonly tariffs: TariffStore;
  readonly rules: BillingRulesStore;
  readonly profiles: ProfileStore;
}

export interface MeterPricing extends EstimateRules {
  readonly distributor: string;
}

export class PriceEstimates {
  constructor(
    private readonly stores: PriceEstimateStores,
    private readonly distributor: string,
    readonly timeZone: string,
  ) {}

  /** Whether billing is configured at all: a distributor and a parameter version (what the dashboard asks before calling billing's routes). */
  async configured(): Promise<boolean> {
    return this.distributor !== '' && (await this.stores.rules.listParameters()).length > 0;
  }

  /** The rules to price `matricula`'s consumption from `fromDay` to `toDay` (inclusive, local days); undefined when billing is not configured for them. */
  async rulesFor(matricula: string, fromDay: string, toDay: string): Promise<MeterPricing | undefined> {
    if (this.distributor === '') return undefined;
    const versions = await this.stores.rules.listParameters();
    if (versions.length === 0) return undefined;
    const tariffs = await this.stores.tariffs.tariffsBetween(this.distributor, fromDay, toDay);
    if (tariffs.length === 0) return undefined;
    const profile = await this.stores.profiles.profile(matricula);
    const prices: Partial<Record<TariffKey, PriceVersion[]>> = {};
    for (const tariff of tariffs) {
      // An estimate prices at the residential tariff: the benefits' rows bill invoices, by band over a cycle.
      if (subclassOf(tariff) !== 'residencial') continue;
      const key: TariffKey = tariff.posto === 'nao_se_aplica' ? 'convencional' : tariff.posto;
      if ((tariff.modalidade === 'convencional') !== (key === 'convencional')) continue;
      (prices[key] ??= []).push({ from: tariff.vigenciaInicio, to: tariff.vigenciaFim, te: tariff.te, tusd: tariff.tusd });
    }
    const flags = new Map((await this.stores.rules.listFlags(fromDay.slice(0, 7), toDay.slice(0, 7))).map((flag) => [flag.month, flag.additional]));
    // A day's month, or else the newest month before it that has rates: an estimate, not an invoice.
    const pisCofins = await this.stores.rules.listPisCofins('0000-01', toDay.slice(0, 7));
    return {
      distributor: this.distributor,
      modality: profile.modality,
      prices,
      flagAdditional: (month) => flags.get(month) ?? 0n,
      taxes: (day) => {
        const parameters = parametersOn(versions, day);
        const month = day.slice(0, 7);
        const rates = pisCofins.filter((r) => r.month <= month).pop();
        const general = parameters?.icms.bands[parameters.icms.bands.length - 1];
        return general === undefined || rates === undefined ? undefined : { icms: general.rate, pis: rates.pis, cofins: rates.cofins };
      },
      postoHours: parametersOn(versions, toDay)?.postoHours,
      timeZone: this.timeZone,
    };
  }
}
