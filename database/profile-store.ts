/**
 * A customer's billing profile: how the customer is connected, billed and
 * read, and the monthly goal the customer set. Kept apart from the customer registry (whose file stays in the
 * original system's format). The specification both backends pass
 * (test/database/profile-contract.ts).
 */
import type { BenefitPeriod, Connection, Modality } from '../domain/billing/invoice.js';

export interface BillingProfile {
  readonly matricula: string;
  readonly connection: Connection;
  readonly modality: Modality;
  /** The day of the month the cycle turns (1 to 28). */
  readonly readingDay: number;
  readonly socialTariff: boolean;
  /** A bifásica connection's conductors: 2 bills the custo de disponibilidade of 30 kWh, 3 (the default) of 50 (REN 1.000/2021 art. 291). */
  readonly conductors?: 2 | 3 | undefined;
  /** The household's social benefit and its validity, when recorded; it then decides alone (`socialTariff` is the older, undated flag). */
  readonly benefit?: BenefitPeriod | undefined;
  /** Who the invoice is addressed to (PRODIST Módulo 11), when the operator recorded it. */
  readonly holder?: AccountHolder | undefined;
  /** The customer's monthly goal, when one is set: consumption or bill. */
  readonly goal?: ConsumptionGoal | undefined;
}

export interface AccountHolder {
  readonly name: string;
  /** CPF (11) or CNPJ (14) digits, check digits valid. */
  readonly taxpayer: string;
  /** The installation's address. */
  readonly address: string;
  /** The distributor's customer number ("Nº do cliente"), when it differs from the installation's (the matricula). */
  readonly customerNumber?: string | undefined;
}

/** A monthly goal: kWh (thousandths) or an invoice total (cents). */
export type ConsumptionGoal = { readonly kind: 'kwh'; readonly kwh: bigint } | { readonly kind: 'valor'; readonly cents: bigint };

/** A customer never given a profile is billed so. */
export const DEFAULT_PROFILE: Omit<BillingProfile, 'matricula'> = { connection: 'monofasica', modality: 'convencional', readingDay: 1, socialTariff: false };

export interface ProfileStore {
  /** The profile of a matricula: the default when none was set. */
  profile(matricula: string): Promise<BillingProfile>;
  /** The profiles of several matriculas at once (a page of customers), in their order: defaults where none was set. */
  profilesOf(matriculas: readonly string[]): Promise<BillingProfile[]>;
  /** Sets a registered customer's profile. Resolves true once durable; false when no customer has the matricula (nothing written). */
  setProfile(profile: BillingProfile): Promise<boolean>;
  /** Every profile set, in no promised order. */
  profiles(): Promise<BillingProfile[]>;
}
