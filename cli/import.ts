/**
 * `npm run import -- --clientes dados_clientes.txt --medicoes medicoes.txt`
 *   imports the original system's files;
 * `npm run import -- --dados ./data` moves a flat-file installation of ours
 *   (every aggregate, database/migration.ts) into the configured storage, and
 *   `npm run import -- --de-postgres URL [--de-schema S] [--dados DIR]` a
 *   PostgreSQL one (DIR: its DATA_DIR, with its keys and report archive);
 * `npm run import -- --tarifas tarifas.csv --distribuidora SIGLA` loads one
 * distributor's B1 residential tariffs from ANEEL's open data file.
 * The target is the configured storage (STORAGE, DATA_DIR, DATABASE_URL...,
 * as for the server). A DATA_DIR involved must not be in use by a server.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatLegacyTimestamp } from '../protocol/timestamp.js';
import { ConfigError, loadConfig, SETTINGS, isEntryPoint, settingsHelp, wantsHelp, type CliIo, type Config } from '../server/config.js';
import { importLegacy, describeTotals, parseLegacyReadings } from '../database/import.js';
import { READINGS_CSV_HEADER } from '../protocol/readings-csv.js';
import { installationSource, MoveIncomplete, MoveRefused, moveInstallation } from './move-installation.js';
import { CsvFileError, importReadingsCsv, isReadingsCsvFile, type CsvImportSummary, type CsvOutcome } from '../database/readings-csv-import.js';
import { MAX_CLOCK_AHEAD_MS } from '../server/udp/ingest.js';
import { openStore, type OpenedStore } from '../database/open-store.js';
import { StoreError } from '../database/store.js';
import { AneelFileError, parseAneelTariffs, SKIP_REASONS, type AneelTariffs, type SkipReason } from '../database/aneel-tariffs.js';
import type { Tariff } from '../database/tariff-store.js';

const USAGE =
  'usage: npm run import -- [--clientes dados_clientes.txt] [--medicoes medicoes.csv|medicoes.txt] [--dados DATA_DIR | --de-postgres URL [--de-schema S]] [--mesclar] [--tarifas tarifas.csv --distribuidora SIGLA] [server settings: --storage, --data-dir, --database-url, --tz-legado, ...]';

const HELP = `${USAGE}

  --clientes FILE   the original's dados_clientes.txt (username;matricula)
  --medicoes FILE   readings: a CSV as GET /medicoes?formato=csv exports it (header data_hora,matricula,consumo,...;
                    streamed, any size; admitted as live readings are), or the original's medicoes.txt
                    (dd-mm-yyyy HH:MM:SS;matricula;consumo, newest first)
  --dados DIR       move the flat-file installation in DIR (every customer, password, profile, tariff,
                    billing rule, invoice, command, alert, event, forecast, counter, operator, audit
                    entry and reading) into the configured storage (e.g. STORAGE=postgres)
  --de-postgres URL move the PostgreSQL installation at URL into the configured storage (e.g. files);
                    with --dados DIR, DIR is that installation's DATA_DIR (meter keys, API secret, reports)
  --de-schema S     the schema of --de-postgres (default public)
  --mesclar         copy into a target that already holds data (what it holds is kept; clashes are reported)
  --tarifas FILE    ANEEL's tarifas-homologadas-distribuidoras-energia-eletrica.csv (or an extract in its format)
  --distribuidora S whose tariffs to load (ANEEL's SigAgente, e.g. CEMIG-D): B1 residential, Convencional and Branca

server settings (where to import to):
`;

const SOURCES = {
  clientes: { type: 'string' },
  medicoes: { type: 'string' },
  dados: { type: 'string' },
  'de-postgres': { type: 'string' },
  'de-schema': { type: 'string' },
  mesclar: { type: 'boolean' },
  tarifas: { type: 'string' },
  distribuidora: { type: 'string' },
} as const;

/** A failure the user caused (a flag, a file, a setting): its one line, and exit code 1. */
class ImportFailure extends Error {}

