/**
 * `npm start`: reads the configuration, starts the server (or, with
 * PROCESSOS > 1, a primary that runs that many server processes), and
 * stops it gracefully on SIGINT/SIGTERM.
 */
import cluster from 'node:cluster';
import { pino } from 'pino';
import { runPrimary, workerNumber } from './cluster.js';
import { StoreError } from '../database/store.js';
import { ConfigError, loadConfig, settingsHelp, wantsHelp, type Config } from './config.js';
import { startServer } from './app.js';

function fatal(line: string): never {
  process.stderr.write(`consumo-inteligente: ${line}\n`);
  process.exit(1);
}

if (wantsHelp(process.argv.slice(2))) {
  process.stdout.write(
    [
      'usage: npm start [-- --setting value ...]',
      'Starts the server: the REST API over HTTP and the meters\' UDP channel. Every setting is an',
      'environment variable or a flag of the same meaning (the flag wins):',
      '',
      settingsHelp(),
      '',
    ].join('\n'),
  );
  process.exit(0);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fatal(error.message);
  throw error;
}

const processo = workerNumber();
const logger = pino({ level: config.logLevel, base: processo === undefined ? { pid: process.pid } : { pid: process.pid, processo } });

if (config.processes > 1 && cluster.isPrimary) process.exit(await runPrimary(config.processes, logger));

try {
  const server = await startServer(config, logger);
  const stats = await server.store.stats();
  logger.info(
    {
      http: `${server.http.address}:${server.http.port}`,
      udp: `${server.udp.address}:${server.udp.port}`,
      udpReceiveBufferBytes: server.udp.receiveBufferBytes,
      ...server.storage,
      tarifa: config.tariffText,
      tzLegado: config.legacyTimeZone,
      autenticacaoMedidores: config.meterAuthentication,
      chavesMedidores: server.meterKeys,
      autenticacaoApi: config.apiAuthentication,
      ...stats,
    },
    'consumo-inteligente started',
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing requests and storing pending readings');
    server.close().then(
      () => {
        logger.info({ ingest: server.ingest.counters }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  if (error instanceof ConfigError) fatal(error.message);
  if (error instanceof StoreError) fatal(`cannot open the storage (${config.storage === 'postgres' ? 'PostgreSQL' : `DATA_DIR ${config.dataDir}`}): ${error.message}`);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') fatal(`cannot listen: ${(error as Error).message}`);
  if (code !== undefined) fatal(`cannot start: ${(error as Error).message}`);
  throw error;
}
