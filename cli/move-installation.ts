/**
 * `npm run import -- --dados DIR` / `--de-postgres URL`: moves a whole
 * installation into the configured storage. The stores are copied by
 * migration.ts; the files that live in DATA_DIR whatever the storage (the
 * API's signing secret, the operator token, the meter keys, the report
 * archive) are copied beside them when the two DATA_DIRs differ, never over
 * a file the target already has.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { API_SECRET_FILE, OPERATOR_TOKEN_FILE } from '../server/http/api-access.js';
import { METER_KEYS_FILE, withoutUserinfo, type CliIo, type Config } from '../server/config.js';
import { REPORTS_DIR } from '../app/reports/report-job.js';
import { AGGREGATES, isWhole, migrate, TargetNotEmptyError, type Aggregate, type AggregateReport } from '../database/migration.js';
import { openStore, type OpenedStore, type StoreSettings } from '../database/open-store.js';
import { StoreError } from '../database/store.js';

/** A move that cannot start, with the line to print (exit code 1). */
export class MoveRefused extends Error {}

export interface InstallationSource {
  readonly settings: StoreSettings;
  /** Its DATA_DIR (files beside the store), when known. */
  readonly dataDir: string | undefined;
  /** How to name it to a person (never a password). */
  readonly description: string;
}