/** Runs `npm run import` with argv (its flags); resolves the exit code. */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(`${HELP}${settingsHelp()}\n`);
    return 0;
  }
  try {
    await importFrom(argv, env, io);
    return 0;
  } catch (error) {
    if (error instanceof MoveIncomplete) {
      io.out(error.message);
      return 1;
    }
    if (error instanceof ImportFailure || error instanceof MoveRefused || error instanceof ConfigError || error instanceof StoreError) {
      io.err(`import: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 1;
    }
    throw error;
  }
}

async function importFrom(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const settingFlags = Object.fromEntries(Object.values(SETTINGS).map((setting) => [setting.flag, { type: 'string' as const }]));
  let values: Record<string, string | undefined>;
  let merge: boolean;
  try {
    const parsed = parseArgs({ args: [...argv], options: { ...SOURCES, ...settingFlags }, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
    merge = parsed.mesclar === true;
    values = Object.fromEntries(Object.entries(parsed).filter(([name]) => name !== 'mesclar')) as Record<string, string | undefined>;
  } catch (error) {
    throw new ImportFailure(`${(error as Error).message.split('\n')[0]} (${USAGE})`);
  }
  const installation = values.dados !== undefined || values['de-postgres'] !== undefined;
  if (values.clientes === undefined && values.medicoes === undefined && !installation && values.tarifas === undefined) throw new ImportFailure(`nothing to import (${USAGE})`);
  const kinds = [installation, values.clientes !== undefined || values.medicoes !== undefined, values.tarifas !== undefined].filter(Boolean).length;
  if (kinds > 1) throw new ImportFailure('give one of --dados/--de-postgres, --clientes/--medicoes or --tarifas at a time');
  if (values['de-schema'] !== undefined && values['de-postgres'] === undefined) throw new ImportFailure('--de-schema names the schema of --de-postgres');
  if (merge && !installation) throw new ImportFailure('--mesclar goes with --dados or --de-postgres');
  if ((values.tarifas === undefined) !== (values.distribuidora === undefined)) throw new ImportFailure("--tarifas and --distribuidora go together: which distributor's tariffs to load");

  const configArgs = Object.values(SETTINGS).flatMap((setting) => (values[setting.flag] === undefined ? [] : [`--${setting.flag}`, values[setting.flag] as string]));
  const config = loadConfig(env, configArgs);
  if (installation) {
    const sourceSettings = installationSource(config, values);
    io.out(await moveInstallation(sourceSettings, config, merge, io));
    return;
  }
  const tariffsFile = values.tarifas === undefined ? undefined : parseTariffsFile(await readInput(values.tarifas, null), values.tarifas, values.distribuidora as string);
  const customersText = values.clientes === undefined ? undefined : await readInput(values.clientes, 'utf8');
  const csv = values.medicoes !== undefined && (await isCsv(values.medicoes));
  const readingsText = values.medicoes === undefined || csv ? undefined : await readInput(values.medicoes, 'utf8');
  if (readingsText !== undefined && readingsText.trim() !== '' && parseLegacyReadings(readingsText, config.legacyTimeZone).readings.length === 0) {
    throw new ImportFailure(`${values.medicoes}: no line could be read: neither the readings CSV (header ${READINGS_CSV_HEADER.slice(0, 28)}...) nor the original's medicoes.txt (dd-mm-yyyy HH:MM:SS;matricula;consumo)`);
  }

  const logger = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const opened = await openStore(config, logger);
  const target = config.storage === 'postgres' ? `PostgreSQL (${opened.description.database}, schema ${config.pgSchema})` : config.dataDir;
  try {
    if (tariffsFile !== undefined) io.out(await importTariffs(opened, tariffsFile, values.distribuidora as string, values.tarifas as string, target));
    else {
      if (customersText !== undefined || readingsText !== undefined) io.out(await importLegacyFiles(opened, config, customersText, readingsText, target));
      if (csv) io.out(await importCsv(opened, config, values.medicoes as string, target, io));
    }
  } finally {
    await opened.store.close();
  }
}

async function isCsv(path: string): Promise<boolean> {
  try {
    return await isReadingsCsvFile(path);
  } catch (error) {
    throw new ImportFailure(`cannot read ${path}: ${(error as Error).message}`);
  }
}

const OUTCOME_WORDS: Record<CsvOutcome, string> = {
  stored: 'stored',
  duplicate: 'already stored (same register)',
  capacity: 'not stored: MAX_MEDIDORES meters of no customer already held',
  futura: 'futura (ahead of the clock)',
  antiga: 'antiga (older than MEDICAO_IDADE_MAXIMA_DIAS, or before 2000: raise --medicao-idade-maxima-dias to import older history)',
  intervalo: 'intervalo (closer than MEDICAO_INTERVALO_MINIMO_MS to a neighbour)',
  atrasada: "atrasada (older than its meter's newest readings: give each meter's readings in time order)",
  conflito: 'conflito (another register stored at the same instant)',
  nao_cadastrado: 'nao_cadastrado (no customer has the matricula, and MEDIDORES_NAO_CADASTRADOS=recusar)',
};

async function importCsv(opened: OpenedStore, config: Config, path: string, target: string, io: CliIo): Promise<string> {
  const tty = process.stderr.isTTY === true;
  let shown = 0;
  let summary: CsvImportSummary;
  try {
    summary = await importReadingsCsv(opened.store, path, {
      now: Date.now(),
      timestampRules: { maxAheadMs: MAX_CLOCK_AHEAD_MS, maxAgeMs: config.readingMaxAgeDays * 86_400_000 },
      progress: (done, total, lines) => {
        if (!tty || Date.now() - shown < 500) return;
        shown = Date.now();
        io.err(`\r  ${total === 0 ? 100 : Math.floor((done / total) * 100)}% · ${lines} lines`);
      },
    });
  } catch (error) {
    if (error instanceof CsvFileError) throw new ImportFailure(`${path}: ${error.message}`);
    throw error;
  }
  if (tty && shown > 0) io.err('\n');
  const outcomes = (Object.keys(OUTCOME_WORDS) as CsvOutcome[]).filter((outcome) => (summary.outcomes[outcome] ?? 0) > 0);
  return [
    `readings from ${path} (${summary.lines} lines, ${summary.order === 'mais_recente_primeiro' ? 'newest first: read from the end' : 'oldest first'}) into ${target}:`,
    ...outcomes.map((outcome) => `  ${summary.outcomes[outcome]} ${OUTCOME_WORDS[outcome]}`),
    `  ${summary.unreadable} unreadable lines${summary.problems.length > 0 ? ` (${summary.problems.map((p) => `line ${p.line}: ${p.problem}`).join(', ')}${summary.unreadable > summary.problems.length ? ', ...' : ''})` : ''}`,
    ...(summary.qualityDiffers > 0 ? [`  ${summary.qualityDiffers} stored readings were judged with other quality flags than the file's (the flags are judged here, by this installation's rules)`] : []),
    '',
  ].join('\n');
}

async function readInput(path: string, encoding: 'utf8'): Promise<string>;
async function readInput(path: string, encoding: null): Promise<Buffer>;
async function readInput(path: string, encoding: 'utf8' | null): Promise<string | Buffer> {
  try {
    return encoding === null ? await readFile(path) : await readFile(path, encoding);
  } catch (error) {
    throw new ImportFailure(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function parseTariffsFile(bytes: Buffer, path: string, distribuidora: string): AneelTariffs {
  try {
    return parseAneelTariffs(bytes, distribuidora);
  } catch (error) {
    if (error instanceof AneelFileError) throw new ImportFailure(`${path}: ${error.message}`);
    throw error;
  }
}

async function importTariffs(opened: OpenedStore, file: AneelTariffs, distribuidora: string, path: string, target: string): Promise<string> {
  const result = await opened.tariffs.addTariffs(file.tariffs);
  const describe = (x: Tariff): string => `${x.modalidade}${x.posto === 'nao_se_aplica' ? '' : ` ${x.posto}`} ${x.vigenciaInicio} to ${x.vigenciaFim ?? 'open'}`;
  const skipped = (Object.keys(SKIP_REASONS) as SkipReason[]).filter((reason) => file.skipped[reason] > 0).map((reason) => `${file.skipped[reason]} ${SKIP_REASONS[reason]}`);
  return [
    `tariffs of ${distribuidora} from ${path} (${file.rows} rows) into ${target}:`,
    `  ${result.added.length} added, ${result.unchanged.length} already stored, ${result.refused.length} refused`,
    ...result.refused.map(({ tariff, conflictsWith }) => `    refused ${describe(tariff)}: overlaps ${describe(conflictsWith)} (${conflictsWith.resolucao || 'no resolution'}) with other values`),
    ...(file.resolutions.length > 0 ? [`  ${file.resolutions.length} ${file.resolutions.length === 1 ? 'row' : 'rows'} trimmed or left out where the file's rows overlap (a later act, or a narrower validity of the same act, prevails over the days they share):`] : []),
    ...file.resolutions.map(({ row, kept, over }) =>
      `    ${describe(row)} (${row.resolucao}): ${kept.length === 0 ? 'left out' : `kept for ${kept.map((piece) => `${piece.vigenciaInicio} to ${piece.vigenciaFim ?? 'open'}`).join(' and ')}`}, under ${over.map((other) => `${other.vigenciaInicio} to ${other.vigenciaFim ?? 'open'} (${other.resolucao})`).join(', ')}`,
    ),
    `  rows left out: ${skipped.length > 0 ? skipped.join(', ') : 'none'}`,
    ...file.malformed.slice(0, 20).map((m) => `    line ${m.line}: ${m.problem}`),
    ...(file.malformed.length > 20 ? [`    ... and ${file.malformed.length - 20} more unreadable rows`] : []),
    ...(file.tariffs.length === 0 && file.skipped.distribuidora === file.rows ? [`  no row of ${distribuidora}: check the distributor's SigAgente in the file`] : []),
    '',
  ].join('\n');
}

async function importLegacyFiles(opened: OpenedStore, config: Config, customersText: string | undefined, readingsText: string | undefined, target: string): Promise<string> {
  const summary = await importLegacy(opened.store, { customersText, readingsText, timeZone: config.legacyTimeZone });
  const lines = (list: readonly number[]): string => (list.length > 0 ? ` (${list.slice(0, 10).join(', ')}${list.length > 10 ? ', ...' : ''})` : '');
  return [
    `imported into ${target} (legacy times read in ${config.legacyTimeZone}):`,
    `  customers: ${summary.customersAdded} added, ${summary.customersSkipped.length} not added, ${summary.customerBadLines.length} unreadable lines${lines(summary.customerBadLines)}`,
    ...summary.customerConflicts.map(({ customer, usernameHolder, matriculaHolder }) => {
      const reasons = [
        ...(matriculaHolder !== undefined && matriculaHolder.username !== customer.username ? [`matrícula ${customer.matricula} already belongs to ${matriculaHolder.username}`] : []),
        ...(usernameHolder !== undefined && usernameHolder.matricula !== customer.matricula ? [`username already has matrícula ${usernameHolder.matricula}`] : []),
      ];
      return `    ${customer.username}: ${reasons.length > 0 ? reasons.join('; ') : `already registered with matrícula ${customer.matricula}`}`;
    }),
    `  readings: ${describeTotals(summary.readings)}, ${summary.readingBadLines.length} unreadable lines${lines(summary.readingBadLines)}`,
    ...summary.registerDrops.map(
      (drop) => `    the register of ${drop.matricula} goes down ${drop.drops === 1 ? 'once' : `${drop.drops} times`} in the file, first at ${formatLegacyTimestamp(drop.firstAt, config.legacyTimeZone)}: check the meter (reset or replaced?)`,
    ),
    '',
  ].join('\n');
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) });
}
