/**
 * `npm run import -- --clientes dados_clientes.txt --medicoes medicoes.txt`
 *   imports the original system's files;
 * `npm run import -- --dados ./data` copies a flat-file DATA_DIR of ours;
 * `npm run import -- --tarifas tarifas.csv --distribuidora SIGLA` loads one
 * distributor's B1 residential tariffs from ANEEL's open data file.
 * The target is the configured storage (STORAGE, DATA_DIR, DATABASE_URL...,
 * as for the server). A DATA_DIR involved must not be in use by a server.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatLegacyTimestamp } from '../protocol/timestamp.js';
import { ConfigError, loadConfig, SETTINGS, settingsHelp, wantsHelp } from '../server/config.js';
import { copyDataDirectory, importLegacy, describeTotals } from './import.js';
import { openStore } from './open-store.js';
import { StoreError } from './store.js';
import { AneelFileError, parseAneelTariffs, SKIP_REASONS, type AneelTariffs, type SkipReason } from './aneel-tariffs.js';
import type { Tariff } from './tariff-store.js';

const USAGE =
  'usage: npm run import -- [--clientes dados_clientes.txt] [--medicoes medicoes.txt] [--dados DATA_DIR_TO_COPY] [--tarifas tarifas.csv --distribuidora SIGLA] [server settings: --storage, --data-dir, --database-url, --tz-legado, ...]';

function fail(line: string): never {
  process.stderr.write(`import: ${line.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

const sources = { clientes: { type: 'string' }, medicoes: { type: 'string' }, dados: { type: 'string' }, tarifas: { type: 'string' }, distribuidora: { type: 'string' } } as const;
const settingFlags = Object.fromEntries(Object.values(SETTINGS).map((setting) => [setting.flag, { type: 'string' as const }]));
if (wantsHelp(process.argv.slice(2))) {
  process.stdout.write(
    `${USAGE}\n\n  --clientes FILE   the original's dados_clientes.txt (username;matricula)\n  --medicoes FILE   the original's medicoes.txt (dd-mm-yyyy HH:MM:SS;matricula;consumo, newest first)\n  --dados DIR       a flat-file DATA_DIR to copy into the configured storage (e.g. PostgreSQL)\n  --tarifas FILE    ANEEL's tarifas-homologadas-distribuidoras-energia-eletrica.csv (or an extract in its format)\n  --distribuidora S whose tariffs to load (ANEEL's SigAgente, e.g. CEMIG-D): B1 residential, Convencional and Branca\n\nserver settings (where to import to):\n${settingsHelp()}\n`,
  );
  process.exit(0);
}

let values: Record<string, string | undefined>;
try {
  values = parseArgs({ options: { ...sources, ...settingFlags }, strict: true }).values as Record<string, string | undefined>;
} catch (error) {
  fail(`${(error as Error).message} (${USAGE})`);
}
if (values.clientes === undefined && values.medicoes === undefined && values.dados === undefined && values.tarifas === undefined) fail(`nothing to import (${USAGE})`);
const kinds = [values.dados !== undefined, values.clientes !== undefined || values.medicoes !== undefined, values.tarifas !== undefined].filter(Boolean).length;
if (kinds > 1) fail('give one of --dados, --clientes/--medicoes or --tarifas at a time');
if ((values.tarifas === undefined) !== (values.distribuidora === undefined)) fail('--tarifas and --distribuidora go together: which distributor\'s tariffs to load');

const configArgs = Object.values(SETTINGS).flatMap((setting) => (values[setting.flag] === undefined ? [] : [`--${setting.flag}`, values[setting.flag] as string]));
let config;
try {
  config = loadConfig(process.env, configArgs);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

async function readInput(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    fail(`cannot read ${path}: ${(error as Error).message}`);
  }
}

let tariffsFile: AneelTariffs | undefined;
if (values.tarifas !== undefined) {
  let bytes: Buffer;
  try {
    bytes = await readFile(values.tarifas);
  } catch (error) {
    fail(`cannot read ${values.tarifas}: ${(error as Error).message}`);
  }
  try {
    tariffsFile = parseAneelTariffs(bytes, values.distribuidora as string);
  } catch (error) {
    if (error instanceof AneelFileError) fail(`${values.tarifas}: ${error.message}`);
    throw error;
  }
}

const customersText = await readInput(values.clientes);
const readingsText = await readInput(values.medicoes);
const logger = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
let opened;
try {
  opened = await openStore(config, logger);
} catch (error) {
  if (error instanceof StoreError) fail(error.message);
  throw error;
}
const target = config.storage === 'postgres' ? `PostgreSQL (${opened.description.database}, schema ${config.pgSchema})` : config.dataDir;
const lines = (list: readonly number[]): string => (list.length > 0 ? ` (${list.slice(0, 10).join(', ')}${list.length > 10 ? ', ...' : ''})` : '');
try {
  if (tariffsFile !== undefined) {
    const result = await opened.tariffs.addTariffs(tariffsFile.tariffs);
    const describe = (x: Tariff): string => `${x.modalidade}${x.posto === 'nao_se_aplica' ? '' : ` ${x.posto}`} ${x.vigenciaInicio} to ${x.vigenciaFim ?? 'open'}`;
    const skipped = (Object.keys(SKIP_REASONS) as SkipReason[]).filter((reason) => tariffsFile.skipped[reason] > 0).map((reason) => `${tariffsFile.skipped[reason]} ${SKIP_REASONS[reason]}`);
    process.stdout.write(
      [
        `tariffs of ${values.distribuidora} from ${values.tarifas} (${tariffsFile.rows} rows) into ${target}:`,
        `  ${result.added.length} added, ${result.unchanged.length} already stored, ${result.refused.length} refused`,
        ...result.refused.map(({ tariff, conflictsWith }) => `    refused ${describe(tariff)}: overlaps ${describe(conflictsWith)} (${conflictsWith.resolucao || 'no resolution'}) with other values`),
        `  rows left out: ${skipped.length > 0 ? skipped.join(', ') : 'none'}`,
        ...tariffsFile.malformed.slice(0, 20).map((m) => `    line ${m.line}: ${m.problem}`),
        ...(tariffsFile.malformed.length > 20 ? [`    ... and ${tariffsFile.malformed.length - 20} more unreadable rows`] : []),
        ...(tariffsFile.tariffs.length === 0 && tariffsFile.skipped.distribuidora === tariffsFile.rows ? [`  no row of ${values.distribuidora}: check the distributor's SigAgente in the file`] : []),
        '',
      ].join('\n'),
    );
  } else if (values.dados !== undefined) {
    const copy = await copyDataDirectory(opened.store, values.dados);
    process.stdout.write(
      [
        `copied ${values.dados} into ${target}:`,
        `  customers: ${copy.customersAdded} added, ${copy.customersSkipped} already registered`,
        `  readings: ${describeTotals(copy.readings)}, ${copy.unreadableLines} unreadable lines` +
          (copy.tornBytes > 0 ? `, a torn last line of ${copy.tornBytes} bytes left out` : ''),
        '',
      ].join('\n'),
    );
  } else {
    const summary = await importLegacy(opened.store, { customersText, readingsText, timeZone: config.legacyTimeZone });
    process.stdout.write(
      [
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
      ].join('\n'),
    );
  }
} catch (error) {
  if (error instanceof StoreError) fail(error.message);
  throw error;
} finally {
  await opened.store.close();
}
