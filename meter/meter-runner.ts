/**
 * Runs simulated meters on one UDP socket: ticks their registers, sends
 * their unacknowledged readings and events every send interval, applies
 * the ACKs that come back (routed by matricula), and obeys the server's
 * commands (MeterControl). One process may run one meter or thousands.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { parseRegister } from '../protocol/decimal.js';
import { parseServerDatagram } from '../protocol/meter-protocol.js';
import { COMMAND_TAG, EVENT_ACK_TAG, linesByTag, parseEventAckLine, type MeterEventType } from '../protocol/meter-commands.js';
import { MeterControl } from './meter-control.js';
import type { MeterOptions } from './options.js';
import { meterSeed, SimulatedMeter } from './simulated-meter.js';
import { loadMeterState, saveMeterState } from './meter-state.js';

/** A demand limit that keeps biting is reported again at most this often. */
export const LIMIT_REPORT_INTERVAL_MS = 60_000;
/** On stop, how long to wait for the ACK of the last send. */
export const FINAL_ACK_WAIT_MS = 1500;
/** `C` of COMANDO; `_` at the fourth byte tells ACK_EVENTO from an `ACK;` line. */
const COMMAND_FIRST_BYTE = 0x43;
const UNDERSCORE = 0x5f;
/**
 * Readings are at least this far apart (the server's default
 * MEDICAO_INTERVALO_MINIMO_MS): the schedule keeps them a send interval
 * apart; this only separates an on-demand reading, or two firings of a late
 * timer, without pushing later stamps ahead of the clock.
 */
const MIN_SPACING_MS = 100;
/** Send intervals without any ACK, readings waiting, after which a meter with several servers moves to the next. */
export const FAILOVER_AFTER_INTERVALS = 3;
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
  /** Commands executed (each id once), and commands ignored: unsigned, wrongly signed, expired, replayed, malformed. */
  readonly commandsExecuted: number;
  readonly commandsIgnored: number;
  /** Events not yet acknowledged. */
  readonly eventsPending: number;
  /** Times the meter moved to the next server (`--servidores`), and the server it sends to now (`host:porta`). */
  readonly failovers: number;
  readonly server: string;
}

/** A meter with what it obeys. */
interface Unit {
  readonly meter: SimulatedMeter;
  readonly control: MeterControl;
  /** When limite_excedido was last reported, and increments capped since. */
  limitReportedAt: number;
  cappedTicks: number;
}

/** Network errors a meter meets while its server is down or away: a state, not a fault. */
const EXPECTED_NETWORK_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
/** How long the server may take to tell one meter's register at start, and how many are asked at once. */
const RESUME_TIMEOUT_MS = 3000;
const RESUME_CONCURRENCY = 16;

export class MeterRunner {
  private readonly options: MeterOptions;
  private readonly logger: Logger;
  private readonly meters = new Map<string, SimulatedMeter>();
  private readonly units = new Map<string, Unit>();
  /** False during a simulated power failure: no ticks, no sends, no commands heard. */
  private powered = true;
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
  /** The server sent to now (an index into options.servers); false while the socket is being pointed at another. */
  private serverIndex = 0;
  private connected = false;
  /** The expected network error last told (see onSocketError), until an ACK arrives. */
  private unreachable: string | undefined;
  private failovers = 0;

