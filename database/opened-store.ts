/** What opening a storage backend takes (the settings) and gives (every aggregate's store): shared by open-store.ts and each backend's opener. */
import type { AdmissionRules } from '../domain/readings/admission.js';
import type { AccessStore } from './access-store.js';
import type { AlertStore } from './alert-store.js';
import type { AuditStore } from './audit-store.js';
import type { BillingRulesStore } from './billing-rules-store.js';
import type { ChangeFeed } from './change-feed.js';
import type { CommandStore } from './command-store.js';
import type { CredentialStore } from './credential-store.js';
import type { EventStore } from './event-store.js';
import type { ForecastRecordStore } from './forecast-record-store.js';
import type { InvoiceStore } from './invoice-store.js';
import type { MeterCounterStore } from './meter-counter-store.js';
import type { MaintenanceResult } from './postgres/partitions.js';
import type { PoolUsage } from './postgres/pg-database.js';
import type { ProfileStore } from './profile-store.js';
import type { Store } from './store.js';
import type { TariffStore } from './tariff-store.js';

export interface StoreSettings {
  readonly storage: 'arquivos' | 'postgres';
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly pgSchema: string;
  readonly pgPoolMax: number;
  readonly pgStatementTimeoutMs: number;
  readonly pgConnectTimeoutMs: number;
  /** Meters of no customer the file store keeps in memory (readings of further such new meters are refused). */
  readonly maxMeters: number;
  readonly readingMinIntervalMs: number;
  readonly unregisteredMeters: 'aceitar' | 'recusar';
  readonly spikeFactor: number;
  readonly spikeFloorW: number;
  readonly gapFactor: number;
  readonly zeroHours: number;
  /** The zone whose local days the daily rollups are (TZ_LEGADO). */
  readonly legacyTimeZone: string;
}

/** The store's admission rules from the settings. */
export function admissionRules(
  settings: Pick<StoreSettings, 'readingMinIntervalMs' | 'unregisteredMeters' | 'spikeFactor' | 'spikeFloorW' | 'gapFactor' | 'zeroHours'>,
): AdmissionRules {
  return {
    minIntervalMs: settings.readingMinIntervalMs,
    refuseUnregistered: settings.unregisteredMeters === 'recusar',
    quality: { spikeFactor: settings.spikeFactor, spikeFloorKwhPerHour: settings.spikeFloorW / 1000, gapFactor: settings.gapFactor, zeroMs: settings.zeroHours * 3_600_000 },
  };
}

export interface OpenedStore {
  readonly store: Store & CredentialStore;
  readonly tariffs: TariffStore;
  readonly billingRules: BillingRulesStore;
  readonly profiles: ProfileStore;
  readonly invoices: InvoiceStore;
  readonly commands: CommandStore;
  readonly alerts: AlertStore;
  readonly events: EventStore;
  readonly forecasts: ForecastRecordStore;
  readonly meterCounters: MeterCounterStore;
  readonly accessStore: AccessStore;
  readonly audit: AuditStore;
  /** What this store writes, told to the other servers sharing it, and theirs to this one. */
  readonly changes: ChangeFeed;
  /** The connection pool's use now (PostgreSQL); undefined for the file store. */
  readonly poolUsage: (() => PoolUsage) | undefined;
  /** Reads meters' admission windows ahead of their first readings (PostgreSQL); resolves how many. Undefined for the file store, which holds them all in memory. */
  readonly warmUp: (() => Promise<number>) | undefined;
  /** One pass over the monthly partitions (PostgreSQL: postgres/partitions.ts); undefined for the file store. */
  readonly maintainPartitions: ((now: number, retentionMonths: number, exportDir: string | undefined) => Promise<MaintenanceResult>) | undefined;
  /** What start-up logs about the storage (never the password). */
  readonly description: Record<string, unknown>;
}
