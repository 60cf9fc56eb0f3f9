/**
 * Runs simulated meters on one UDP socket: ticks their registers, sends
 * their unacknowledged readings every send interval, and applies the ACKs
 * that come back (routed by matricula). One process may run one meter or
 * thousands.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { parseServerDatagram } from '../protocol/meter-protocol.js';
import type { MeterOptions } from './options.js';
import { meterSeed, SimulatedMeter } from './simulated-meter.js';

/** On stop, how long to wait for the ACK of the last send. */
export const FINAL_ACK_WAIT_MS = 1500;
/** Dropped-reading warnings are logged at most this often. */
const DROP_LOG_INTERVAL_MS = 10_000;

export interface RunnerStats {
  readonly meters: number;
  readonly produced: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly pending: number;
  readonly dropped: number;
  /** Readings the server refused (REJEITADA). */
  readonly rejected: number;
  /** Server lines ignored (unsigned for a keyed meter, or an ACK beyond what was sent). */
  readonly ignored: number;
  readonly datagrams: number;
}

export class MeterRunner {
  private readonly options: MeterOptions;
  private readonly logger: Logger;
  private readonly meters = new Map<string, SimulatedMeter>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly socket: Socket;
  private readonly startedAt = Date.now();
  private datagramsSent = 0;
  private lastAckAt = Date.now();
  private stalled = false;
  private droppedSinceLog = 0;
  private lastDropLogAt = Number.NEGATIVE_INFINITY;
  private rejectedSinceLog = 0;
  /** Per meter, the instant its reading schedule counts from. */
  private readonly scheduleOrigin = new Map<string, number>();
  private lastRejectLogAt = Number.NEGATIVE_INFINITY;
  private stopping: Promise<RunnerStats> | undefined;

  constructor(options: MeterOptions, logger: Logger) {
    this.options = options;
    this.logger = logger;
    for (const matricula of options.matriculas) {
      this.meters.set(
        matricula,
        new SimulatedMeter({
          matricula,
          initialRegister: options.initialRegister,
          seed: meterSeed(options.seed, matricula),
          minIncrementUnits: options.minIncrementUnits,
          peak: options.peak,
          maxPending: options.maxPending,
          key: options.keys.get(matricula),
        }),
      );
    }
    this.socket = createSocket('udp4');
    this.socket.on('message', (message) => this.onAck(message));
    this.socket.on('error', (error) => logger.warn({ err: error }, 'UDP socket error'));
  }

  /** After this long without any ACK while readings wait, the server is reported silent. */
  get stallAfterMs(): number {
    return Math.max(3 * this.options.sendIntervalMs, 5000);
  }

  async start(): Promise<void> {
    this.socket.bind(0);
    await once(this.socket, 'listening');
    // Connected: the kernel drops datagrams from any other address, so only the server can answer.
    this.socket.connect(this.options.port, this.options.host);
    await once(this.socket, 'connect');
    for (const meter of this.meters.values()) {
      // Random phases spread a fleet's sends over the interval instead of in bursts.
      const incrementPhase = Math.random() * this.options.incrementIntervalMs;
      const sendPhase = Math.random() * this.options.sendIntervalMs;
      this.timers.push(
        setTimeout(() => this.timers.push(setInterval(() => meter.tick(Date.now() - this.startedAt), this.options.incrementIntervalMs)), incrementPhase),
        setTimeout(() => {
          this.sendReading(meter);
          this.timers.push(setInterval(() => this.sendReading(meter), this.options.sendIntervalMs));
        }, sendPhase),
      );
    }
  }

  stats(): RunnerStats {
    let produced = 0;
    let sent = 0;
    let acknowledged = 0;
    let pending = 0;
    let dropped = 0;
    let rejected = 0;
    let ignored = 0;
    for (const meter of this.meters.values()) {
      rejected += meter.counters.rejected;
      ignored += meter.counters.ignored;
      produced += meter.counters.produced;
      sent += meter.counters.sent;
      acknowledged += meter.counters.acknowledged;
      dropped += meter.counters.dropped;
      pending += meter.pending;
    }
    return { meters: this.meters.size, produced, sent, acknowledged, pending, dropped, rejected, ignored, datagrams: this.datagramsSent };
  }

