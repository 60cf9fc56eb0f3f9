/**
 * The storage backends end-to-end suites run on: each gives the settings
 * for one fresh, empty store per server started.
 */
import type { Test } from 'tap';
import { testPostgres } from './postgres.js';

export interface Backend {
  readonly name: string;
  /** Settings for a server over new empty data (the temp DATA_DIR comes from startTestServer). */
  env(t: Test): Promise<Record<string, string>>;
}

export const fileBackend: Backend = { name: 'arquivos', env: async () => ({ STORAGE: 'arquivos' }) };

/** PostgreSQL: a schema of its own per server, on the test PostgreSQL of this file. */
export async function postgresBackend(t: Test): Promise<Backend> {
  const postgres = await testPostgres(t);
  return { name: 'postgres', env: async (testT) => ({ STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: postgres.schema(testT) }) };
}
