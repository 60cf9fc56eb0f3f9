/**
 * `npm run import -- --clientes dados_clientes.txt --medicoes medicoes.txt`
 *   imports the original system's files;
 * `npm run import -- --dados ./data` copies a flat-file DATA_DIR of ours.
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

const USAGE =
  'usage: npm run import -- [--clientes dados_clientes.txt] [--medicoes medicoes.txt] [--dados DATA_DIR_TO_COPY] [server settings: --storage, --data-dir, --database-url, --tz-legado, ...]';

function fail(line: string): never {
  process.stderr.write(`import: ${line.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

const sources = { clientes: { type: 'string' }, medicoes: { type: 'string' }, dados: { type: 'string' } } as const;
const settingFlags = Object.fromEntries(Object.values(SETTINGS).map((setting) => [setting.flag, { type: 'string' as const }]));
if (wantsHelp(process.argv.slice(2))) {
  process.stdout.write(
    `${USAGE}\n\n  --clientes FILE   the original's dados_clientes.txt (username;matricula)\n  --medicoes FILE   the original's medicoes.txt (dd-mm-yyyy HH:MM:SS;matricula;consumo, newest first)\n  --dados DIR       a flat-file DATA_DIR to copy into the configured storage (e.g. PostgreSQL)\n\nserver settings (where to import to):\n${settingsHelp()}\n`,
  );
  process.exit(0);
}

let values: Record<string, string | undefined>;
try {
  values = parseArgs({ options: { ...sources, ...settingFlags }, strict: true }).values as Record<string, string | undefined>;
} catch (error) {
  fail(`${(error as Error).message} (${USAGE})`);
}
if (values.clientes === undefined && values.medicoes === undefined && values.dados === undefined) fail(`nothing to import (${USAGE})`);
if (values.dados !== undefined && (values.clientes !== undefined || values.medicoes !== undefined)) fail('give --dados, or --clientes/--medicoes, not both');

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
  if (values.dados !== undefined) {
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
