/** Opens the backend the configuration names: flat files (default) or PostgreSQL. */
import { admissionRules, type OpenedStore, type StoreSettings } from './opened-store.js';

export { admissionRules, type OpenedStore, type StoreSettings } from './opened-store.js';
import type { Logger } from 'pino';
import { FileStore } from './file/file-store.js';

export type { PoolUsage } from './postgres/pg-database.js';
import type { TariffStore } from './tariff-store.js';
import { FileTariffStore } from './file/tariff-file-store.js';
import type { BillingRulesStore } from './billing-rules-store.js';
import { FileBillingRulesStore } from './file/billing-rules-file-store.js';
import type { ProfileStore } from './profile-store.js';
import { FileProfileStore } from './file/profile-file-store.js';
import type { InvoiceStore } from './invoice-store.js';
import { FileInvoiceStore } from './file/invoice-file-store.js';
import type { CommandStore } from './command-store.js';
import { FileCommandStore } from './file/command-file-store.js';
import { FileAlertStore } from './file/alert-file-store.js';
import type { AlertStore } from './alert-store.js';
import type { EventStore } from './event-store.js';
import type { ForecastRecordStore } from './forecast-record-store.js';
import { LocalChangeFeed } from './change-feed.js';
import { FileForecastRecordStore } from './file/forecast-record-file-store.js';
import { FileEventStore } from './file/event-file-store.js';
import type { MeterCounterStore } from './meter-counter-store.js';
import type { AccessStore } from './access-store.js';
import type { AuditStore } from './audit-store.js';
import { FileAccessStore } from './file/access-file-store.js';
import { FileAuditStore } from './file/audit-file-store.js';
import { FileMeterCounterStore } from './file/meter-counter-file-store.js';

export async function openStore(settings: StoreSettings, logger: Logger, seedCustomersFile?: string): Promise<OpenedStore> {
  // PostgreSQL's code (and pg) is loaded only when used: a file-store server does not pay for it.
  if (settings.storage === 'postgres') return (await import('./postgres/open-postgres.js')).openPostgres(settings, logger, seedCustomersFile);
  const store = await FileStore.open({ dataDir: settings.dataDir, logger, seedCustomersFile, maxMeters: settings.maxMeters, admission: admissionRules(settings), dayZone: settings.legacyTimeZone });
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
