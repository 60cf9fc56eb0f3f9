/**
 * Backups (issue 18). The file store: a copy of every data file made while
 * the server runs — each append-only file read up to its size at that
 * moment and cut at its last complete line (what the server itself would
 * load after a crash there), written under temporary names, synced, and
 * listed with its SHA-256 in `copia.json`, written last: a directory with
 * a manifest is a whole backup. PostgreSQL: `pg_dump` of the schema in its
 * custom format, when a `pg_dump` at least as new as the server is
 * installed. Restores check the manifest and refuse to overwrite data.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, mkdtemp, open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { lockDirectory } from './file/lock.js';
import { LOCK_FILE } from './file/file-store.js';
import { quoteIdentifier } from './postgres/migrate.js';

export const MANIFEST_FILE = 'copia.json';
export const DUMP_FILE = 'banco.dump';
const FORMAT = 1;
/** Files that hold lines: copied up to their last complete one. */
const LINE_FILES = /\.(log|jsonl|txt)$/;
/** Subdirectories of DATA_DIR that are copied too. */
const SUBDIRECTORIES = ['relatorios'];
const COPY_CHUNK_BYTES = 1 << 20;
/**
 * How every file a backup or a restore writes is opened: created, never an
 * existing file, never through a symlink (O_EXCL refuses one even when it
 * dangles; O_NOFOLLOW says so twice). Whoever plants a name in the
 * destination makes the copy fail; it never writes where the name points.
 */
const NEW_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Data files are read without following a symlink either. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

export type BackupErrorCode = 'DESTINO_NAO_VAZIO' | 'SEM_PG_DUMP' | 'VERSAO_PG_DUMP' | 'COPIA_INVALIDA' | 'FERRAMENTA_FALHOU';

/** A backup or restore that cannot be made, with a reason a person acts on. */
export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface BackupManifest {
  readonly formato: number;
  readonly armazenamento: 'arquivos' | 'postgres';
  readonly criada_em: string;
  readonly schema?: string;
  readonly arquivos: ReadonlyArray<{ readonly nome: string; readonly bytes: number; readonly sha256: string }>;
}

/** A directory that does not exist, or is empty, becomes the destination; anything else (a symlink too) is refused. */
async function emptyDirectory(dir: string, what: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (entries.length > 0) throw new BackupError('DESTINO_NAO_VAZIO', `${what} ${dir} is not empty: give a new or empty directory (nothing is overwritten)`);
  await realDirectory(dir);
}

/** Makes `dir` (and its parents) and checks it is a directory of its own, not a symlink to one elsewhere. */
async function realDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!(await lstat(dir)).isDirectory()) throw new BackupError('DESTINO_NAO_VAZIO', `${dir} is not a directory of its own (a symlink?): nothing is written through it`);
}

/** Writes a new file `path` (never an existing one, never through a symlink), synced. */
async function writeNewFile(path: string, text: string): Promise<void> {
  const handle = await open(path, NEW_FILE_FLAGS, 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Copies `from` up to `size` bytes (cut after its last line feed when `lines`) to `to`, synced; returns the bytes and their SHA-256. */
async function copyPrefix(from: string, to: string, lines: boolean): Promise<{ bytes: number; sha256: string }> {
  const source = await open(from, READ_FLAGS);
  let target;
  try {
    target = await open(`${to}.tmp`, NEW_FILE_FLAGS, 0o600);
  } catch (error) {
    await source.close();
    throw error;
  }
  const hash = createHash('sha256');
  let written = 0;
  try {
    const { size } = await source.stat();
    let end = size;
    if (lines && size > 0) {
      // The last complete line: a line being appended right now is left for the next backup.
      const tail = Buffer.alloc(Math.min(size, COPY_CHUNK_BYTES));
      for (end = size; end > 0; ) {
        const start = Math.max(0, end - tail.length);
        const { bytesRead } = await source.read(tail, 0, end - start, start);
        const at = tail.subarray(0, bytesRead).lastIndexOf(0x0a);
        if (at !== -1) {
          end = start + at + 1;
          break;
        }
        end = start;
      }
    }
    const buffer = Buffer.alloc(COPY_CHUNK_BYTES);
    while (written < end) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, end - written), written);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      await target.write(chunk);
      written += bytesRead;
    }
    await target.sync();
  } finally {
    await source.close();
    await target.close();
  }
  // A link, not a rename: it fails if `to` appeared meanwhile (rename would replace whatever is there).
  await link(`${to}.tmp`, to);
  await unlink(`${to}.tmp`);
  return { bytes: written, sha256: hash.digest('hex') };
}

/** The data files of a DATA_DIR, relative names, the readings log last (the other aggregates' files are copied before it). */
async function dataFiles(dataDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    if (entry.name === LOCK_FILE || entry.name.startsWith('.') || entry.name.endsWith('.tmp')) continue;
    if (entry.isFile()) names.push(entry.name);
    else if (entry.isDirectory() && SUBDIRECTORIES.includes(entry.name)) {
      for (const inner of await readdir(join(dataDir, entry.name), { withFileTypes: true })) if (inner.isFile() && !inner.name.startsWith('.')) names.push(join(entry.name, inner.name));
    }
  }
  return names.sort((a, b) => Number(a === 'medicoes.log') - Number(b === 'medicoes.log') || a.localeCompare(b));
}

