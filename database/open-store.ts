/** Opens the backend the configuration names: flat files (default) or PostgreSQL. */
import type { Logger } from 'pino';
import { FileStore } from './file/file-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import type { PoolUsage } from './postgres/pg-database.js';

export type { PoolUsage } from './postgres/pg-database.js';
import type { Store } from './store.js';
import type { AdmissionRules } from '../domain/readings/admission.js';
import type { CredentialStore } from './credential-store.js';
import type { TariffStore } from './tariff-store.js';
import { FileTariffStore } from './file/tariff-file-store.js';
import { PgTariffStore } from './postgres/tariff-pg-store.js';
import type { BillingRulesStore } from './billing-rules-store.js';
import { FileBillingRulesStore } from './file/billing-rules-file-store.js';
import { PgBillingRulesStore } from './postgres/billing-rules-pg-store.js';
import type { ProfileStore } from './profile-store.js';
import { FileProfileStore } from './file/profile-file-store.js';
import { PgProfileStore } from './postgres/profile-pg-store.js';
import type { InvoiceStore } from './invoice-store.js';
import { FileInvoiceStore } from './file/invoice-file-store.js';
import { PgInvoiceStore } from './postgres/invoice-pg-store.js';
import type { CommandStore } from './command-store.js';
import { FileCommandStore } from './file/command-file-store.js';
import { PgCommandStore } from './postgres/command-pg-store.js';
import { PgAlertStore } from './postgres/alert-pg-store.js';
import { FileAlertStore } from './file/alert-file-store.js';
import type { AlertStore } from './alert-store.js';
import type { EventStore } from './event-store.js';
import type { ForecastRecordStore } from './forecast-record-store.js';
import { LocalChangeFeed, type ChangeFeed } from './change-feed.js';
import { maintainPartitions, type MaintenanceResult } from './postgres/partitions.js';
import { FileForecastRecordStore } from './file/forecast-record-file-store.js';
import { PgForecastRecordStore } from './postgres/forecast-record-pg-store.js';
import { FileEventStore } from './file/event-file-store.js';
import { PgEventStore } from './postgres/event-pg-store.js';
import type { MeterCounterStore } from './meter-counter-store.js';
import type { AccessStore } from './access-store.js';
import type { AuditStore } from './audit-store.js';
import { FileAccessStore } from './file/access-file-store.js';
import { FileAuditStore } from './file/audit-file-store.js';
import { PgAccessStore } from './postgres/access-pg-store.js';
import { PgAuditStore } from './postgres/audit-pg-store.js';
import { FileMeterCounterStore } from './file/meter-counter-file-store.js';
import { PgMeterCounterStore } from './postgres/meter-counter-pg-store.js';

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

export async function openStore(settings: StoreSettings, logger: Logger, seedCustomersFile?: string): Promise<OpenedStore> {
  if (settings.storage === 'postgres') {
    const store = await PostgresStore.open({
      url: settings.databaseUrl,
      schema: settings.pgSchema,
      poolMax: settings.pgPoolMax,
      statementTimeoutMs: settings.pgStatementTimeoutMs,
      connectTimeoutMs: settings.pgConnectTimeoutMs,
      logger,
      seedCustomersFile,
      admission: admissionRules(settings),
    });
    const url = new URL(settings.databaseUrl);
    const { db } = store;
    return { store, tariffs: new PgTariffStore(db), billingRules: new PgBillingRulesStore(db), profiles: new PgProfileStore(db), invoices: new PgInvoiceStore(db), commands: new PgCommandStore(db), alerts: new PgAlertStore(db), events: new PgEventStore(db), forecasts: new PgForecastRecordStore(db), meterCounters: new PgMeterCounterStore(db), accessStore: new PgAccessStore(db), audit: new PgAuditStore(db), changes: db.changes, poolUsage: () => db.poolUsage(), maintainPartitions: (now, months, dir) => maintainPartitions(db, now, months, dir), warmUp: () => store.warmWindows(), description: { storage: 'postgres', database: `${url.hostname}:${url.port || 5432}${url.pathname}`, schema: settings.pgSchema } };
  }
  const store = await FileStore.open({ dataDir: settings.dataDir, logger, seedCustomersFile, maxMeters: settings.maxMeters, admission: admissionRules(settings) });
  let tariffs: TariffStore;
  let billingRules: BillingRulesStore;
  let profiles: ProfileStore;
  let invoices: InvoiceStore;
  let commands: CommandStore;
  let alerts: AlertStore;
  let events: EventStore;
  let forecasts: ForecastRecordStore;
  let meterCounters: MeterCounterStore;
  let accessStore: AccessStore;
  let audit: AuditStore;
  try {
    tariffs = await FileTariffStore.open(settings.dataDir, logger);
    billingRules = await FileBillingRulesStore.open(settings.dataDir, logger);
    profiles = await FileProfileStore.open(settings.dataDir, store, logger);
    invoices = await FileInvoiceStore.open(settings.dataDir, logger);
    commands = await FileCommandStore.open(settings.dataDir, logger);
    alerts = await FileAlertStore.open(settings.dataDir, logger);
    events = await FileEventStore.open(settings.dataDir, logger);
    forecasts = await FileForecastRecordStore.open(settings.dataDir, logger);
    meterCounters = await FileMeterCounterStore.open(settings.dataDir, logger);
    accessStore = await FileAccessStore.open(settings.dataDir, logger);
    audit = await FileAuditStore.open(settings.dataDir, logger);
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, tariffs, billingRules, profiles, invoices, commands, alerts, events, forecasts, meterCounters, accessStore, audit, changes: new LocalChangeFeed(), poolUsage: undefined, maintainPartitions: undefined, warmUp: undefined, description: { storage: 'arquivos', dataDir: settings.dataDir, ...store.loadSummary } };
}