  constructor(options: MeterOptions, logger: Logger) {
    this.options = options;
    this.logger = logger;
    for (const matricula of options.matriculas) {
      const key = options.keys.get(matricula);
      const saved = options.stateDir === undefined ? undefined : loadMeterState(options.stateDir, matricula);
      const meter = new SimulatedMeter({
        matricula,
        initialRegister: options.initialRegister ?? 0n,
        seed: meterSeed(options.seed, matricula),
        minIncrementUnits: options.minIncrementUnits,
        peak: options.peak,
        maxPending: options.maxPending,
        key,
        nominalVoltage: options.nominalVoltage,
        counter: saved?.counter,
      });
      if (saved !== undefined) {
        meter.restoreRegister(saved.register);
        for (const event of saved.events) meter.raise(event.type, event.timestamp, event.detail);
      }
      const control = new MeterControl(matricula, meter.signer, saved?.control ?? { clockOffsetMs: options.clockDriftMs }, saved?.answered);
      this.meters.set(matricula, meter);
      this.units.set(matricula, { meter, control, limitReportedAt: Number.NEGATIVE_INFINITY, cappedTicks: 0 });
    }
    this.socket = createSocket('udp4');
    this.socket.on('message', (message) => this.onAck(message));
    this.socket.on('error', (error) => this.onSocketError(error));
  }

