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

const file = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const SERVER = file('../server/main.js');
const LAUNCHER = file('./launcher.js');
const METER = file('./meter-cli.js');
const CUSTOMERS = file('../../resources/clientes-exemplo.txt');
const HTTP_PORT = process.env.HTTP_PORT ?? '50000';
const UDP_PORT = process.env.UDP_PORT ?? '60000';
const PEAK_AFTER_S = 20;
const QUERY_EVERY_MS = 3000;
/** The peak meter reports less often, so its alert stays visible for a whole period. */
const PEAK_SEND_INTERVAL_S = '5';
const FAST = ['--porta', UDP_PORT, '--intervalo-incremento', '0.2', '--intervalo-envio', '1'];

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    [
      'usage: npm run demo',
      'Starts the server (data in ./data-demo, or DATA_DIR), four simulated meters of the example customers and a',
      `fifth whose consumption jumps ${PEAK_AFTER_S} s after start; every ${QUERY_EVERY_MS / 1000} s it prints the four routes' answers for each meter.`,
      'Ctrl-C stops everything. Variables: DATA_DIR, HTTP_PORT (50000), UDP_PORT (60000).',
      '',
    ].join('\n'),
  );
  process.exit(0);
}
if (process.argv.length > 2) {
  process.stderr.write(`demo: unknown argument ${process.argv[2]} (--help shows the usage)\n`);
  process.exit(1);
}

const customers = parseCustomerFile(readFileSync(CUSTOMERS, 'utf8')).customers;
const peakCustomer = customers[customers.length - 1];
if (peakCustomer === undefined) throw new Error(`no customers in ${CUSTOMERS}`);
const children: ChildProcess[] = [];
const started = Date.now();

function start(path: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = fork(path, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  child.on('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`demo: ${path} exited (${code}); stopping\n`);
      stop();
    }
  });
  return child;
}

const server = start(SERVER, [], { DATA_DIR: process.env.DATA_DIR ?? './data-demo', HTTP_PORT, UDP_PORT, CLIENTES_EXEMPLO: 'sim', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
await new Promise((resolve) => setTimeout(resolve, 1000));
if (server.exitCode !== null) process.exit(1);
start(LAUNCHER, ['--clientes', CUSTOMERS, '--quantidade', String(customers.length - 1), ...FAST]);
start(METER, ['--matricula', peakCustomer.matricula, '--pico', '4', '--pico-apos', String(PEAK_AFTER_S), '--log-level', 'warn', ...FAST, '--intervalo-envio', PEAK_SEND_INTERVAL_S]);

process.stdout.write(
  `demo: server on http://127.0.0.1:${HTTP_PORT} (UDP ${UDP_PORT}), ${customers.length} meters; ` +
    `${peakCustomer.username} (${peakCustomer.matricula}) consumes 4x after ${PEAK_AFTER_S} s. Ctrl-C to stop.\n` +
    `      try: curl -s localhost:${HTTP_PORT}/alerta-consumo -d '{"matricula": "${peakCustomer.matricula}"}'\n`,
);

async function ask(route: string, matricula: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${HTTP_PORT}${route}`, { method: 'POST', body: JSON.stringify({ matricula }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const ticker = setInterval(() => {
  void (async () => {
    const lines = [`--- ${Math.round((Date.now() - started) / 1000)} s ---`];
    for (const customer of customers) {
      try {
        const [valid, latest, invoice, alert] = await Promise.all(
          ['/validacao-usuario', '/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo'].map((route) => ask(route, customer.matricula)),
        );
        const alertText =
          alert?.status === 200
            ? `${alert.body.alerta === true ? 'ALERTA' : 'normal'} (último ${alert.body.consumo_ultimo_periodo}, média ${alert.body.media_periodos_anteriores})`
            : String((alert?.body.erro as { codigo?: string } | undefined)?.codigo);
        lines.push(
          `${customer.username.padEnd(12)} ${customer.matricula}  válido=${valid?.status === 200}  ` +
            `leitura=${latest?.body.consumo ?? '-'}  fatura=${invoice?.body.valor_pagamento ?? (invoice?.body.erro as { codigo?: string } | undefined)?.codigo}  ${alertText}`,
        );
      } catch (error) {
        lines.push(`${customer.matricula}: ${(error as Error).message}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  })();
}, QUERY_EVERY_MS);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  let remaining = children.filter((child) => child.exitCode === null).length;
  if (remaining === 0) process.exit(0);
  for (const child of children) {
    child.once('exit', () => {
      remaining--;
      if (remaining === 0) process.exit(0);
    });
  }
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