  /** Stops ticking, makes one last send of what is pending, waits briefly for its ACK, closes. */
  stop(): Promise<RunnerStats> {
    this.stopping ??= (async () => {
      for (const timer of this.timers) clearTimeout(timer);
      for (const meter of this.meters.values()) this.send(meter);
      const deadline = Date.now() + FINAL_ACK_WAIT_MS;
      while (this.stats().pending > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise<void>((resolve) => this.socket.close(() => resolve()));
      return this.stats();
    })();
    return this.stopping;
  }

  /**
   * Takes a reading stamped on the meter's schedule (its first send plus a
   * whole number of send intervals, as real meters stamp :00, :15...), not
   * on the timer's late firing: readings stay a full interval apart, which
   * the server's MEDICAO_INTERVALO_MINIMO_MS rule checks.
   */
  private sendReading(meter: SimulatedMeter): void {
    const now = Date.now();
    const interval = this.options.sendIntervalMs;
    let origin = this.scheduleOrigin.get(meter.matricula);
    if (origin === undefined) this.scheduleOrigin.set(meter.matricula, (origin = now));
    const dropped = meter.takeReading(origin + Math.round((now - origin) / interval) * interval, interval);
    if (dropped > 0) this.reportDropped(dropped, now);
    this.send(meter);
    if (!this.stalled && now - this.lastAckAt > this.stallAfterMs) {
      this.stalled = true;
      this.logger.warn({ silentForMs: now - this.lastAckAt, pending: this.stats().pending }, 'server has not acknowledged anything for a while; keeping readings to resend');
    }
  }

  /** One datagram per send (see SimulatedMeter.nextDatagram); a backlog drains as ACKs come back. */
  private send(meter: SimulatedMeter): void {
    const datagram = meter.nextDatagram();
    if (datagram === undefined) return;
    this.socket.send(datagram);
    this.datagramsSent++;
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ matricula: meter.matricula, register: meter.register.toString(), pending: meter.pending }, 'sent');
  }

  private onAck(message: Buffer): void {
    const { values } = parseServerDatagram(message);
    for (const line of values) {
      const meter = this.meters.get(line.matricula);
      if (meter === undefined || !meter.trusts(line)) continue;
      this.lastAckAt = Date.now();
      if (this.stalled) {
        this.stalled = false;
        this.logger.info('server acknowledges again');
      }
      if (line.kind === 'rejeitada') {
        if (meter.reject(line.timestamp)) this.reportRejected(line.matricula, line.timestamp, line.motivo);
        continue;
      }
      // A cumulative ACK that covers all sent so far clocks out the next datagram of a backlog.
      if (meter.acknowledge(line.timestamp) && this.stopping === undefined) this.send(meter);
    }
  }

  private reportRejected(matricula: string, timestamp: number, motivo: string): void {
    this.rejectedSinceLog++;
    const now = Date.now();
    if (now - this.lastRejectLogAt < DROP_LOG_INTERVAL_MS) return;
    this.logger.warn({ matricula, timestamp: new Date(timestamp).toISOString(), motivo, refusedSinceLastLog: this.rejectedSinceLog }, 'server refused readings; not resending them');
    this.lastRejectLogAt = now;
    this.rejectedSinceLog = 0;
  }

  private reportDropped(count: number, now: number): void {
    this.droppedSinceLog += count;
    if (now - this.lastDropLogAt < DROP_LOG_INTERVAL_MS) return;
    this.logger.warn({ dropped: this.droppedSinceLog, maxPending: this.options.maxPending }, 'buffer full: dropped the oldest unacknowledged readings');
    this.lastDropLogAt = now;
    this.droppedSinceLog = 0;
  }
}
