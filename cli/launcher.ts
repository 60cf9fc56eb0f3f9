/**
 * `npm run meters -- --quantidade 200 [--por-processo K] [meter options]`:
 * a fleet of simulated meters, each group of K in its own child process.
 * Shows a live one-line summary, restarts nothing silently, stops every
 * child on Ctrl-C, and leaves no orphan behind (children exit when the
 * launcher's IPC channel closes, even after a kill -9).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseCustomerFile } from '../protocol/customer-format.js';
import { isMatricula } from '../protocol/meter-protocol.js';
import type { MeterReport } from './meter.js';
import type { RunnerStats } from '../meter/meter-runner.js';
import { consecutiveMatriculas, randomMatriculas } from '../meter/fleet.js';
import { isEntryPoint, type CliIo } from '../server/config.js';
import { meterOptionsHelp, meterArgOptions, METER_OPTION_NAMES, OptionError, resolveMeterOptions, type MeterOptionName } from '../meter/options.js';

const METER_CLI = fileURLToPath(new URL('./meter.js', import.meta.url));
const MAX_METERS = 1_000_000;
const STATUS_INTERVAL_MS = 1000;
/** Without a terminal, the summary is printed as a new line this often. */
const PLAIN_STATUS_INTERVAL_MS = 10_000;
/** Children still running this long after SIGTERM are killed. */
const STOP_GRACE_MS = 5000;
const USAGE =
  'usage: npm run meters -- --quantidade N [--por-processo K] [--matricula-inicial M | --clientes clientes.txt] [meter options: --host --porta | --servidores host:porta,host:porta --inicial --intervalo-incremento --incremento-minimo --intervalo-envio --semente --pico --pico-apos --max-pendentes --log-level]';

interface Child {
  readonly process: ChildProcess;
  stats: RunnerStats | undefined;
  exited: boolean;
}

/**
 * Runs the fleet argv and env describe until every meter process has ended
 * (SIGINT or SIGTERM stop them all); resolves the exit code: 0 when stopped,
 * 1 when the processes ended by themselves or an option is bad (one line on
 * `io.err`).
 */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const fail = (message: string): number => {
    io.err(`meters: ${message} (--help shows the usage)\n`);
    return 1;
  };
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        ...meterArgOptions(),
        quantidade: { type: 'string' },
        'por-processo': { type: 'string' },
        'matricula-inicial': { type: 'string' },
        clientes: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    return fail(new OptionError('command line', (error as Error).message).message);
  }

  if (values.help !== undefined) {
    io.out(
      `${USAGE}\n\n  --quantidade N            meters to run (required)\n  --por-processo K          meters per process (default 1: one process each)\n  --matricula-inicial M     first matricula (consecutive after it, keeping its width)\n  --clientes FILE           run the meters of a customers file (username;matricula) instead\n\nmeter options (as for npm run meter):\n${meterOptionsHelp()}\n`,
    );
    return 0;
  }

  const meterFlags: Partial<Record<MeterOptionName, string>> = {};
  for (const name of METER_OPTION_NAMES) if (values[name] !== undefined) meterFlags[name] = values[name];
  if (meterFlags.matricula !== undefined || meterFlags.matriculas !== undefined) return fail('the launcher assigns matriculas: use --matricula-inicial or --clientes');
  // The fleet shares one seed (each meter derives its own from it), so a run can be repeated.
  meterFlags.semente ??= env.MEDIDOR_SEMENTE ?? String(Math.floor(Math.random() * 0xffffffff));
  meterFlags['log-level'] ??= env.MEDIDOR_LOG_LEVEL ?? 'warn';

  let matriculas: string[];
  let perProcess: number;
  try {
    const meterOptions = resolveMeterOptions(meterFlags, env);
    const count = values.quantidade === undefined ? undefined : Number(values.quantidade);
    if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > MAX_METERS)) throw new OptionError('--quantidade', `must be a whole number from 1 to ${MAX_METERS}`);
    perProcess = values['por-processo'] === undefined ? 1 : Number(values['por-processo']);
    if (!Number.isInteger(perProcess) || perProcess < 1) throw new OptionError('--por-processo', 'must be a whole number of at least 1');
    if (values['matricula-inicial'] !== undefined && values.clientes !== undefined) throw new OptionError('--clientes', 'give --matricula-inicial or --clientes, not both');
    if (values.clientes !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.clientes, 'utf8');
      } catch (error) {
        throw new OptionError('--clientes', (error as Error).message);
      }
      const all = parseCustomerFile(text).customers.map((customer) => customer.matricula);
      if (all.length === 0) throw new OptionError('--clientes', `no customer lines (username;matricula) in ${values.clientes}`);
      if (count !== undefined && count > all.length) throw new OptionError('--quantidade', `${values.clientes} has only ${all.length} customers`);
      matriculas = all.slice(0, count ?? all.length);
    } else {
      if (count === undefined) throw new OptionError('--quantidade', 'how many meters? e.g. --quantidade 200');
      const start = values['matricula-inicial'];
      if (start !== undefined && !isMatricula(start)) throw new OptionError('--matricula-inicial', 'must be 1 to 20 digits');
      matriculas = start === undefined ? randomMatriculas(count) : consecutiveMatriculas(start, count);
    }
    io.out(
      `meters: ${matriculas.length} meters in ${Math.ceil(matriculas.length / perProcess)} processes -> ${meterOptions.servers.map((server) => `${server.host}:${server.port}`).join(', then ')}, ` +
        `an increment every ${meterOptions.incrementIntervalMs / 1000} s, a reading sent every ${meterOptions.sendIntervalMs / 1000} s, seed ${meterOptions.seed}\n`,
    );
  } catch (error) {
    if (error instanceof OptionError) return fail(error.message);
    throw error;
  }
  return runFleet(matriculas, perProcess, Object.entries(meterFlags).flatMap(([name, value]) => [`--${name}`, value as string]));
}

