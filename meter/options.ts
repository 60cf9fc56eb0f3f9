/**
 * Options of a simulated meter, as flags (`--intervalo-envio 5`) or
 * environment variables (`MEDIDOR_INTERVALO_ENVIO=5`; a flag wins),
 * validated with zod. Shared by the meter process and the fleet launcher,
 * which checks them once before spawning anything.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseDecimal, parseRegister } from '../protocol/decimal.js';
import { parseKeyFile } from '../protocol/meter-auth.js';
import { isMatricula } from '../protocol/meter-protocol.js';
import { MAX_INCREMENT_UNITS, type Peak } from './simulated-meter.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Readings a meter keeps unacknowledged by default (over 2 days at one reading every 15 s). */
export const DEFAULT_MAX_PENDING = 12_000;

export class OptionError extends Error {
  readonly option: string;

  constructor(option: string, problem: string) {
    // One line, whatever the problem text (parseArgs writes several).
    super(`invalid option ${option}: ${problem.replace(/\s*\n\s*/g, ' ')}`);
    this.name = 'OptionError';
    this.option = option;
  }
}

const seconds = (what: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `${what} must be a number of seconds, like 15 or 0.5`)
    .transform(Number)
    .pipe(z.number().positive(`${what} must be more than 0`).max(86_400, `${what} must be at most a day`));