/** Backs a file store's DATA_DIR up to `destination` (new or empty), its server running or not. */
export async function backupFiles(dataDir: string, destination: string, now = new Date()): Promise<BackupManifest> {
  await emptyDirectory(destination, 'the destination');
  const arquivos: Array<BackupManifest['arquivos'][number]> = [];
  for (const name of await dataFiles(dataDir)) {
    if (name.includes('/')) await realDirectory(join(destination, name.split('/')[0] as string));
    const { bytes, sha256 } = await copyPrefix(join(dataDir, name), join(destination, name), LINE_FILES.test(name));
    arquivos.push({ nome: name, bytes, sha256 });
  }
  const manifest: BackupManifest = { formato: FORMAT, armazenamento: 'arquivos', criada_em: now.toISOString(), arquivos };
  await writeNewFile(join(destination, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads and checks a backup's manifest and every file it lists. */
export async function readBackup(source: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(join(source, MANIFEST_FILE), 'utf8')) as BackupManifest;
  } catch (error) {
    throw new BackupError('COPIA_INVALIDA', `${source} is not a whole backup: ${MANIFEST_FILE} is missing or unreadable (${(error as Error).message})`);
  }
  if (manifest.formato !== FORMAT || !Array.isArray(manifest.arquivos)) throw new BackupError('COPIA_INVALIDA', `${source}: ${MANIFEST_FILE} is not one this version reads`);
  for (const file of manifest.arquivos) {
    if (typeof file.nome !== 'string' || file.nome.includes('..') || file.nome.startsWith('/')) throw new BackupError('COPIA_INVALIDA', `${source}: a file name in ${MANIFEST_FILE} is not allowed`);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(source, file.nome));
    } catch {
      throw new BackupError('COPIA_INVALIDA', `${source}: ${file.nome} is missing`);
    }
    if (bytes.length !== file.bytes || createHash('sha256').update(bytes).digest('hex') !== file.sha256) throw new BackupError('COPIA_INVALIDA', `${source}: ${file.nome} does not match its checksum`);
  }
  return manifest;
}

/** Restores a file-store backup into `dataDir`, which must hold no data (and no server). */
export async function restoreFiles(source: string, dataDir: string): Promise<BackupManifest> {
  const manifest = await readBackup(source);
  if (manifest.armazenamento !== 'arquivos') throw new BackupError('COPIA_INVALIDA', `${source} is a PostgreSQL backup: restore it with STORAGE=postgres`);
  await realDirectory(dataDir);
  // Holding the directory's lock: a server cannot start on it while files arrive, and one already running makes this fail.
  const lock = await lockDirectory(join(dataDir, LOCK_FILE));
  try {
    // Anything but the lock counts, temporary files and symlinks included: a restore writes only into an empty directory.
    const held = (await readdir(dataDir)).filter((name) => name !== LOCK_FILE);
    if (held.length > 0) throw new BackupError('DESTINO_NAO_VAZIO', `DATA_DIR ${dataDir} is not empty (${held.slice(0, 3).join(', ')}${held.length > 3 ? ', …' : ''}): restore into a new or empty directory (nothing is overwritten)`);
    for (const file of manifest.arquivos) {
      if (file.nome.includes('/')) await realDirectory(join(dataDir, file.nome.split('/')[0] as string));
      await copyPrefix(join(source, file.nome), join(dataDir, file.nome), false);
    }
  } finally {
    await lock.release();
  }
  return manifest;
}

/** libpq's environment for a connection string: the password never goes on a command line. */
function libpqEnvironment(url: string): NodeJS.ProcessEnv {
  const parsed = new URL(url);
  return {
    ...process.env,
    PGHOST: decodeURIComponent(parsed.hostname),
    PGPORT: parsed.port || '5432',
    PGUSER: decodeURIComponent(parsed.username),
    PGPASSWORD: decodeURIComponent(parsed.password),
    PGDATABASE: decodeURIComponent(parsed.pathname.slice(1)),
  };
}

/** Runs a PostgreSQL client tool; resolves its stdout, or rejects with a BackupError naming what to do. */
function runTool(tool: string, args: readonly string[], env: NodeJS.ProcessEnv, stdoutFd?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new BackupError('SEM_PG_DUMP', `${tool} was not found: install PostgreSQL's client tools (Debian: apt-get install postgresql-client) of the server's version or newer`) : error),
    );
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new BackupError('FERRAMENTA_FALHOU', `${tool} failed: ${err.trim().split('\n').pop() ?? `exit ${code}`}`))));
  });
}

