/**
 * Versioned schema migrations: `resources/migrations/NNN_name.sql`, applied
 * in order, each recorded in `schema_migrations`, all in one transaction
 * under an advisory lock, so servers starting together apply each once.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../resources/migrations/', import.meta.url));
const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const match = MIGRATION_FILE.exec(file);
    if (match === null) continue;
    migrations.push({ version: Number(match[1]), name: match[2] as string, sql: await readFile(join(dir, file), 'utf8') });
  }
  return migrations;
}

/** Quotes an identifier already checked to be a plain lower-case name. */
export function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new RangeError(`not a plain identifier: ${name}`);
  return `"${name}"`;
}

/** Brings `schema` up to date (or up to version `upTo`: tests of a migration); returns the versions applied now (empty when none were missing). */
export async function migrate(pool: Pool, schema: string, upTo = Number.POSITIVE_INFINITY): Promise<number[]> {
  const migrations = await loadMigrations();
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('consumo-inteligente migrations ' || $1))", [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdentifier(schema)}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (versao integer PRIMARY KEY, nome text NOT NULL, aplicada_em timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ versao: number }>('SELECT versao FROM schema_migrations')).rows.map((row) => row.versao));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version) || migration.version > upTo) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (versao, nome) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    // A client whose transaction failed may have lost its connection: do not reuse it.
    client.release(failed);
  }
}