/** Servers a meter fails over between, at most. */
export const MAX_SERVERS = 16;

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:porta` (an IPv6 host in brackets: `[::1]:60000`); undefined when malformed. */
export function parseServer(text: string): ServerAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]]+)):(\d{1,5})$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

/** Every meter option, declared once: its flag name, the schema over the text given, its default text, and what it means (`--help`, checked against the README's table). */
const METER_OPTIONS = {
  host: { schema: z.string().min(1, 'must not be empty'), default: '127.0.0.1', help: "the server's address" },
  porta: { schema: z.string().regex(/^\d{1,5}$/, 'must be a port number').transform(Number).pipe(z.number().min(1).max(65535, 'must be a port number')), default: '60000', help: "the server's UDP port" },
  servidores: {
    schema: z
      .string()
      .transform((list, context) => {
        const servers = list.split(',').map((entry) => parseServer(entry.trim()));
        if (servers.length === 0 || servers.length > MAX_SERVERS || servers.some((server) => server === undefined)) {
          context.addIssue({ code: 'custom', message: `must be 1 to ${MAX_SERVERS} host:porta, comma-separated` });
          return z.NEVER;
        }
        return servers as ServerAddress[];
      }),
    default: undefined,
    help: 'host:porta,host:porta… servers to fail over between (replaces --host/--porta): a meter unacknowledged for 3 send intervals moves to the next, keeping its unacknowledged readings',
  },
  matricula: { schema: z.string().refine(isMatricula, 'must be 1 to 20 digits'), default: undefined, help: 'the meter\'s matricula (a random one when neither this nor --matriculas is given)' },
  matriculas: {
    schema: z
      .string()
      .transform((list) => list.split(',').map((m) => m.trim()))
      .refine((list) => list.length > 0 && list.every(isMatricula), 'must be a comma-separated list of 1 to 20 digit matriculas'),
    default: undefined,
    help: 'several meters in this one process, comma-separated',
  },
  inicial: { schema: z.string().transform((text, context) => parseOrFail(parseRegister(text), context, 'must be a non-negative register like 0 or 1302.5')), default: undefined, help: "the register to start from (default: the meter's saved --estado, else the newest register the server holds for it, else 0)" },
  'porta-http': { schema: z.string().regex(/^\d{1,5}$/, 'must be a port number, or 0').transform(Number).pipe(z.number().max(65535, 'must be a port number, or 0')), default: '50000', help: "the server's HTTP port, asked at start for each meter's newest register (GET /medicoes/ultima-medicao), so a meter run again continues where it stopped; 0: not asked" },
  'intervalo-incremento': { schema: seconds('the increment interval'), default: '1', help: `seconds between register increments (each a random whole number of units up to ${MAX_INCREMENT_UNITS})` },
  'incremento-minimo': {
    schema: z.string().regex(/^\d{1,2}$/, `must be a whole number of units from 0 to ${MAX_INCREMENT_UNITS}`).transform(Number).pipe(z.number().max(MAX_INCREMENT_UNITS, `must be a whole number of units from 0 to ${MAX_INCREMENT_UNITS}`)),
    default: '0',
    help: `smallest increment in units, 0 to ${MAX_INCREMENT_UNITS} (higher: steadier consumption)`,
  },
  'intervalo-envio': { schema: seconds('the send interval'), default: '15', help: 'seconds between readings sent' },
  semente: { schema: z.string().regex(/^\d{1,10}$/, 'must be a whole number').transform(Number).pipe(z.number().max(0xffffffff, 'must fit in 32 bits')), default: undefined, help: 'seed of the consumption, to repeat a run (random when not given)' },
  pico: {
    schema: z.string().transform((text, context) => {
      const factor = parseOrFail(parseDecimal(text, { scale: 3, maxSignificantDigits: 9 }), context, 'must be a factor like 3 or 2.5');
      if (factor === 0n) context.addIssue({ code: 'custom', message: 'must be more than 0' });
      return factor;
    }),
    default: undefined,
    help: 'factor the consumption jumps by (the demo uses 4)',
  },
  'pico-apos': { schema: z.string().regex(/^\d+(\.\d+)?$/, 'must be a number of seconds').transform(Number), default: '0', help: 'seconds after start when the jump begins' },
  'max-pendentes': { schema: z.string().regex(/^\d{1,9}$/, 'must be a whole number').transform(Number).pipe(z.number().min(1, 'must be at least 1')), default: String(DEFAULT_MAX_PENDING), help: 'unacknowledged readings kept; past it the oldest is dropped' },
  'log-level': { schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), default: 'info', help: 'fatal, error, warn, info, debug, trace or silent' },
  chaves: { schema: z.string().min(1, 'must be a file path').transform((path, context) => readKeys(path, context)), default: undefined, help: 'keys file (matricula;<hex key>): listed meters sign their readings' },
  'desvio-relogio-s': { schema: z.string().regex(/^-?\d{1,7}$/, 'must be a whole number of seconds, like -600 or 90').transform(Number), default: '0', help: "seconds the meter's clock is off at start (negative: behind); a sincronizar_relogio command corrects it" },
  'falta-energia-apos': { schema: seconds('the time before the power failure'), default: undefined, help: 'seconds after start when the power fails: last gasp (falta_energia), silence, then retorno_energia' },
  'duracao-falta': { schema: seconds('the power failure'), default: '30', help: 'seconds the power failure lasts' },
  'violacao-apos': { schema: seconds('the time before the tamper event'), default: undefined, help: 'seconds after start when the cover is opened (violacao_tampa)' },
  estado: { schema: z.string().min(1, 'must be a directory path'), default: undefined, help: 'directory where each meter keeps its state across restarts (supply, limit, clock, commands executed, events not yet acknowledged)' },
  'tensao-nominal': { schema: z.enum(['127', '220', '0'], { error: 'must be 127 or 220 (V), or 0 to send no electrical quantities' }).transform(Number), default: '220', help: 'nominal voltage, 127 or 220 V: readings carry voltage, current, power, power factor and frequency around it (0: no quantities, as the original)' },
  'variacao-tensao-apos': { schema: seconds('the time before the voltage disturbance'), default: undefined, help: 'seconds after start when the voltage sags or swells (beyond 10% of nominal: a subtensao or sobretensao event)' },
  'variacao-tensao-pct': {
    schema: z.string().regex(/^[-+]?\d{1,2}$/, 'must be a whole percentage of nominal, like -20 (a sag) or 15 (a swell)').transform(Number).pipe(z.number().refine((n) => n !== 0, 'must not be 0')),
    default: '-20',
    help: 'the disturbance, in % of nominal: -20 is a sag, 15 a swell',
  },
  'duracao-variacao': { schema: seconds('the voltage disturbance'), default: '10', help: 'seconds the voltage disturbance lasts' },
} as const;

/** A keys file as the server reads it: each meter listed signs its readings with its key. */
function readKeys(path: string, context: z.RefinementCtx): Map<string, Buffer> {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (error) {
    context.addIssue({ code: 'custom', message: `cannot read ${path}: ${(error as Error).message}` });
    return z.NEVER;
  }
  const { keys, problems } = parseKeyFile(text);
  const [first] = problems;
  if (first !== undefined) {
    context.addIssue({ code: 'custom', message: `${path} line ${first.line}: ${first.problem}` });
    return z.NEVER;
  }
  return keys;
}

export type MeterOptionName = keyof typeof METER_OPTIONS;
/** Each option's default text (none: undefined) and meaning. */
export const meterOptionSpec = (name: MeterOptionName): { readonly default: string | undefined; readonly help: string } => METER_OPTIONS[name];
export const METER_OPTION_NAMES = Object.keys(METER_OPTIONS) as MeterOptionName[];

function parseOrFail<T>(value: T | undefined, context: z.RefinementCtx, message: string): T {
  if (value === undefined) {
    context.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
  return value;
}

/** `intervalo-envio` -> `MEDIDOR_INTERVALO_ENVIO` */
export function envName(option: string): string {
  return `MEDIDOR_${option.toUpperCase().replaceAll('-', '_')}`;
}

export interface MeterOptions {
  readonly host: string;
  readonly port: number;
  /** The servers to send to, the first first; a meter unacknowledged for 3 send intervals moves to the next (`--servidores`, else host:porta alone). */
  readonly servers: readonly ServerAddress[];
  /** The meters this process simulates (one unless `--matriculas`). */
  readonly matriculas: readonly string[];
  /** Starting register, in thousandths; undefined: the one the server holds for the meter (resumeFromServer), else 0. */
  readonly initialRegister: bigint | undefined;
  /** The server's HTTP port, asked for each meter's newest register at start (undefined: not asked). */
  readonly httpPort: number | undefined;
  readonly incrementIntervalMs: number;
  /** Smallest increment, in whole units (each is uniform from this to MAX_INCREMENT_UNITS). */
  readonly minIncrementUnits: number;
  readonly sendIntervalMs: number;
  readonly seed: number;
  /** Whether the seed was chosen at random (logged so the run can be repeated). */
  readonly seedChosen: boolean;
  readonly peak: Peak | undefined;
  readonly maxPending: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Keys of the meters that sign their readings, by matricula. */
  readonly keys: ReadonlyMap<string, Buffer>;
  /** How far each meter's clock is off at start, in ms (a clock sync corrects it). */
  readonly clockDriftMs: number;
  /** A power failure after this long (ms), lasting `outageMs`. */
  readonly outage: { readonly afterMs: number; readonly durationMs: number } | undefined;
  /** A tamper event after this long (ms). */
  readonly tamperAfterMs: number | undefined;
  /** Directory where each meter keeps its state (supply, limit, clock, executed commands, unacknowledged events) across restarts. */
  readonly stateDir: string | undefined;
  /** Nominal voltage (V) the meters measure quantities around; undefined: readings carry no quantities. */
  readonly nominalVoltage: number | undefined;
  /** A sag (negative fraction) or swell of the voltage after `afterMs`, lasting `durationMs`. */
  readonly voltageDisturbance: { readonly afterMs: number; readonly fraction: number; readonly durationMs: number } | undefined;
}

export function randomMatricula(): string {
  return String(10_000_000 + Math.floor(Math.random() * 90_000_000));
}

/** Parse-args option table for every meter option (all take a value). */
export function meterArgOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(METER_OPTION_NAMES.map((name) => [name, { type: 'string' as const }]));
}

/** Validates meter options given as text (flags already merged); throws OptionError. */
export function resolveMeterOptions(given: Partial<Record<MeterOptionName, string>>, env: NodeJS.ProcessEnv): MeterOptions {
  const value: Partial<Record<MeterOptionName, unknown>> = {};
  for (const name of METER_OPTION_NAMES) {
    const entry = METER_OPTIONS[name];
    const fromFlag = given[name];
    const text = fromFlag ?? env[envName(name)] ?? entry.default;
    if (text === undefined) continue;
    const result = (entry.schema as z.ZodType<unknown, string>).safeParse(text.trim());
    if (!result.success) {
      throw new OptionError(fromFlag !== undefined ? `--${name}` : envName(name), `${result.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(text)})`);
    }
    value[name] = result.data;
  }
  if (value.matricula !== undefined && value.matriculas !== undefined) throw new OptionError('--matriculas', 'give --matricula or --matriculas, not both');
  if (value['pico-apos'] !== undefined && value.pico === undefined && given['pico-apos'] !== undefined) {
    throw new OptionError('--pico-apos', 'needs --pico <fator>');
  }
  if (given['duracao-falta'] !== undefined && value['falta-energia-apos'] === undefined) throw new OptionError('--duracao-falta', 'needs --falta-energia-apos <segundos>');
  for (const dependent of ['variacao-tensao-pct', 'duracao-variacao'] as const) {
    if (given[dependent] !== undefined && value['variacao-tensao-apos'] === undefined) throw new OptionError(`--${dependent}`, 'needs --variacao-tensao-apos <segundos>');
  }
  if (value['variacao-tensao-apos'] !== undefined && value['tensao-nominal'] === 0) throw new OptionError('--variacao-tensao-apos', 'needs a --tensao-nominal of 127 or 220');
  const seedGiven = value.semente as number | undefined;
  const peakFactor = value.pico as bigint | undefined;
  return {
    host: value.host as string,
    port: value.porta as number,
    servers: (value.servidores as ServerAddress[] | undefined) ?? [{ host: value.host as string, port: value.porta as number }],
    matriculas: (value.matriculas as string[] | undefined) ?? [(value.matricula as string | undefined) ?? randomMatricula()],
    initialRegister: value.inicial as bigint | undefined,
    httpPort: value['porta-http'] === 0 ? undefined : (value['porta-http'] as number),
    incrementIntervalMs: (value['intervalo-incremento'] as number) * 1000,
    minIncrementUnits: value['incremento-minimo'] as number,
    sendIntervalMs: (value['intervalo-envio'] as number) * 1000,
    seed: seedGiven ?? Math.floor(Math.random() * 0xffffffff),
    seedChosen: seedGiven === undefined,
    peak: peakFactor === undefined ? undefined : { factorThousandths: peakFactor, afterMs: (value['pico-apos'] as number) * 1000 },
    maxPending: value['max-pendentes'] as number,
    logLevel: value['log-level'] as MeterOptions['logLevel'],
    keys: (value.chaves as Map<string, Buffer> | undefined) ?? new Map(),
    clockDriftMs: (value['desvio-relogio-s'] as number) * 1000,
    outage: value['falta-energia-apos'] === undefined ? undefined : { afterMs: (value['falta-energia-apos'] as number) * 1000, durationMs: (value['duracao-falta'] as number) * 1000 },
    tamperAfterMs: value['violacao-apos'] === undefined ? undefined : (value['violacao-apos'] as number) * 1000,
    stateDir: value.estado as string | undefined,
    nominalVoltage: value['tensao-nominal'] === 0 ? undefined : (value['tensao-nominal'] as number),
    voltageDisturbance:
      value['variacao-tensao-apos'] === undefined
        ? undefined
        : { afterMs: (value['variacao-tensao-apos'] as number) * 1000, fraction: (value['variacao-tensao-pct'] as number) / 100, durationMs: (value['duracao-variacao'] as number) * 1000 },
  };
}

/** Reads a meter process's own command line; throws OptionError. */
export function parseMeterCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): MeterOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: meterArgOptions(), strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (error) {
    throw new OptionError('command line', (error as Error).message);
  }
  return resolveMeterOptions(values, env);
}


/** Every meter option with its variable, default and meaning: what `--help` prints. */
export function meterOptionsHelp(): string {
  const rows = METER_OPTION_NAMES.map((name) => [`--${name}`, envName(name), METER_OPTIONS[name].default ?? 'none', METER_OPTIONS[name].help] as const);
  const widths = ([0, 1, 2] as const).map((column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => `  ${row[0].padEnd(widths[0] as number)}  ${row[1].padEnd(widths[1] as number)}  ${row[2].padEnd(widths[2] as number)}  ${row[3]}`).join('\n');
}

/** Whether the command line asks for help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