/** Forks the meter processes (`perProcess` meters each), shows the summary, and resolves the exit code once all have ended. */
function runFleet(matriculas: readonly string[], perProcess: number, forwarded: readonly string[]): Promise<number> {
  let done: (code: number) => void = () => undefined;
  const ended = new Promise<number>((resolve) => (done = resolve));
  const children: Child[] = [];
  const interactive = process.stdout.isTTY === true;
  let statusShown = false;

  /** Prints a line above the live summary. */
  function printLine(stream: NodeJS.WriteStream, line: string): void {
    if (statusShown) process.stdout.write('\r\x1b[K');
    statusShown = false;
    stream.write(`${line}\n`);
  }

  function summary(): string {
    const totals = { meters: 0, produced: 0, sent: 0, acknowledged: 0, pending: 0, dropped: 0, failovers: 0 };
    for (const child of children) {
      if (child.stats === undefined) continue;
      totals.meters += child.stats.meters;
      totals.produced += child.stats.produced;
      totals.sent += child.stats.sent;
      totals.acknowledged += child.stats.acknowledged;
      totals.pending += child.stats.pending;
      totals.dropped += child.stats.dropped;
      totals.failovers += child.stats.failovers;
    }
    const alive = children.filter((child) => !child.exited).length;
    return (
      `processes alive ${alive}/${children.length} | meters reporting ${totals.meters}/${matriculas.length} | ` +
      `readings: produced ${totals.produced}, sent ${totals.sent}, acknowledged ${totals.acknowledged}, pending ${totals.pending}, dropped ${totals.dropped}${totals.failovers > 0 ? ` | failovers ${totals.failovers}` : ''}`
    );
  }

  let stopping = false;
  for (let i = 0; i < matriculas.length; i += perProcess) {
    const group = matriculas.slice(i, i + perProcess);
    const childProcess = fork(METER_CLI, [...forwarded, '--matriculas', group.join(',')], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const child: Child = { process: childProcess, stats: undefined, exited: false };
    children.push(child);
    childProcess.on('message', (message: MeterReport) => {
      if (message.type === 'report') child.stats = message.stats;
    });
    for (const [stream, target] of [
      [childProcess.stdout, process.stdout],
      [childProcess.stderr, process.stderr],
    ] as const) {
      if (stream !== null) createInterface({ input: stream }).on('line', (line) => printLine(target, line));
    }
    childProcess.on('exit', (code, signal) => {
      child.exited = true;
      if (!stopping) {
        const who = group.length === 1 ? `matricula ${group[0]}` : `${group.length} medidores a partir de ${group[0]}`;
        printLine(process.stderr, `meters: process ${childProcess.pid} (${who}) ended (${signal ?? `exit code ${code}`}); not restarted`);
      }
      if (children.every((c) => c.exited)) finish(stopping ? 0 : 1);
    });
  }

  const ticker = setInterval(() => {
    if (interactive) {
      process.stdout.write(`\r\x1b[K${summary()}`);
      statusShown = true;
    }
  }, STATUS_INTERVAL_MS);
  const plainTicker = interactive ? undefined : setInterval(() => printLine(process.stdout, summary()), PLAIN_STATUS_INTERVAL_MS);

  function finish(code: number): void {
    clearInterval(ticker);
    if (plainTicker !== undefined) clearInterval(plainTicker);
    printLine(process.stdout, `meters: done | ${summary()}`);
    done(code);
  }

  function stopAll(): void {
    if (stopping) return;
    stopping = true;
    for (const child of children) if (!child.exited) child.process.kill('SIGTERM');
    setTimeout(() => {
      for (const child of children) if (!child.exited) child.process.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  }
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  process.on('exit', () => {
    for (const child of children) if (!child.exited) child.process.kill('SIGKILL');
  });
  return ended;
}

if (isEntryPoint(import.meta.url)) {
  process.exit(await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }));
}
