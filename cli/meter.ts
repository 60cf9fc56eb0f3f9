/**
 * `npm run meter -- --matricula 13456789`: one simulated meter (or, with
 * `--matriculas a,b,c`, several in this one process). Under the fleet
 * launcher it reports its counters over IPC and exits when the launcher goes.
 */
import { pino } from 'pino';
import { MeterRunner, type RunnerStats } from '../meter/meter-runner.js';
import { meterOptionsHelp, OptionError, parseMeterCommandLine, wantsHelp, type MeterOptions } from '../meter/options.js';
import { isEntryPoint, type CliIo } from '../server/config.js';

/** How often counters are reported to the launcher. */
const REPORT_INTERVAL_MS = 1000;

/** What a meter process tells the launcher over IPC. */
export interface MeterReport {
  readonly type: 'report';
  readonly final: boolean;
  readonly stats: RunnerStats;
}

/**
 * Runs the meter(s) argv and env describe until SIGINT, SIGTERM or (under
 * the launcher) the launcher's going; resolves the exit code. A bad option:
 * one line on `io.err`, and 1.
 */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(`usage: npm run meter -- [options]\nOne simulated meter (or several with --matriculas) sending readings over UDP. Each option is also a variable:\n\n${meterOptionsHelp()}\n`);
    return 0;
  }
  let options: MeterOptions;
  try {
    options = parseMeterCommandLine(argv, env);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    io.err(`medidor: ${error.message}\n`);
    return 1;
  }

  const logger = pino({ level: options.logLevel, base: { pid: process.pid } });
  const runner = new MeterRunner(options, logger);
  await runner.start();
  logger.info(
    {
      matriculas: options.matriculas.length <= 10 ? options.matriculas : `${options.matriculas.length} meters from ${options.matriculas[0]}`,
      servers: options.servers.map((server) => `${server.host}:${server.port}`),
      incrementIntervalS: options.incrementIntervalMs / 1000,
      sendIntervalS: options.sendIntervalMs / 1000,
      seed: options.seed,
      ...(options.peak === undefined ? {} : { peakFactor: Number(options.peak.factorThousandths) / 1000, peakAfterS: options.peak.afterMs / 1000 }),
    },
    'meter started',
  );

  const report = (final: boolean, stats: RunnerStats): Promise<void> =>
    new Promise((resolve) => {
      if (process.send === undefined || !process.connected) return resolve();
      process.send({ type: 'report', final, stats } satisfies MeterReport, undefined, {}, () => resolve());
    });
  return new Promise<number>((resolve) => {
    /** The launcher's PID, when run under one: a meter is reparented when it dies. */
    const launcherPid = process.send === undefined ? undefined : process.ppid;
    const reporter = setInterval(() => {
      // Besides 'disconnect', check each second: under load a meter was seen running on, minutes
      // after its launcher's kill -9, without the event. Reparenting is certain.
      if (launcherPid !== undefined && (!process.connected || process.ppid !== launcherPid)) void stop('launcher gone');
      else void report(false, runner.stats());
    }, REPORT_INTERVAL_MS);

    let stopping = false;
    async function stop(reason: string): Promise<void> {
      if (stopping) return;
      stopping = true;
      clearInterval(reporter);
      const stats = await runner.stop();
      logger.info({ reason, ...stats }, 'meter stopped');
      await report(true, stats);
      resolve(0);
    }
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    // The launcher went away (even by kill -9): never outlive it (the reporter above checks too).
    process.on('disconnect', () => void stop('launcher gone'));
  });
}

if (isEntryPoint(import.meta.url)) {
  process.exit(await run(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }));
}
