/**
 * `npm start`: reads the configuration, starts the server (or, with
 * PROCESSOS > 1, a primary that runs that many server processes), and
 * stops it gracefully on SIGINT/SIGTERM.
 */
import cluster from 'node:cluster';
import { pino } from 'pino';
import { runPrimary, workerNumber } from './cluster.js';
import { StoreError } from '../database/store.js';
import { ConfigError, isEntryPoint, loadConfig, settingsHelp, wantsHelp, type CliIo, type Config } from './config.js';

const HELP = [
  'usage: npm start [-- --setting value ...]',
  "Starts the server: the REST API over HTTP and the meters' UDP channel. Every setting is an",
  'environment variable or a flag of the same meaning (the flag wins):',
  '',
];

/**
 * Runs the server with argv (its flags) and env until SIGINT or SIGTERM has
 * stopped it gracefully; resolves the exit code. A setting, the storage or
 * the ports that cannot be used: one line on `io.err`, and 1.
 */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.out([...HELP, settingsHelp(), ''].join('\n'));
    return 0;
  }
  const fatal = (line: string): number => {
    io.err(`consumo-inteligente: ${line}\n`);
    return 1;
  };
  let config: Config;
  try {
    config = loadConfig(env, argv);
  } catch (error) {
    if (error instanceof ConfigError) return fatal(error.message);
    throw error;
  }

  const processo = workerNumber();
  const logger = pino({ level: config.logLevel, base: processo === undefined ? { pid: process.pid } : { pid: process.pid, processo } });
  if (config.processes > 1 && cluster.isPrimary) return runPrimary(config.processes, logger);

  let server;
  try {
    // Loaded once the settings are good: --help and a bad setting answer without loading the whole server.
    const { startServer } = await import('./app.js');
    server = await startServer(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) return fatal(error.message);
    if (error instanceof StoreError) return fatal(`cannot open the storage (${config.storage === 'postgres' ? 'PostgreSQL' : `DATA_DIR ${config.dataDir}`}): ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') return fatal(`cannot listen: ${(error as Error).message}`);
    if (code !== undefined) return fatal(`cannot start: ${(error as Error).message}`);
    throw error;
  }
  const stats = await server.stores.store.stats();
  logger.info(
    {
      http: `${server.http.address}:${server.http.port}`,
      udp: `${server.udp.address}:${server.udp.port}`,
      udpReceiveBufferBytes: server.udp.receiveBufferBytes,
      ...server.stores.description,
      tarifa: config.tariffText,
      tzLegado: config.legacyTimeZone,
      autenticacaoMedidores: config.meterAuthentication,
      chavesMedidores: server.meterKeys,
      autenticacaoApi: config.apiAuthentication,
      ...stats,
    },
    'consumo-inteligente started',
  );
  if (server.auth.createdOperatorTokenFile !== undefined) io.err(operatorTokenHowTo(server.auth.createdOperatorTokenFile, server.http.port));
  const running = server;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping: finishing requests and storing pending readings');
      running.close().then(
        () => {
          logger.info({ ingest: running.readings.ingest.counters }, 'stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // Started by an npm script (npm start, npm run demo): stopping npm by its PID leaves this process to init; it stops too.
    if (env.npm_lifecycle_event !== undefined) {
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (process.ppid === parent) return;
        clearInterval(watch);
        stop('npm');
      }, PARENT_CHECK_MS);
      watch.unref();
    }
  });
}

/** How often a server started by npm checks that npm (its parent) is still there. */
const PARENT_CHECK_MS = 500;

/**
 * Said once, when a start made the operator's token (API_TOKEN_ADMIN unset):
 * where it is and how to use it. The token itself is never printed.
 */
export function operatorTokenHowTo(file: string, httpPort: number): string {
  return [
    '',
    `Token de operador criado em ${file} (só o dono do arquivo o lê).`,
    'Ele é a credencial para tudo o que muda dados (comandos, clientes, faturamento). Para usá-lo:',
    `  painel: http://127.0.0.1:${httpPort}/ → Entrar → Operador → cole o conteúdo do arquivo`,
    `  curl:   curl -H "Authorization: Bearer $(cat '${file}')" http://127.0.0.1:${httpPort}/sessao`,
    'Para usar outro, defina API_TOKEN_ADMIN.',
    '',
  ].join('\n');
}

if (isEntryPoint(import.meta.url)) {
  process.exit(await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }));
}
