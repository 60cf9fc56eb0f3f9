/**
 * `npm run import -- --clientes dados_clientes.txt --medicoes medicoes.txt`
 * Imports the original system's files into DATA_DIR (the server must be stopped:
 * it owns the directory while it runs).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig, SETTINGS } from '../server/config.js';
import { FileStore } from './file/file-store.js';
import { importLegacy } from './legacy-import.js';
import { StoreError } from './store.js';

const USAGE = 'usage: npm run import -- [--clientes dados_clientes.txt] [--medicoes medicoes.txt] [--data-dir DIR] [--tz-legado ZONE]';

function fail(line: string): never {
  process.stderr.write(`import: ${line}\n`);
  process.exit(1);
}

let values: { clientes?: string; medicoes?: string; 'data-dir'?: string; 'tz-legado'?: string };
try {
  values = parseArgs({
    options: {
      clientes: { type: 'string' },
      medicoes: { type: 'string' },
      [SETTINGS.dataDir.flag]: { type: 'string' },
      [SETTINGS.legacyTimeZone.flag]: { type: 'string' },
    },
    strict: true,
  }).values as typeof values;
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
if (values.clientes === undefined && values.medicoes === undefined) fail(`nothing to import\n${USAGE}`);

const configArgs: string[] = [];
for (const flag of [SETTINGS.dataDir.flag, SETTINGS.legacyTimeZone.flag] as const) {
  const value = values[flag];
  if (value !== undefined) configArgs.push(`--${flag}`, value);
}
let config;
try {
  config = loadConfig(process.env, configArgs);
} catch (error) {
  fail((error as Error).message);
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
const logger = pino({ level: config.logLevel });
let store: FileStore;
try {
  store = await FileStore.open({ dataDir: config.dataDir, logger });
} catch (error) {
  if (error instanceof StoreError) fail(error.message);
  throw error;
}
try {
  const summary = await importLegacy(store, { customersText, readingsText, timeZone: config.legacyTimeZone });
  process.stdout.write(
    [
      `imported into ${config.dataDir} (legacy times read in ${config.legacyTimeZone}):`,
      `  customers: ${summary.customersAdded} added, ${summary.customersSkipped.length} already registered, ${summary.customerBadLines.length} unreadable lines${summary.customerBadLines.length > 0 ? ` (${summary.customerBadLines.slice(0, 10).join(', ')})` : ''}`,
      `  readings: ${summary.readingsStored} stored, ${summary.readingsDuplicate} already stored or not newer, ${summary.readingBadLines.length} unreadable lines${summary.readingBadLines.length > 0 ? ` (${summary.readingBadLines.slice(0, 10).join(', ')})` : ''}`,
      '',
    ].join('\n'),
  );
} finally {
  await store.close();
}
