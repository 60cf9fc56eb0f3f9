/**
 * Server settings from environment variables and command-line flags of the
 * same meaning (a flag wins). Parsed once with zod, frozen; a bad value is a
 * ConfigError naming the setting.
 */
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isValidTimeZone } from '../protocol/timestamp.js';
import { parseDecimal } from '../protocol/decimal.js';
import { parseTariff } from '../domain/readings/consumption.js';
import { isProxyEntry } from './http/client-address.js';

/** A key that signs API tokens: 32 to 64 bytes in hex. */
export const SECRET_HEX_PATTERN = /^(?:[0-9a-fA-F]{2}){32,64}$/;
/** An operator token: 32 to 256 characters a Bearer header can carry (RFC 6750 §2.1's b64token). */
export const OPERATOR_TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]{32,256}$/;

/** A web origin as browsers send it in `Origin` (RFC 6454 §6.1): scheme, host, optional port; no path. */
export const WEB_ORIGIN_PATTERN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** The meter keys file's name in DATA_DIR when CHAVES_MEDIDORES is not set. */
export const METER_KEYS_FILE = 'chaves-medidores.txt';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.string().regex(/^\d{1,5}$/, 'must be a whole number from 0 to 65535').transform(Number).pipe(z.number().max(65535, 'must be a whole number from 0 to 65535'));

const milliseconds = (min: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min} ms`));

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be a whole number from ${min} to ${max}`).max(max, `must be a whole number from ${min} to ${max}`));

/** One setting: its environment variable, its flag, its default text, its meaning (for --help, .env.exemplo and the README), whether it is a secret (never echoed), and the schema that reads its text. */
interface SettingSpec {
  readonly env: string;
  readonly flag: string;
  readonly default: string;
  readonly help: string;
  /** The default as --help and the README say it, when the text alone would not (`the machine's time zone`). */
  readonly shown?: string;
  readonly secret?: boolean;
}

const setting = <S extends z.ZodType<unknown, string>>(spec: SettingSpec, schema: S): SettingSpec & { readonly schema: S } => ({ ...spec, schema });

