/** The PostgreSQL backend opened as openStore (../open-store.ts) asks: one database handle, every aggregate's store on it. Loaded only when STORAGE=postgres. */
import type { Logger } from 'pino';
import { admissionRules, type OpenedStore, type StoreSettings } from '../opened-store.js';
import { PgAccessStore } from './access-pg-store.js';
import { PgAlertStore } from './alert-pg-store.js';
import { PgAuditStore } from './audit-pg-store.js';
import { PgBillingRulesStore } from './billing-rules-pg-store.js';
import { PgCommandStore } from './command-pg-store.js';
import { PgEventStore } from './event-pg-store.js';
import { PgForecastRecordStore } from './forecast-record-pg-store.js';
import { PgInvoiceStore } from './invoice-pg-store.js';
import { PgMeterCounterStore } from './meter-counter-pg-store.js';
import { maintainPartitions } from './partitions.js';
import { PostgresStore } from './postgres-store.js';
import { PgProfileStore } from './profile-pg-store.js';
import { PgTariffStore } from './tariff-pg-store.js';

export async function openPostgres(settings: StoreSettings, logger: Logger, seedCustomersFile: string | undefined): Promise<OpenedStore> {
  const store = await PostgresStore.open({
    url: settings.databaseUrl,
    schema: settings.pgSchema,
    poolMax: settings.pgPoolMax,
    statementTimeoutMs: settings.pgStatementTimeoutMs,
    connectTimeoutMs: settings.pgConnectTimeoutMs,
    logger,
    seedCustomersFile,
    admission: admissionRules(settings),
    dayZone: settings.legacyTimeZone,
  });
  const url = new URL(settings.databaseUrl);
  const { db } = store;
  return { store, tariffs: new PgTariffStore(db), billingRules: new PgBillingRulesStore(db), profiles: new PgProfileStore(db), invoices: new PgInvoiceStore(db), commands: new PgCommandStore(db), alerts: new PgAlertStore(db), events: new PgEventStore(db), forecasts: new PgForecastRecordStore(db), meterCounters: new PgMeterCounterStore(db), accessStore: new PgAccessStore(db), audit: new PgAuditStore(db), changes: db.changes, poolUsage: () => db.poolUsage(), maintainPartitions: (now, months, dir) => maintainPartitions(db, now, months, dir), warmUp: () => store.warmWindows(), description: { storage: 'postgres', database: `${url.hostname}:${url.port || 5432}${url.pathname}`, schema: settings.pgSchema } };
}
