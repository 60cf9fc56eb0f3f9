/**
 * `npm run backup -- --destino DIR` and `npm run restore -- --origem DIR`,
 * for the configured storage (STORAGE, DATA_DIR, DATABASE_URL, PG_SCHEMA…,
 * as for the server). A backup is taken while the server runs; a restore
 * goes into an empty DATA_DIR, or the PG_SCHEMA of the target database when it
 * holds nothing (a new database's empty `public` included).
 */
import { parseArgs } from 'node:util';
import { ConfigError, isEntryPoint, loadConfig, SETTINGS, settingsHelp, wantsHelp, type CliIo } from '../server/config.js';
import { BackupError, backupFiles, backupPostgres, restoreFiles, restorePostgres, type BackupManifest } from '../database/backup.js';
import { StoreError } from '../database/store.js';

const USAGE = {
  backup: 'usage: npm run backup -- --destino DIR [server settings: --storage, --data-dir, --database-url, --pg-schema, ...]',
  restore: 'usage: npm run restore -- --origem DIR [server settings: --storage, --data-dir, --database-url, ...]',
} as const;

const describe = (manifest: BackupManifest): string => `${manifest.arquivos.length} file(s), ${manifest.arquivos.reduce((sum, file) => sum + file.bytes, 0)} bytes (${manifest.armazenamento}, taken ${manifest.criada_em})`;

/** Runs `backup` or `restore` (argv[0]) with the rest of argv as flags; resolves the exit code. */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const command = argv[0];
  if (command !== 'backup' && command !== 'restore') {
    io.err(`backup: say backup or restore (${USAGE.backup})\n`);
    return 1;
  }
  const name = command;
  const fail = (line: string): number => {
    io.err(`${name}: ${line}\n`);
    return 1;
  };
  const rest = argv.slice(1);
  if (wantsHelp(rest)) {
    io.out(`${USAGE[command]}\n\nserver settings (which data):\n${settingsHelp()}\n`);
    return 0;
  }
  const place = command === 'backup' ? 'destino' : 'origem';
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: [...rest], options: { [place]: { type: 'string' }, ...Object.fromEntries(Object.values(SETTINGS).map((setting) => [setting.flag, { type: 'string' as const }])) }, strict: true }).values as Record<string, string | undefined>;
  } catch (error) {
    return fail(`${(error as Error).message} (${USAGE[command]})`);
  }
  const dir = values[place];
  if (dir === undefined || dir === '') return fail(`--${place} DIR is required (${USAGE[command]})`);
  const configArgs = Object.values(SETTINGS).flatMap((setting) => (values[setting.flag] === undefined ? [] : [`--${setting.flag}`, values[setting.flag] as string]));
  let config;
  try {
    config = loadConfig(env, configArgs);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  try {
    let manifest: BackupManifest;
    if (command === 'backup') {
      manifest = config.storage === 'postgres' ? await backupPostgres(config.databaseUrl, config.pgSchema, dir) : await backupFiles(config.dataDir, dir);
      io.out(`backup written to ${dir}: ${describe(manifest)}\n`);
    } else {
      manifest = config.storage === 'postgres' ? await restorePostgres(dir, config.databaseUrl, config.pgSchema) : await restoreFiles(dir, config.dataDir);
      io.out(`restored ${describe(manifest)} into ${config.storage === 'postgres' ? `schema ${manifest.schema ?? ''}` : config.dataDir}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof BackupError) return fail(error.message);
    if (error instanceof StoreError) return fail(`DATA_DIR ${config.dataDir} is in use by a running server (${error.message}): stop it first`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined) return fail((error as Error).message);
    throw error;
  }
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) });
}
