/** Simulated meters as real processes, for tests: started, watched through their IPC reports, stopped. */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import type { MeterReport } from '../../cli/meter.js';
import type { RunnerStats } from '../../meter/meter-runner.js';
import { PLAIN_NODE } from '../helpers.js';

export const METER = fileURLToPath(new URL('../../cli/meter.js', import.meta.url));

export interface MeterProcess {
  readonly child: ChildProcess;
  latest(): RunnerStats | undefined;
  /** Resolves once a report satisfies `predicate` (rejects after `timeoutMs`). */
  until(predicate: (stats: RunnerStats) => boolean, timeoutMs?: number): Promise<RunnerStats>;
  /** SIGTERM; resolves with the exit code and the final report. */
  stop(): Promise<{ code: number | null; final: RunnerStats | undefined }>;
}

export function startMeter(t: Test, args: string[]): MeterProcess {
  const child = fork(METER, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], ...PLAIN_NODE });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let latest: RunnerStats | undefined;
  let final: RunnerStats | undefined;
  const waiters = new Set<() => void>();
  child.on('message', (message: MeterReport) => {
    latest = message.stats;
    if (message.final) final = message.stats;
    for (const waiter of waiters) waiter();
  });
  return {
    child,
    latest: () => latest,
    until(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`meter never reported the expected state; last ${JSON.stringify(latest)}`)), timeoutMs);
        const check = (): void => {
          if (latest !== undefined && predicate(latest)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(latest);
          }
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      return { code: code as number | null, final };
    },
  };
}


export interface Relay {
  /** The port meters send to. */
  readonly port: number;
  /** Every datagram the server sent towards the meter, as text (what an eavesdropper captures). */
  readonly toMeter: string[];
  /** Sends a datagram to the meter as if from the server (the relay is the meter's peer). */
  inject(datagram: string): void;
}

/**
 * A UDP relay between meters and server of the test's own: drops what
 * `drop()` says and sends twice what `duplicate()` says, both ways.
 */
export async function relay(t: Test, serverPort: number | (() => number), drop: () => boolean, duplicate: () => boolean = () => false): Promise<Relay> {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  await Promise.all([new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r())), new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()))]);
  let meterAddress: RemoteInfo | undefined;
  const toMeter: string[] = [];
  const forward = (send: () => void): void => {
    if (drop()) return;
    send();
    if (duplicate()) send();
  };
  front.on('message', (message, from) => {
    meterAddress = from;
    forward(() => back.send(message, typeof serverPort === 'number' ? serverPort : serverPort(), '127.0.0.1'));
  });
  back.on('message', (message) => {
    toMeter.push(message.toString('latin1'));
    const to = meterAddress;
    if (to !== undefined) forward(() => front.send(message, to.port, to.address));
  });
  t.teardown(() => {
    front.close();
    back.close();
  });
  return {
    port: front.address().port,
    toMeter,
    inject(datagram) {
      if (meterAddress !== undefined) front.send(datagram, meterAddress.port, meterAddress.address);
    },
  };
}

/** A relay that only drops. */
export async function lossyRelay(t: Test, serverPort: number, drop: () => boolean): Promise<number> {
  return (await relay(t, serverPort, drop)).port;
}