/** The source `--dados` / `--de-postgres` / `--de-schema` name, with the target's other settings. */
export function installationSource(config: Config, values: Readonly<Record<string, string | undefined>>): InstallationSource {
  const url = values['de-postgres'];
  const dataDir = values.dados === undefined ? undefined : resolve(values.dados);
  if (url === undefined) {
    const dir = dataDir as string;
    if (config.storage === 'arquivos' && dir === resolve(config.dataDir)) throw new MoveRefused(`--dados ${values.dados} is the target's own DATA_DIR: name another target (--storage postgres, or --data-dir)`);
    return { settings: { ...config, storage: 'arquivos', dataDir: dir }, dataDir, description: `the flat files in ${dir}` };
  }
  if (!/^postgres(ql)?:\/\//.test(url)) throw new MoveRefused('--de-postgres must be a postgres:// URL');
  const schema = values['de-schema'] ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new MoveRefused('--de-schema must be a plain lower-case schema name');
  if (config.storage === 'postgres' && url === config.databaseUrl && schema === config.pgSchema) throw new MoveRefused('--de-postgres and --de-schema name the target itself: name another target');
  return { settings: { ...config, storage: 'postgres', databaseUrl: url, pgSchema: schema }, dataDir, description: `PostgreSQL ${withoutUserinfo(url)} (schema ${schema})` };
}

const LABELS: Record<Aggregate, string> = {
  clientes: 'customers',
  senhas: 'passwords (hashes)',
  perfis: 'profiles',
  operadores: 'operator accounts',
  geracoes_token: 'token generations',
  tarifas: 'tariffs',
  parametros_faturamento: 'billing parameters',
  bandeiras: 'bandeiras',
  pis_cofins: 'PIS/COFINS rates',
  distribuidoras: 'distributor records',
  fatores_emissao: 'emission factors',
  faturas: 'invoices',
  comandos: 'commands',
  alertas: 'alerts',
  ocorrencias: 'meter events',
  previsoes: 'forecast records',
  contadores_medidores: 'meter counters',
  auditoria: 'audit entries',
  medicoes: 'readings',
};

/** Opens both sides, moves, and answers the report (throws MoveRefused, or resolves a report whose last line says whether it is whole; sets the exit code through `whole`). */
export async function moveInstallation(source: InstallationSource, config: Config, merge: boolean, io: CliIo): Promise<string> {
  const logger = pino({ level: 'warn' });
  const from = await openStore(source.settings, logger);
  let to: OpenedStore;
  try {
    to = await openStore(config, logger);
  } catch (error) {
    await from.store.close();
    throw error;
  }
  const target = config.storage === 'postgres' ? `PostgreSQL ${String(to.description.database)} (schema ${config.pgSchema})` : `the flat files in ${resolve(config.dataDir)}`;
  const started = Date.now();
  let reports: AggregateReport[];
  try {
    const tty = process.stderr.isTTY === true;
    reports = await migrate(from, to, {
      merge,
      progress: (aggregate, done) => {
        if (tty && aggregate === 'medicoes') io.err(`\r  readings copied: ${done}`);
      },
    });
    if (tty) io.err('\n');
  } catch (error) {
    if (error instanceof TargetNotEmptyError) throw new MoveRefused(`${target}: ${error.message}; nothing was written (give --mesclar to copy into it anyway)`);
    throw error;
  } finally {
    await Promise.allSettled([from.store.close(), to.store.close()]);
  }
  const files = source.dataDir === undefined || resolve(source.dataDir) === resolve(config.dataDir) ? [] : await copySideFiles(source.dataDir, config.dataDir);
  const whole = isWhole(reports, merge);
  const width = Math.max(...AGGREGATES.map((aggregate) => LABELS[aggregate].length));
  const short = (sha: string): string => sha.slice(0, 16);
  const lines = [
    `moved ${source.description} into ${target} in ${((Date.now() - started) / 1000).toFixed(1)} s${merge ? ' (merging)' : ''}:`,
    `  ${'aggregate'.padEnd(width)}  ${'source'.padStart(9)} ${'sha256'.padEnd(16)}  ${'target'.padStart(9)} ${'sha256'.padEnd(16)}  copied`,
    ...reports.map((r) => {
      const verdict = r.missing > 0 ? `  DIFFERS: ${r.missing} not in the target as in the source` : !merge && r.source.sha256 !== r.target.sha256 ? '  DIFFERS' : '';
      return `  ${LABELS[r.aggregate].padEnd(width)}  ${String(r.source.count).padStart(9)} ${short(r.source.sha256)}  ${String(r.target.count).padStart(9)} ${short(r.target.sha256)}  ${r.copied}${verdict}`;
    }),
    ...files.map((line) => `  ${line}`),
    whole ? `whole: every aggregate of the source is in the target${merge ? '' : ', with the same count and checksum'}` : 'NOT WHOLE: see DIFFERS above (the source was not changed)',
    '',
  ];
  if (!whole) throw new MoveIncomplete(lines.join('\n'));
  return lines.join('\n');
}

/** The move ran, and the target does not hold the source whole: the report, and exit code 1. */
export class MoveIncomplete extends Error {}

/** Copies the DATA_DIR files that are not in a store; answers a line per file (or directory) about what happened. */
async function copySideFiles(fromDir: string, toDir: string): Promise<string[]> {
  const lines: string[] = [];
  await mkdir(toDir, { recursive: true, mode: 0o700 });
  for (const name of [API_SECRET_FILE, OPERATOR_TOKEN_FILE, METER_KEYS_FILE]) {
    const outcome = await copyOne(join(fromDir, name), join(toDir, name));
    if (outcome !== 'absent') lines.push(`${name}: ${outcome}`);
  }
  let reports: string[] = [];
  try {
    reports = (await readdir(join(fromDir, REPORTS_DIR))).filter((name) => !name.startsWith('.'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (reports.length > 0) {
    await mkdir(join(toDir, REPORTS_DIR), { recursive: true, mode: 0o700 });
    const outcomes = await Promise.all(reports.map((name) => copyOne(join(fromDir, REPORTS_DIR, name), join(toDir, REPORTS_DIR, name))));
    const kept = outcomes.filter((o) => o.startsWith('kept')).length;
    lines.push(`${REPORTS_DIR}/: ${outcomes.filter((o) => o === 'copied').length} reports copied${kept > 0 ? `, ${kept} kept as the target had them (different)` : ''}`);
  }
  return lines;
}

async function copyOne(from: string, to: string): Promise<'copied' | 'absent' | 'already the same' | "kept the target's (different)"> {
  try {
    await copyFile(from, to, constants.COPYFILE_EXCL);
    return 'copied';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    if (code !== 'EEXIST') throw new StoreError('UNAVAILABLE', `cannot copy ${from}: ${(error as Error).message}`);
    const [a, b] = await Promise.all([readFile(from), readFile(to)]);
    return a.equals(b) ? 'already the same' : "kept the target's (different)";
  }
}