/** The major version of the server and of a client tool (`pg_dump`, `pg_restore`); a tool older than the server is refused before it runs. */
async function checkToolVersion(tool: string, url: string): Promise<void> {
  const text = await runTool(tool, ['--version'], process.env);
  const toolMajor = Number(/(\d+)(?:\.\d+)?/.exec(text)?.[1] ?? 0);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let serverMajor: number;
  try {
    serverMajor = Math.floor(Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]?.server_version_num) / 10_000);
  } finally {
    await client.end();
  }
  if (toolMajor < serverMajor) throw new BackupError('VERSAO_PG_DUMP', `${tool} ${toolMajor} cannot work with PostgreSQL ${serverMajor}: install postgresql-client ${serverMajor} or newer`);
}

/** Backs a PostgreSQL schema up to `destination` with pg_dump (custom format). */
export async function backupPostgres(url: string, schema: string, destination: string, now = new Date()): Promise<BackupManifest> {
  await checkToolVersion('pg_dump', url);
  await emptyDirectory(destination, 'the destination');
  // pg_dump writes to a file we made (owner-only: the dump holds password hashes; new: never through a planted symlink).
  const dump = await open(join(destination, DUMP_FILE), NEW_FILE_FLAGS, 0o600);
  try {
    await runTool('pg_dump', ['--format=custom', `--schema=${quoteIdentifier(schema)}`], libpqEnvironment(url), dump.fd);
    await dump.sync();
  } finally {
    await dump.close();
  }
  const bytes = await readFile(join(destination, DUMP_FILE));
  const manifest: BackupManifest = { formato: FORMAT, armazenamento: 'postgres', criada_em: now.toISOString(), schema, arquivos: [{ nome: DUMP_FILE, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }] };
  await writeNewFile(join(destination, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Whether a schema exists, and how many relations (tables, sequences, views…) it holds. */
async function schemaState(client: pg.Client, schema: string): Promise<{ exists: boolean; relations: number }> {
  const { rows } = await client.query<{ relations: string }>('SELECT count(c.oid) AS relations FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname = $1 GROUP BY n.oid', [schema]);
  return { exists: rows.length > 0, relations: Number(rows[0]?.relations ?? 0) };
}

/**
 * Restores a PostgreSQL backup with pg_restore into `targetSchema` (the
 * configured PG_SCHEMA), whatever schema it was taken from. The target must
 * hold nothing: an existing empty schema — the `public` every new database
 * has — is restored into, never over tables. A backup of another schema is
 * restored under its own name (which must be free or empty too) and then
 * renamed.
 */
export async function restorePostgres(source: string, url: string, targetSchema: string): Promise<BackupManifest> {
  const manifest = await readBackup(source);
  if (manifest.armazenamento !== 'postgres' || manifest.schema === undefined) throw new BackupError('COPIA_INVALIDA', `${source} is a file-store backup: restore it with STORAGE=arquivos`);
  const from = manifest.schema;
  await checkToolVersion('pg_restore', url);
  const env = libpqEnvironment(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const target = await schemaState(client, targetSchema);
    if (target.relations > 0) throw new BackupError('DESTINO_NAO_VAZIO', `schema ${targetSchema} already holds ${target.relations} tables or other objects: restore into a new or empty schema (PG_SCHEMA), or drop or rename it first (nothing is overwritten)`);
    const staging = from === targetSchema ? target : await schemaState(client, from);
    if (staging.relations > 0) throw new BackupError('DESTINO_NAO_VAZIO', `the backup's schema ${from} already exists here with data: it is restored under that name before becoming ${targetSchema}; drop or rename it first (nothing is overwritten)`);
    // An existing empty schema is kept: the dump's own CREATE SCHEMA is left out of what pg_restore runs.
    const listing = await runTool('pg_restore', ['--list', join(source, DUMP_FILE)], env);
    const schemaEntry = new RegExp(`^\\d+; \\d+ \\d+ SCHEMA - ${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `);
    const kept = staging.exists ? listing.split('\n').filter((line) => !schemaEntry.test(line)) : listing.split('\n');
    const listDir = await mkdtemp(join(tmpdir(), 'restauracao-'));
    const listFile = join(listDir, 'lista');
    const handle = await open(listFile, NEW_FILE_FLAGS, 0o600);
    try {
      await handle.writeFile(kept.join('\n'));
    } finally {
      await handle.close();
    }
    try {
      await runTool('pg_restore', ['--no-owner', '--exit-on-error', `--use-list=${listFile}`, `--dbname=${env.PGDATABASE ?? ''}`, join(source, DUMP_FILE)], env);
    } finally {
      await rm(listDir, { recursive: true, force: true });
    }
    if (from !== targetSchema) {
      await client.query('BEGIN');
      if (target.exists) await client.query(`DROP SCHEMA ${quoteIdentifier(targetSchema)}`);
      await client.query(`ALTER SCHEMA ${quoteIdentifier(from)} RENAME TO ${quoteIdentifier(targetSchema)}`);
      // The schema the backup came from was there, empty, before (a new database's public): it stays.
      if (staging.exists) await client.query(`CREATE SCHEMA ${quoteIdentifier(from)}`);
      await client.query('COMMIT');
    }
  } finally {
    await client.end();
  }
  return { ...manifest, schema: targetSchema };
}