  /**
   * Meters with neither a saved state nor `--inicial` continue from the
   * newest register the server holds for them (`GET
   * /medicoes/ultima-medicao`), so a meter run again on an existing
   * installation is not taken for one that went backwards. A server that
   * cannot tell (not running yet, a token required) leaves them at 0, said
   * once.
   */
  private async resumeFromServer(): Promise<void> {
    const { httpPort, initialRegister, stateDir } = this.options;
    if (httpPort === undefined || initialRegister !== undefined) return;
    const host = (this.options.servers[0] as { host: string }).host;
    const fresh = [...this.units.keys()].filter((matricula) => stateDir === undefined || loadMeterState(stateDir, matricula) === undefined);
    let resumed = 0;
    let failure: string | undefined;
    const ask = async (matricula: string): Promise<void> => {
      try {
        const response = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${httpPort}/medicoes/ultima-medicao?matricula=${matricula}`, { signal: AbortSignal.timeout(RESUME_TIMEOUT_MS) });
        const text = await response.text();
        if (response.status === 404) return; // no reading yet: a new meter starts at 0
        const register = response.status === 200 ? /"consumo":(\d{1,15}(?:\.\d{1,3})?)[,}]/.exec(text)?.[1] : undefined;
        const value = register === undefined ? undefined : parseRegister(register);
        if (value === undefined) {
          failure ??= `HTTP ${response.status}`;
          return;
        }
        this.units.get(matricula)?.meter.restoreRegister(value);
        resumed++;
      } catch (error) {
        failure ??= (error as Error).name === 'TimeoutError' ? 'no answer' : ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
      }
    };
    for (let start = 0; start < fresh.length; start += RESUME_CONCURRENCY) await Promise.all(fresh.slice(start, start + RESUME_CONCURRENCY).map(ask));
    if (resumed > 0) this.logger.info({ meters: resumed }, "continuing from the registers the server holds");
    if (failure !== undefined) this.logger.warn(`could not ask the server at ${host}:${httpPort} for the meters' registers (${failure}): starting from 0 (give --inicial, or --porta-http 0 not to ask)`);
  }

  /**
   * A connected UDP socket hears the ICMP answers of a server that is not
   * there (ECONNREFUSED, host or network unreachable): expected while it is
   * down, so told in one line when it starts, not per datagram and without
   * a stack; the readings stay pending, and an ACK ends it. Anything else is
   * a fault of this process, logged whole.
   */
  private onSocketError(error: NodeJS.ErrnoException): void {
    const code = error.code ?? '';
    if (EXPECTED_NETWORK_ERRORS.has(code)) {
      if (this.unreachable === code) return;
      this.unreachable = code;
      const server = this.options.servers[this.serverIndex] as { host: string; port: number };
      this.logger.warn(`server ${server.host}:${server.port} unreachable (${code}); keeping readings to resend`);
      return;
    }
    this.logger.warn({ err: error }, 'UDP socket error');
  }

  /** After this long without any ACK while readings wait, the server is reported silent. */
  get stallAfterMs(): number {
    return Math.max(3 * this.options.sendIntervalMs, 5000);
  }

  async start(): Promise<void> {
    this.socket.bind(0);
    await once(this.socket, 'listening');
    // Connected: the kernel drops datagrams from any other address, so only the server can answer.
    const first = this.options.servers[0] as { host: string; port: number };
    this.socket.connect(first.port, first.host);
    await once(this.socket, 'connect');
    this.connected = true;
    await this.resumeFromServer();
    this.scheduleFieldEvents();
    // Events left unacknowledged before a restart go out at once.
    for (const unit of this.units.values()) this.sendEvents(unit.meter);
    for (const unit of this.units.values()) {
      const meter = unit.meter;
      // Random phases spread a fleet's sends over the interval instead of in bursts.
      const incrementPhase = Math.random() * this.options.incrementIntervalMs;
      const sendPhase = Math.random() * this.options.sendIntervalMs;
      this.timers.push(
        setTimeout(() => this.timers.push(setInterval(() => this.tick(unit), this.options.incrementIntervalMs)), incrementPhase),
        setTimeout(() => {
          this.sendReading(meter);
          this.timers.push(setInterval(() => this.sendReading(meter), this.options.sendIntervalMs));
        }, sendPhase),
      );
    }
  }

  /** A meter's own clock: real time plus its offset (a drift, until a sync corrects it). */
  private clock(unit: Unit): number {
    return Date.now() + unit.control.state.clockOffsetMs;
  }

  /** One increment of the register: none while cut or without power; capped by a demand limit. */
  private tick(unit: Unit): void {
    if (!this.powered || unit.control.state.supply === 'cortado') return;
    const limitW = unit.control.state.limitW;
    // A tick stands for an hour of use: its increment in kWh is the mean demand in kW, so a limit of L kW caps it at L kWh (L x 1000 thousandths).
    if (!unit.meter.tick(Date.now() - this.startedAt, limitW === null ? null : BigInt(limitW))) return;
    unit.cappedTicks++;
    // Reported when the limit first bites, then at most once a LIMIT_REPORT_INTERVAL_MS while it keeps biting: an alarm, not a flood.
    const now = Date.now();
    if (now - unit.limitReportedAt < LIMIT_REPORT_INTERVAL_MS) return;
    this.report(unit, 'limite_excedido', `limite ${limitW! / 1000} kW atingido em ${unit.cappedTicks} incremento(s)`);
    unit.limitReportedAt = now;
    unit.cappedTicks = 0;
  }

  /** Starts the simulated field events the options ask for. */
  private scheduleFieldEvents(): void {
    const { outage, tamperAfterMs } = this.options;
    if (outage !== undefined) {
      this.timers.push(
        setTimeout(() => {
          // The last gasp goes out as the power fails; then the meter is silent.
          for (const unit of this.units.values()) this.report(unit, 'falta_energia', 'último suspiro');
          this.powered = false;
          this.logger.info({ forS: outage.durationMs / 1000 }, 'power failure');
        }, outage.afterMs),
        setTimeout(() => {
          this.powered = true;
          this.logger.info('power back');
          for (const unit of this.units.values()) {
            this.report(unit, 'retorno_energia', `falta de ${outage.durationMs / 1000} s`);
            this.send(unit.meter);
          }
        }, outage.afterMs + outage.durationMs),
      );
    }
    const disturbance = this.options.voltageDisturbance;
    if (disturbance !== undefined) {
      const disturb = (fraction: number) => () => {
        for (const unit of this.units.values()) unit.meter.voltageDeviation = fraction;
      };
      this.timers.push(setTimeout(disturb(disturbance.fraction), disturbance.afterMs), setTimeout(disturb(0), disturbance.afterMs + disturbance.durationMs));
    }
    if (tamperAfterMs !== undefined) {
      this.timers.push(setTimeout(() => {
        for (const unit of this.units.values()) this.report(unit, 'violacao_tampa', 'tampa aberta');
      }, tamperAfterMs));
    }
  }

  /** Records an event, keeps it with the state, and sends what is pending now. */
  private report(unit: Unit, type: MeterEventType, detail: string): void {
    unit.meter.raise(type, this.clock(unit), detail);
    this.save(unit);
    this.sendEvents(unit.meter, type === 'falta_energia');
  }

  private sendEvents(meter: SimulatedMeter, lastGasp = false): void {
    if (!this.powered && !lastGasp) return;
    if (!this.connected) return;
    const datagram = meter.eventDatagram();
    if (datagram === undefined) return;
    this.transmit(datagram);
  }

  private save(unit: Unit): void {
    const dir = this.options.stateDir;
    if (dir === undefined) return;
    try {
      saveMeterState(dir, unit.meter.matricula, { register: unit.meter.register, counter: unit.meter.signer.counter, control: unit.control.state, answered: unit.control.answeredEntries(), events: unit.meter.pendingEvents });
    } catch (error) {
      this.logger.warn({ err: error, matricula: unit.meter.matricula }, 'could not save the meter state');
    }
  }

  /** A COMANDO line: obeyed at most once by id, answered at once (the same answer again for a repeat). */
  private onCommand(line: string): void {
    const matricula = line.split(';')[2] ?? '';
    const unit = this.units.get(matricula);
    // Without power the meter hears nothing; a command to another meter is not ours (MeterControl counts it when it reaches one).
    if (unit === undefined || !this.powered) return;
    const outcome = unit.control.receive(line, Date.now());
    if (outcome.kind === 'ignored') {
      this.logger.debug({ matricula, reason: outcome.reason }, 'ignored a command');
      return;
    }
    if (outcome.event !== undefined || outcome.readNow) this.save(unit);
    // Between servers the answer is not sent: the server sends the command again, and the same answer is given.
    if (this.connected) this.transmit(outcome.line);
    if (outcome.event !== undefined) this.report(unit, outcome.event.type, outcome.event.detail);
    if (outcome.readNow) {
      const now = this.clock(unit);
      unit.meter.takeReading(now, MIN_SPACING_MS);
      this.send(unit.meter);
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
    let commandsExecuted = 0;
    let commandsIgnored = 0;
    let eventsPending = 0;
    for (const { control, meter: m } of this.units.values()) {
      const c = control.counters;
      commandsExecuted += c.executed;
      commandsIgnored += c.ignoredUnsigned + c.ignoredBadSignature + c.ignoredExpired + c.ignoredReplayed + c.ignoredMalformed + c.ignoredOtherMeter;
      eventsPending += m.pendingEvents.length;
    }
    for (const meter of this.meters.values()) {
      rejected += meter.counters.rejected;
      ignored += meter.counters.ignored;
      produced += meter.counters.produced;
      sent += meter.counters.sent;
      acknowledged += meter.counters.acknowledged;
      dropped += meter.counters.dropped;
      pending += meter.pending;
    }
    const server = this.options.servers[this.serverIndex] as { host: string; port: number };
    return { meters: this.meters.size, produced, sent, acknowledged, pending, dropped, rejected, ignored, datagrams: this.datagramsSent, commandsExecuted, commandsIgnored, eventsPending, failovers: this.failovers, server: `${server.host}:${server.port}` };
  }

  /** Stops ticking, makes one last send of what is pending, waits briefly for its ACK, closes. */
  stop(): Promise<RunnerStats> {
    this.stopping ??= (async () => {
      for (const timer of this.timers) clearTimeout(timer);
      this.powered = true;
      for (const unit of this.units.values()) {
        this.save(unit);
        this.send(unit.meter);
        this.sendEvents(unit.meter);
      }
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
    const unit = this.units.get(meter.matricula) as Unit;
    const offset = unit.control.state.clockOffsetMs;
    // Stamped by the meter's own clock; taken during a power failure too (battery-backed), sent when power is back.
    const events = meter.pendingEvents.length;
    const dropped = meter.takeReading(origin + Math.round((now - origin) / interval) * interval + offset, Math.min(interval, MIN_SPACING_MS));
    if (dropped > 0) this.reportDropped(dropped, now);
    if (this.options.stateDir !== undefined || meter.pendingEvents.length !== events) this.save(unit);
    if (!this.powered) return;
    this.send(meter);
    // Measuring may have raised an event (a voltage sag or swell): report it now.
    if (meter.pendingEvents.length !== events) this.sendEvents(meter);
    this.sendEvents(meter);
    if (this.options.servers.length > 1 && this.connected && this.stats().pending > 0 && now - this.lastAckAt > FAILOVER_AFTER_INTERVALS * interval) this.failOver(now);
    if (!this.stalled && now - this.lastAckAt > this.stallAfterMs) {
      this.stalled = true;
      this.logger.warn({ silentForMs: now - this.lastAckAt, pending: this.stats().pending }, 'server has not acknowledged anything for a while; keeping readings to resend');
    }
  }

  /**
   * No ACK for FAILOVER_AFTER_INTERVALS send intervals with readings
   * waiting: the socket is pointed at the next server. Nothing is forgotten:
   * the next send starts again from the oldest unacknowledged reading (a
   * reading the old server stored without its ACK arriving is a copy to the
   * new one: acknowledged, not stored twice).
   */
  private failOver(now: number): void {
    const from = this.options.servers[this.serverIndex] as { host: string; port: number };
    this.serverIndex = (this.serverIndex + 1) % this.options.servers.length;
    const to = this.options.servers[this.serverIndex] as { host: string; port: number };
    this.failovers++;
    this.lastAckAt = now;
    this.connected = false;
    this.socket.disconnect();
    this.socket.connect(to.port, to.host, () => {
      this.connected = true;
      for (const unit of this.units.values()) {
        this.send(unit.meter);
        this.sendEvents(unit.meter);
      }
    });
    this.logger.warn({ from: `${from.host}:${from.port}`, to: `${to.host}:${to.port}`, pending: this.stats().pending }, 'no acknowledgement for 3 send intervals; moving to the next server');
  }

  /** Puts a datagram on the wire (callers check `connected` first: between servers nothing is taken from a meter's buffer). */
  private transmit(datagram: string): void {
    this.socket.send(datagram);
    this.datagramsSent++;
  }

  /** One datagram per send (see SimulatedMeter.nextDatagram); a backlog drains as ACKs come back. */
  private send(meter: SimulatedMeter): void {
    if (!this.connected) return;
    const datagram = meter.nextDatagram();
    if (datagram === undefined) return;
    this.transmit(datagram);
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ matricula: meter.matricula, register: meter.register.toString(), pending: meter.pending }, 'sent');
  }

  private onAck(message: Buffer): void {
    // Commands and event acknowledgements come in datagrams of their own (never with ACK and REJEITADA lines).
    if (message[0] === COMMAND_FIRST_BYTE || message[3] === UNDERSCORE) {
      const { groups } = linesByTag(message);
      for (const line of groups.get(COMMAND_TAG) ?? []) this.onCommand(line);
      for (const line of groups.get(EVENT_ACK_TAG) ?? []) this.onEventAck(line);
      return;
    }
    const { values } = parseServerDatagram(message);
    for (const line of values) {
      const meter = this.meters.get(line.matricula);
      if (meter === undefined || !meter.trusts(line)) continue;
      this.lastAckAt = Date.now();
      this.unreachable = undefined;
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

  private onEventAck(line: string): void {
    const ack = parseEventAckLine(line);
    if (typeof ack === 'string') return;
    const unit = this.units.get(ack.matricula);
    if (unit === undefined || !unit.meter.authentic(ack.signature)) return;
    if (unit.meter.acknowledgeEvent(ack)) this.save(unit);
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
