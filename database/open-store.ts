/** Opens the backend the configuration names: flat files (default) or PostgreSQL. */
import type { Logger } from 'pino';
import { FileStore } from './file/file-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import type { Store } from './store.js';
import type { CredentialStore } from './credential-store.js';

export interface StoreSettings {
  readonly storage: 'arquivos' | 'postgres';
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly pgSchema: string;
  readonly pgPoolMax: number;
  readonly pgStatementTimeoutMs: number;
  readonly pgConnectTimeoutMs: number;
  /** Distinct meters the file store keeps in memory (readings of further new meters are refused). */
  readonly maxMeters: number;
}

export interface OpenedStore {
  readonly store: Store & CredentialStore;
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
    });
    const url = new URL(settings.databaseUrl);
    return { store, description: { storage: 'postgres', database: `${url.hostname}:${url.port || 5432}${url.pathname}`, schema: settings.pgSchema } };
  }
  const store = await FileStore.open({ dataDir: settings.dataDir, logger, seedCustomersFile, maxMeters: settings.maxMeters });
  return { store, description: { storage: 'arquivos', dataDir: settings.dataDir, ...store.loadSummary } };
}