/** Every setting, declared once: `Config` is inferred from it; --help, .env.exemplo and the README's table are checked against it. */
export const SETTINGS = {
  host: setting({ env: 'HOST', flag: 'host', default: '127.0.0.1', help: 'address both listeners bind to (0.0.0.0 for every interface)' }, z.string().min(1, 'must not be empty')),
  httpPort: setting({ env: 'HTTP_PORT', flag: 'http-port', default: '50000', help: 'TCP port of the REST API (0: any free port)' }, port),
  udpPort: setting({ env: 'UDP_PORT', flag: 'udp-port', default: '60000', help: 'UDP port for meter readings (0: any free port)' }, port),
  dataDir: setting({ env: 'DATA_DIR', flag: 'data-dir', default: './data', help: 'directory of the data files, created on first start' }, z.string().min(1, 'must not be empty').transform((dir) => resolve(dir))),
  tariff: setting({ env: 'TARIFA', flag: 'tarifa', default: '3', help: 'price per unit of consumption, a decimal with up to 6 places' }, z.string().transform((text, context) => {
    const tariff = parseTariff(text);
    if (tariff === undefined) {
      context.addIssue({ code: 'custom', message: 'must be a non-negative decimal like 3 or 0.75 (at most 6 decimal places)' });
      return z.NEVER;
    }
    return tariff;
  })),
  defaultEmissionFactor: setting({ env: 'CO2E_FATOR_PADRAO', flag: 'co2e-fator-padrao', default: '0.0385', help: 'kg CO2e per kWh for months without a factor set (MCTI: the grid\'s 2023 average)' }, z.string().transform((text, context) => {
      const factor = parseDecimal(text, { scale: 6, maxSignificantDigits: 8 });
      if (factor === undefined || factor > 10_000_000n) {
        context.addIssue({ code: 'custom', message: 'must be kg CO2e per kWh, a decimal from 0 to 10 with up to 6 places, like 0.0385' });
        return z.NEVER;
      }
      return factor;
    })),
  legacyTimeZone: setting({ env: 'TZ_LEGADO', flag: 'tz-legado', default: Intl.DateTimeFormat().resolvedOptions().timeZone, shown: "the machine's time zone", help: 'IANA time zone of the original meters\' local data_hora, the default fuso of every route, and the days of the daily rollups' }, z.string().refine(isValidTimeZone, 'must be an IANA time zone such as America/Sao_Paulo or UTC')),
  logLevel: setting({ env: 'LOG_LEVEL', flag: 'log-level', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent' }, z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
  udpReceiveBuffer: setting({ env: 'UDP_BUFFER_RECEPCAO', flag: 'udp-buffer-recepcao', default: String(8 * 1024 * 1024), help: 'UDP receive buffer asked of the kernel, in bytes' }, z
      .string()
      .regex(/^\d{1,10}$/, 'must be a whole number of bytes')
      .transform(Number)
      .pipe(z.number().min(4096, 'must be at least 4096 bytes').max(1 << 30, 'must be at most 1 GiB'))),
  storage: setting({ env: 'STORAGE', flag: 'storage', default: 'arquivos', help: 'arquivos (flat files in DATA_DIR) or postgres' }, z.enum(['arquivos', 'postgres'], { error: 'must be arquivos (flat files in DATA_DIR) or postgres (with DATABASE_URL)' })),
  databaseUrl: setting({ env: 'DATABASE_URL', flag: 'database-url', default: '', secret: true, help: 'PostgreSQL connection string, required with STORAGE=postgres' }, z.string().refine((url) => url === '' || /^postgres(ql)?:\/\//.test(url), 'must be a postgres:// URL')),
  pgSchema: setting({ env: 'PG_SCHEMA', flag: 'pg-schema', default: 'public', help: 'schema holding the tables (created if missing)' }, z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lower-case schema name')),
  pgPoolMax: setting({ env: 'PG_POOL_MAX', flag: 'pg-pool-max', default: '10', help: 'connections in the PostgreSQL pool' }, wholeNumber(1, 9999)),
  pgStatementTimeoutMs: setting({ env: 'PG_STATEMENT_TIMEOUT_MS', flag: 'pg-statement-timeout-ms', default: '5000', help: 'longest a statement may run, in ms' }, milliseconds(100)),
  pgConnectTimeoutMs: setting({ env: 'PG_CONNECT_TIMEOUT_MS', flag: 'pg-connect-timeout-ms', default: '2000', help: 'longest to wait for a connection, in ms' }, milliseconds(100)),
  httpHeaderTimeoutMs: setting({ env: 'HTTP_TEMPO_CABECALHOS_MS', flag: 'http-tempo-cabecalhos-ms', default: '10000', help: 'a request\'s header section must arrive whole within this, and a new connection\'s first request (ms)' }, milliseconds(100)),
  httpBodyTimeoutMs: setting({ env: 'HTTP_TEMPO_CORPO_MS', flag: 'http-tempo-corpo-ms', default: '10000', help: 'a request\'s body must arrive whole within this (ms)' }, milliseconds(100)),
  httpIdleTimeoutMs: setting({ env: 'HTTP_TEMPO_OCIOSO_MS', flag: 'http-tempo-ocioso-ms', default: '30000', help: 'an idle keep-alive connection is closed after this (ms)' }, milliseconds(100)),
  httpWriteTimeoutMs: setting({ env: 'HTTP_TEMPO_ESCRITA_MS', flag: 'http-tempo-escrita-ms', default: '30000', help: 'a client that reads nothing for this long is reset (ms)' }, milliseconds(100)),
  httpMaxConnections: setting({ env: 'HTTP_MAX_CONEXOES', flag: 'http-max-conexoes', default: '10000', help: 'open connections; past it new ones get 503' }, wholeNumber(1, 1_000_000)),
  httpMaxConnectionsPerSource: setting({ env: 'HTTP_MAX_CONEXOES_POR_ORIGEM', flag: 'http-max-conexoes-por-origem', default: '1000', help: 'open connections from one address; past it new ones get 503' }, wholeNumber(1, 1_000_000)),
  httpMaxPipelined: setting({ env: 'HTTP_MAX_PIPELINE', flag: 'http-max-pipeline', default: '32', help: 'requests read ahead of the one being answered on a connection' }, wholeNumber(1, 1024)),
  maxMeters: setting({ env: 'MAX_MEDIDORES', flag: 'max-medidores', default: '1000000', help: 'meters of no registered customer kept in memory (file store)' }, wholeNumber(1, 100_000_000)),
  readingMinIntervalMs: setting({ env: 'MEDICAO_INTERVALO_MINIMO_MS', flag: 'medicao-intervalo-minimo-ms', default: '100', help: 'a meter\'s readings closer than this (ms) are refused (0: any)' }, wholeNumber(0, 86_400_000)),
  readingMaxAgeDays: setting({ env: 'MEDICAO_IDADE_MAXIMA_DIAS', flag: 'medicao-idade-maxima-dias', default: '400', help: 'readings older than this many days are refused' }, wholeNumber(1, 36_500)),
  spikeFactor: setting({ env: 'VEE_PICO_FATOR', flag: 'vee-pico-fator', default: '10', help: 'a reading is a spike (pico) above this many times its meter\'s typical rate' }, wholeNumber(2, 1000)),
  spikeFloorW: setting({ env: 'VEE_PICO_POTENCIA_MINIMA_W', flag: 'vee-pico-potencia-minima-w', default: '1000', help: 'typical rates below this mean power (W) count as this when judging spikes' }, wholeNumber(0, 1_000_000)),
  gapFactor: setting({ env: 'VEE_LACUNA_FATOR', flag: 'vee-lacuna-fator', default: '3', help: 'a gap before a reading (lacuna_antes) is longer than this many typical intervals' }, wholeNumber(2, 1000)),
  zeroHours: setting({ env: 'VEE_ZERO_HORAS', flag: 'vee-zero-horas', default: '6', help: 'a register still for this many hours is prolonged zero consumption' }, wholeNumber(1, 8760)),
  distributor: setting({ env: 'DISTRIBUIDORA', flag: 'distribuidora', default: '', help: 'the distributor whose imported tariffs bill the customers (ANEEL SigAgente, e.g. CEMIG-D)' }, z.string().max(100, 'must be at most 100 characters')),
  automaticBilling: setting({ env: 'FATURAMENTO_AUTOMATICO', flag: 'faturamento-automatico', default: 'nao', help: 'sim: issue every customer\'s invoice when its cycle closes (a pass at start and every FATURAMENTO_INTERVALO_S)' }, z.enum(['sim', 'nao'], { error: 'must be sim or nao' }).transform((value) => value === 'sim')),
  automaticBillingIntervalS: setting({ env: 'FATURAMENTO_INTERVALO_S', flag: 'faturamento-intervalo-s', default: '600', help: 'seconds between automatic billing passes' }, wholeNumber(1, 86_400)),
  exampleCustomers: setting({ env: 'CLIENTES_EXEMPLO', flag: 'clientes-exemplo', default: 'nao', help: 'sim: a new DATA_DIR (or PostgreSQL schema) starts with five example customers (the demo sets it)' }, z.enum(['sim', 'nao'], { error: 'must be sim (seed the example customers) or nao' }).transform((value) => value === 'sim')),
  unregisteredMeters: setting({ env: 'MEDIDORES_NAO_CADASTRADOS', flag: 'medidores-nao-cadastrados', default: 'aceitar', help: 'aceitar (any matricula) or recusar (registered customers only)' }, z.enum(['aceitar', 'recusar'], { error: 'must be aceitar (any matricula, as the original) or recusar (registered customers only)' })),
  udpMaxPending: setting({ env: 'UDP_MAX_PENDENTES', flag: 'udp-max-pendentes', default: '200000', help: 'readings waiting for the store past which datagrams are dropped' }, wholeNumber(100, 100_000_000)),
  meterAuthentication: setting({ env: 'AUTENTICACAO_MEDIDORES', flag: 'autenticacao-medidores', default: 'opcional', help: 'opcional (keyed meters sign) or obrigatoria (every reading signed)' }, z.enum(['opcional', 'obrigatoria'], { error: 'must be opcional (only meters with a key sign) or obrigatoria (every reading signed)' })),
  meterKeysFile: setting({ env: 'CHAVES_MEDIDORES', flag: 'chaves-medidores', default: '', shown: 'DATA_DIR/chaves-medidores.txt', help: 'the meter keys file, matricula;<hex key> per line' }, z.string()),
  apiAuthentication: setting({ env: 'AUTENTICACAO_API', flag: 'autenticacao-api', default: 'aberta', help: 'who reads: aberta (anyone, as the original) or obrigatoria (Bearer token); changing state needs a token in both' }, z.enum(['aberta', 'obrigatoria'], { error: 'must be aberta (no token, as the original) or obrigatoria (Bearer token)' })),
  apiSecret: setting({ env: 'API_SEGREDO', flag: 'api-segredo', default: '', shown: 'kept in DATA_DIR/segredo-api', secret: true, help: 'key that signs API tokens, 32 to 64 bytes in hex (secret)' }, z.string().refine((text) => text === '' || SECRET_HEX_PATTERN.test(text), 'must be 32 to 64 bytes in hex (64 to 128 hex digits)')),
  apiTokenLifetimeS: setting({ env: 'API_TOKEN_VALIDADE_S', flag: 'api-token-validade-s', default: '3600', help: 'how long a token is valid, in seconds' }, wholeNumber(60, 31_536_000)),
  webhookUrl: setting({ env: 'WEBHOOK_URL', flag: 'webhook-url', default: '', help: 'http(s) URL every new alert and meter event is POSTed to as signed JSON (none: no webhook)' }, z.string().refine((url) => url === '' || /^https?:\/\/[^\s]+$/.test(url), 'must be an http:// or https:// URL')),
  webhookSecret: setting({ env: 'WEBHOOK_SEGREDO', flag: 'webhook-segredo', default: '', secret: true, help: 'key of the webhook\'s HMAC-SHA256 signature, 16 to 256 characters (secret; required with WEBHOOK_URL)' }, z.string().refine((text) => text === '' || (text.length >= 16 && text.length <= 256), 'must be 16 to 256 characters')),
  reportIntervalH: setting({ env: 'RELATORIOS_INTERVALO_H', flag: 'relatorios-intervalo-h', default: '6', help: 'hours between fleet reports written to DATA_DIR/relatorios (0: none)' }, wholeNumber(0, 8760)),
  reportRetentionDays: setting({ env: 'RELATORIOS_RETENCAO_DIAS', flag: 'relatorios-retencao-dias', default: '30', help: 'days the written fleet reports are kept' }, wholeNumber(1, 36_500)),
  goalCheckIntervalS: setting({ env: 'ALERTAS_META_INTERVALO_S', flag: 'alertas-meta-intervalo-s', default: '3600', help: 'seconds between passes that forecast every customer with a goal and alert when one is on its way past it' }, wholeNumber(10, 86_400)),
  retentionMonths: setting({ env: 'RETENCAO_MESES', flag: 'retencao-meses', default: '0', help: 'months of readings and events kept (PostgreSQL): older monthly partitions are detached and dropped, hourly (0: keep everything)' }, wholeNumber(0, 1200)),
  retentionExportDir: setting({ env: 'RETENCAO_EXPORTAR', flag: 'retencao-exportar', default: '', help: 'directory where each month past RETENCAO_MESES is written whole as CSV before it is dropped (none: dropped without a copy)' }, z.string()),
  processes: setting({ env: 'PROCESSOS', flag: 'processos', default: '1', help: 'worker processes sharing the HTTP and UDP ports (node:cluster), each with its own pool; more than 1 needs STORAGE=postgres' }, wholeNumber(1, 64)),
  forecastIntervalS: setting({ env: 'PREVISOES_INTERVALO_S', flag: 'previsoes-intervalo-s', default: '3600', help: 'seconds between passes that record each cycle\'s mid-cycle forecast and settle the closed ones against what they consumed (/previsao/precisao)' }, wholeNumber(10, 86_400)),
  apiAdminToken: setting({ env: 'API_TOKEN_ADMIN', flag: 'api-token-admin', default: '', shown: 'kept in DATA_DIR/token-operador', secret: true, help: 'the operator\'s Bearer token, 32 to 256 characters (secret; unset: made on first start and kept in DATA_DIR/token-operador)' }, z.string().refine((text) => text === '' || OPERATOR_TOKEN_PATTERN.test(text), 'must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ + / -')),
  strangerEventsPerMinute: setting({ env: 'OCORRENCIAS_SEM_CLIENTE_POR_MINUTO', flag: 'ocorrencias-sem-cliente-por-minuto', default: '600', help: 'new events of meters of no customer stored a minute, server-wide; more wait unacknowledged (0: no limit)' }, wholeNumber(0, 1_000_000)),
  lookupsPerMinute: setting({ env: 'VALIDACAO_CONSULTAS_POR_MINUTO', flag: 'validacao-consultas-por-minuto', default: '600', help: 'lookups without a password (/validacao-usuario) one address may make a minute; past it 429 (0: no limit)' }, wholeNumber(0, 1_000_000)),
  trustedProxies: setting({ env: 'PROXIES_CONFIAVEIS', flag: 'proxies-confiaveis', default: '', help: 'comma-separated addresses or CIDRs of reverse proxies whose Forwarded / X-Forwarded-For names the client (none: every peer is the client)' }, z.string().transform((text, context) => {
      const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
      const bad = entries.find((entry) => !isProxyEntry(entry));
      if (bad !== undefined) {
        context.addIssue({ code: 'custom', message: `each entry must be an IPv4 or IPv6 address or CIDR, like 10.0.0.1 or 10.0.0.0/8 (got ${JSON.stringify(bad)})` });
        return z.NEVER;
      }
      return Object.freeze(entries);
    })),
  corsOrigins: setting({ env: 'CORS_ORIGENS', flag: 'cors-origens', default: '', help: 'comma-separated web origins (scheme://host[:port]) whose pages may call the API from a browser (none: only the dashboard, same origin)' }, z.string().transform((text, context) => {
      const origins = text.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
      const bad = origins.find((origin) => !WEB_ORIGIN_PATTERN.test(origin));
      if (bad !== undefined) {
        context.addIssue({ code: 'custom', message: `each origin must be scheme://host[:port] with no path, like https://painel.exemplo.com.br (got ${JSON.stringify(bad)})` });
        return z.NEVER;
      }
      return Object.freeze(origins.map((origin) => origin.toLowerCase()));
    })),
};

type SettingName = keyof typeof SETTINGS;

/** Every setting with its flag, variable, default and meaning: what `--help` prints (generated, never written twice). */
export function settingsHelp(): string {
  const rows = Object.values(SETTINGS).map((setting) => [`--${setting.flag}`, setting.env, shownDefault(setting), setting.help] as const);
  const widths = ([0, 1, 2] as const).map((column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => `  ${row[0].padEnd(widths[0] as number)}  ${row[1].padEnd(widths[1] as number)}  ${row[2].padEnd(widths[2] as number)}  ${row[3]}`).join('\n');
}

/** A setting's default as people read it: `none` when empty. */
export function shownDefault(setting: SettingSpec): string {
  return setting.shown ?? (setting.default === '' ? 'none' : setting.default);
}

/** Where a command-line entry point writes (process.stdout/stderr when run, strings in tests). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/**
 * Whether the module at `moduleUrl` is the script node was started with
 * (`node path/to/it.js`): compared as real paths, so a checkout under a path
 * with spaces or reached through a symlink still runs its commands.
 */
export function isEntryPoint(moduleUrl: string): boolean {
  const started = process.argv[1];
  if (started === undefined) return false;
  try {
    return realpathSync(started) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}

/** Whether the command line asks for help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** The settings as read: each one's schema output, plus the tariff as configured (for display). */
export type Config = { readonly [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> } & { readonly tariffText: string };

export class ConfigError extends Error {
  readonly setting: string;

  constructor(setting: string, problem: string) {
    // One line, whatever the problem text (parseArgs writes several).
    super(`invalid setting ${setting}: ${problem.replace(/\s*\n\s*/g, ' ')}`);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}


/** `text` with the user information of any URL in it (`scheme://user:password@`) hidden: what may be echoed. */
export function withoutUserinfo(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#\s]*@/g, '$1***@');
}

/** Reads the settings; throws ConfigError on the first bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv.slice(2)): Config {
  const options = Object.fromEntries(Object.values(SETTINGS).map((setting) => [setting.flag, { type: 'string' as const }]));
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (error) {
    throw new ConfigError('command line', (error as Error).message);
  }
  const values: Record<string, unknown> = {};
  /** A setting's text as given: its flag, else its variable, else its default. */
  const given = (setting: SettingSpec): { readonly raw: string; readonly fromFlag: boolean } => {
    const fromFlag = flags[setting.flag];
    return typeof fromFlag === 'string' ? { raw: fromFlag, fromFlag: true } : { raw: env[setting.env] ?? setting.default, fromFlag: false };
  };
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name];
    const { raw, fromFlag } = given(setting);
    const result = setting.schema.safeParse(raw.trim());
    if (!result.success) {
      const label = fromFlag ? `--${setting.flag}` : setting.env;
      // Secrets (keys, tokens, a connection string's password) are never echoed, nor the user:password of any URL.
      const got = setting.secret === true ? '' : ` (got ${JSON.stringify(withoutUserinfo(raw))})`;
      throw new ConfigError(label, `${result.error.issues[0]?.message ?? 'invalid'}${got}`);
    }
    values[name] = result.data;
  }
  if (values.storage === 'postgres' && values.databaseUrl === '') {
    throw new ConfigError('DATABASE_URL', 'required with STORAGE=postgres, e.g. postgres://user:password@localhost:5432/consumo');
  }
  if ((values.retentionMonths as number) > 0 && values.storage === 'arquivos') {
    throw new ConfigError('RETENCAO_MESES', 'needs STORAGE=postgres: the readings log is one file, with no months to drop');
  }
  if (values.retentionExportDir !== '' && values.retentionMonths === 0) throw new ConfigError('RETENCAO_EXPORTAR', 'needs RETENCAO_MESES above 0 (nothing is dropped, so nothing is exported)');
  if (values.retentionExportDir !== '') values.retentionExportDir = resolve(values.retentionExportDir as string);
  if ((values.processes as number) > 1 && values.storage === 'arquivos') {
    throw new ConfigError('PROCESSOS', 'more than 1 needs STORAGE=postgres: the flat files in DATA_DIR are owned by one process');
  }
  if (values.automaticBilling === true && values.distributor === '') {
    throw new ConfigError('FATURAMENTO_AUTOMATICO', 'sim needs DISTRIBUIDORA (whose tariffs bill the customers)');
  }
  if (values.webhookUrl !== '' && values.webhookSecret === '') throw new ConfigError('WEBHOOK_SEGREDO', 'required with WEBHOOK_URL (the key that signs each delivery)');
  if (values.meterKeysFile === '') values.meterKeysFile = join(values.dataDir as string, METER_KEYS_FILE);
  else values.meterKeysFile = resolve(values.meterKeysFile as string);
  // The tariff as the operator wrote it, for display (its schema turns it into a Tariff).
  return Object.freeze({ ...(values as Omit<Config, 'tariffText'>), tariffText: given(SETTINGS.tariff).raw.trim() });
}
