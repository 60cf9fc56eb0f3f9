/**
 * `npm run demo`: the server, four meters of the example customers and a
 * fifth whose consumption jumps after 20 s, all with short intervals; every
 * 3 s it asks the four routes about each meter and prints the answers.
 * Ctrl-C stops everything. Data goes to ./data-demo (DATA_DIR overrides).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCustomerFile } from '../protocol/customer-format.js';
import {
  DEMO_INCREMENT_INTERVAL_S,
  DEMO_MIN_INCREMENT_UNITS,
  DEMO_PEAK_AFTER_S,
  DEMO_PEAK_FACTOR,
  DEMO_PEAK_SEND_INTERVAL_S,
  DEMO_SEND_INTERVAL_S,
} from '../meter/demo-fleet.js';
import { isEntryPoint, type CliIo } from '../server/config.js';

const file = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const SERVER = file('../server/main.js');
const LAUNCHER = file('./launcher.js');
const METER = file('./meter.js');
const CUSTOMERS = file('../../resources/clientes-exemplo.txt');
const PEAK_AFTER_S = DEMO_PEAK_AFTER_S;
/** How long the server may take to start answering. */
const SERVER_START_TIMEOUT_MS = 30_000;
const PEAK_FACTOR = DEMO_PEAK_FACTOR;
const QUERY_EVERY_MS = 3000;
/** The demo's tariff, R$ per kWh (a realistic residential figure, taxes included). */
const DEMO_TARIFF = '0.85';
const PEAK_SEND_INTERVAL_S = DEMO_PEAK_SEND_INTERVAL_S;
/** The alert compares the newest period with the mean of the three before it. */
const PERIODS_UNTIL_NEW_MEAN = 4;

/**
 * Runs the demo until SIGINT or SIGTERM (or one of its processes ends):
 * the server, four steady meters and one whose consumption jumps, and the
 * four routes' answers every few seconds. Resolves the exit code.
 */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(
      [
        'usage: npm run demo',
        'Starts the server (data in ./data-demo, or DATA_DIR; the five example customers), four steady simulated meters and a',
        `fifth whose consumption jumps ${PEAK_FACTOR}x ${PEAK_AFTER_S} s after start; every ${QUERY_EVERY_MS / 1000} s it prints the four routes' answers for each meter.`,
        'Run it again on the same directory and the meters continue from the registers the server holds (GET /medicoes/ultima-medicao).',
        `Ctrl-C stops everything. Variables: DATA_DIR, HTTP_PORT (50000), UDP_PORT (60000).`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  if (argv.length > 0) {
    io.err(`demo: unknown argument ${argv[0]} (--help shows the usage)\n`);
    return 1;
  }
  return runDemo(env);
}

async function runDemo(env: NodeJS.ProcessEnv): Promise<number> {
  const HTTP_PORT = env.HTTP_PORT ?? '50000';
  const UDP_PORT = env.UDP_PORT ?? '60000';
  /**
   * Steady meters: an increment every 0.2 s of 15 to 20 kWh (time runs fast), a
   * reading every 2 s, so a period holds about 10 increments and varies by a few
   * percent: ordinary noise never reaches the 1.5x rule, only the spike does.
   */
  const STEADY = [
    '--porta', UDP_PORT,
    '--intervalo-incremento', String(DEMO_INCREMENT_INTERVAL_S),
    '--incremento-minimo', String(DEMO_MIN_INCREMENT_UNITS),
    '--intervalo-envio', String(DEMO_SEND_INTERVAL_S),
  ];
  let done: (code: number) => void = () => undefined;
  const ended = new Promise<number>((resolve) => (done = resolve));
  let stopping = false;
  let server: ChildProcess | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const customers = parseCustomerFile(readFileSync(CUSTOMERS, 'utf8')).customers;
  const peakCustomer = customers[customers.length - 1];
  if (peakCustomer === undefined) throw new Error(`no customers in ${CUSTOMERS}`);
  const children: ChildProcess[] = [];
  const started = Date.now();

  function start(path: string, args: string[], extra: Record<string, string> = {}): ChildProcess {
    const child = fork(path, args, { env: { ...process.env, ...extra }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.on('exit', (code) => {
      if (!stopping) {
        process.stderr.write(`demo: ${path} exited (${code}); stopping\n`);
        stop();
      }
    });
    return child;
  }

  server = start(SERVER, [], { DATA_DIR: env.DATA_DIR ?? './data-demo', HTTP_PORT, UDP_PORT, CLIENTES_EXEMPLO: 'sim', TARIFA: DEMO_TARIFF, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' });
  // The meters ask the server for their registers as they start: it must be answering first.
  for (const deadline = Date.now() + SERVER_START_TIMEOUT_MS; ; ) {
    if (server.exitCode !== null) return 1;
    const up = await fetch(`http://127.0.0.1:${HTTP_PORT}/saude`).then(() => true, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      process.stderr.write(`demo: the server did not answer on port ${HTTP_PORT} within ${SERVER_START_TIMEOUT_MS / 1000} s\n`);
      server.kill('SIGTERM');
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const HTTP_ARGS = ['--porta-http', HTTP_PORT];
  start(LAUNCHER, ['--clientes', CUSTOMERS, '--quantidade', String(customers.length - 1), ...STEADY, ...HTTP_ARGS]);
  start(METER, ['--matricula', peakCustomer.matricula, ...HTTP_ARGS, '--pico', PEAK_FACTOR, '--pico-apos', String(PEAK_AFTER_S), '--log-level', 'warn', ...STEADY, '--intervalo-envio', String(PEAK_SEND_INTERVAL_S)]);

  process.stdout.write(
    [
      `demo: server on http://127.0.0.1:${HTTP_PORT} (dashboard; UDP ${UDP_PORT}), ${customers.length} meters, tariff R$ ${DEMO_TARIFF.replace('.', ',')}/kWh. Ctrl-C stops everything.`,
      `      ${peakCustomer.username} (${peakCustomer.matricula}) will consume ${PEAK_FACTOR}x from ${PEAK_AFTER_S} s on: its alert turns ALERT, and returns to normal`,
      `      about ${PERIODS_UNTIL_NEW_MEAN * PEAK_SEND_INTERVAL_S} s later, once the higher consumption is the mean the rule compares with.`,
      `      try: curl -s localhost:${HTTP_PORT}/alerta-consumo -d '{"matricula": "${peakCustomer.matricula}"}'`,
      '',
    ].join('\n'),
  );

  /** A register or a consumption as a person reads it: `1.234,5 kWh`. */
  const kwh = (value: unknown): string => (typeof value === 'number' ? `${value.toLocaleString('pt-BR', { maximumFractionDigits: 3 })} kWh` : '-');
  const reais = (value: unknown): string => (typeof value === 'number' ? `R$ ${value.toLocaleString('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}` : '-');
  const errorCode = (body: Record<string, unknown>): string => String((body.erro as { codigo?: string } | undefined)?.codigo ?? '-');

  async function ask(route: string, matricula: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`http://127.0.0.1:${HTTP_PORT}${route}`, { method: 'POST', body: JSON.stringify({ matricula }) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  ticker = setInterval(() => {
    void (async () => {
      const lines = [`--- ${Math.round((Date.now() - started) / 1000)} s ---`];
      for (const customer of customers) {
        try {
          const [valid, latest, invoice, alert] = await Promise.all(
            ['/validacao-usuario', '/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo'].map((route) => ask(route, customer.matricula)),
          );
          if (valid === undefined || latest === undefined || invoice === undefined || alert === undefined) continue;
          const alertText =
            alert.status === 200
              ? `${alert.body.alerta === true ? 'ALERT ' : 'normal'} (last period ${kwh(alert.body.consumo_ultimo_periodo)}, mean of the 3 before ${kwh(alert.body.media_periodos_anteriores)})`
              : `alert: ${errorCode(alert.body)} (waiting for 5 readings)`;
          const bill = invoice.status === 200 ? `last period's bill ${reais(invoice.body.valor_pagamento)} (${kwh(invoice.body.consumo)})` : `bill: ${errorCode(invoice.body)}`;
          lines.push(
            `${customer.username.padEnd(12)} ${customer.matricula}  ${valid.status === 200 ? 'customer' : 'unknown '}  ` +
              `register ${kwh(latest.body.consumo).padStart(14)}  ${bill}  ${alertText}`,
          );
        } catch (error) {
          lines.push(`${customer.matricula}: ${(error as Error).message}`);
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    })();
  }, QUERY_EVERY_MS);

  /** Stops the meters first, then the server once they are gone: their last sends (and a meter still starting, asking for its register) find it up. */
  function stop(): void {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;
    const exited = (child: ChildProcess): Promise<void> => (running(child) ? new Promise((resolve) => child.once('exit', () => resolve())) : Promise.resolve());
    const meters = children.filter((child) => child !== server && running(child));
    for (const meter of meters) meter.kill('SIGTERM');
    void Promise.all(meters.map(exited)).then(async () => {
      if (server !== undefined && running(server)) server.kill('SIGTERM');
      if (server !== undefined) await exited(server);
      done(0);
    });
  }
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('exit', () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  return ended;
}

if (isEntryPoint(import.meta.url)) {
  process.exit(await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }));
}
