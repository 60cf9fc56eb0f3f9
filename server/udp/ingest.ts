/**
 * The UDP listener for meter readings: parses each datagram, stores its
 * valid readings (group-committed by the store), and acknowledges each
 * matricula to the sender once its readings are durable. Malformed input
 * is counted and logged at a bounded rate, never answered.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AppendResult, ReadingOutcome, RefusalReason, Store } from '../../database/store.js';
import { REFUSAL_REASONS, timestampRefusal, type TimestampRules } from '../../domain/readings/admission.js';
import { packLines, parseReadingDatagram, serializeAck, serializeRejection, type Reading } from '../../protocol/meter-protocol.js';
import { replyTo, type SentReading } from '../../domain/readings/acknowledgement.js';
import { ThrottledWarning } from '../log-throttle.js';
import { BATCH_BUCKETS, Histogram, LATENCY_BUCKETS } from '../metrics.js';
import type { MeterAuthenticator } from './meter-authentication.js';
import { DAY_MS } from '../../protocol/timestamp.js';
import { counter, type ExpositionWriter } from '../metrics.js';

/** A reading further ahead of the server clock than this is refused (`futura`). */
export const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000;
export const DEFAULT_MAX_AGE_DAYS = 400;

export interface UdpIngestOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly legacyTimeZone: string;
  /** SO_RCVBUF asked for, in bytes. */
  readonly receiveBufferBytes: number;
  /** Readings received but not yet stored past which datagrams are dropped. */
  readonly maxPendingReadings?: number;
  /** Which readings are authentic, and the keys that sign answers; all readings are authentic and no answer signed when absent. */
  readonly authenticator?: MeterAuthenticator;
  /** Readings older than this many days are refused (`antiga`). */
  readonly maxAgeDays?: number;
  /** Told of every batch once it is durable and acknowledged (live events, fleet view); must not throw. */
  readonly onStored?: (readings: readonly Reading[], result: AppendResult) => void;
  /**
   * Takes datagrams of answers to commands and events (their first line is
   * RESPOSTA or EVENTO; meters never mix them with readings); counted as
   * malformed when absent. Must not throw.
   */
  readonly onControl?: (message: Buffer, sender: MeterAddress) => void;
}

/** Where a meter's datagrams come from: where commands to it go. */
export interface MeterAddress {
  readonly address: string;
  readonly port: number;
}

/** First bytes of the lines meters send besides readings: `R` (RESPOSTA) and `E` (EVENTO). */
const ANSWER_FIRST_BYTE = 0x52;
const EVENT_FIRST_BYTE = 0x45;

export const DEFAULT_MAX_PENDING_READINGS = 200_000;

export interface IngestCounters {
  datagrams: number;
  readings: number;
  stored: number;
  duplicates: number;
  /** Readings refused by a rule, by reason (each answered with a REJEITADA line). */
  rejected: Record<RefusalReason, number>;
  /** Lines (or whole datagrams) that did not parse. */
  malformed: number;
  acksSent: number;
  /** REJEITADA lines sent to meters. */
  rejectionsSent: number;
  /** Batches the store could not make durable (not acknowledged; meters resend). */
  storeFailures: number;
  /** Datagrams dropped unread because too many readings were waiting for the store (load shedding). */
  shed: number;
  /** Readings the store refused: new meters past its meter limit. */
  refused: number;
  /** Readings unsigned or wrongly signed where a signature is required. */
  unauthenticated: number;
}

export class UdpIngest {
  /** Readings per store call. */
  readonly batchSizes = new Histogram(BATCH_BUCKETS);
  /** Time from handing a batch to the store to its being durable (write and fdatasync, or commit), in seconds. */
  readonly commitSeconds = new Histogram(LATENCY_BUCKETS);
  readonly counters: IngestCounters = {
    datagrams: 0,
    readings: 0,
    stored: 0,
    duplicates: 0,
    rejected: Object.fromEntries(REFUSAL_REASONS.map((reason) => [reason, 0])) as Record<RefusalReason, number>,
    malformed: 0,
    acksSent: 0,
    rejectionsSent: 0,
    storeFailures: 0,
    shed: 0,
    refused: 0,
    unauthenticated: 0,
  };
  private readonly timestampRules: TimestampRules;
  private readonly options: UdpIngestOptions;
  private readonly socket: Socket;
  private readonly pending = new Set<Promise<void>>();
  private readonly malformedWarning: ThrottledWarning;
  private readonly futureWarning: ThrottledWarning;
  private readonly storeWarning: ThrottledWarning;
  private readonly shedWarning: ThrottledWarning;
  private readonly refusedWarning: ThrottledWarning;
  private readonly unauthenticatedWarning: ThrottledWarning;
  private readonly maxPending: number;
  /** Where each meter last sent a reading from that was stored (a copy or a replay moves nothing). */
  private readonly addresses = new Map<string, MeterAddress>();
  /** Readings collected or handed to the store and not yet settled. */
  private pendingReadings = 0;

  /** Readings received and not yet stored. */
  get pendingCount(): number {
    return this.pendingReadings;
  }
  private closing = false;
  /**
   * Readings received in this turn of the event loop, stored together at its
   * end; per sender, what it sent: an index into `readings`, or the outcome
   * of a reading refused before the store.
   */
  private batch: { readings: Reading[]; senders: Map<string, { address: string; port: number; sent: Array<{ reading: Reading; index?: number; outcome?: ReadingOutcome }> }> } | undefined;

  constructor(options: UdpIngestOptions) {
    this.options = options;
    this.socket = createSocket({ type: 'udp4', recvBufferSize: options.receiveBufferBytes });
    this.socket.on('message', (message, sender) => this.onMessage(message, sender));
    this.socket.on('error', (error) => options.logger.error({ err: error }, 'UDP socket error'));
    this.malformedWarning = new ThrottledWarning(options.logger, 'dropped malformed datagram lines');
    this.futureWarning = new ThrottledWarning(options.logger, 'refused readings timestamped too far ahead or too long ago');
    this.storeWarning = new ThrottledWarning(options.logger, 'could not store readings; not acknowledged, meters will resend');
    this.shedWarning = new ThrottledWarning(options.logger, 'store behind: dropping datagrams until it catches up (meters resend)');
    this.refusedWarning = new ThrottledWarning(options.logger, 'meter limit reached: readings of new matriculas refused (MAX_MEDIDORES)');
    this.unauthenticatedWarning = new ThrottledWarning(options.logger, 'rejected readings without a valid signature');
    this.maxPending = options.maxPendingReadings ?? DEFAULT_MAX_PENDING_READINGS;
    this.timestampRules = { maxAheadMs: MAX_CLOCK_AHEAD_MS, maxAgeMs: (options.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS) * DAY_MS };
  }

  async listen(port: number, host: string): Promise<AddressInfo & { receiveBufferBytes: number }> {
    this.socket.bind(port, host);
    await once(this.socket, 'listening');
    // The kernel caps SO_RCVBUF at net.core.rmem_max, and Linux reports double the usable size.
    return { ...this.socket.address(), receiveBufferBytes: this.socket.getRecvBufferSize() };
  }

  /** Stops taking datagrams, waits for pending batches to be stored and acknowledged, then closes. */
  async close(): Promise<void> {
    this.closing = true;
    this.storeBatch();
    await Promise.allSettled([...this.pending]);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** Where `matricula` last sent a stored reading (or an authentic answer or event) from. */
  addressOf(matricula: string): MeterAddress | undefined {
    return this.addresses.get(matricula);
  }

  /** Notes an authentic line of `matricula` from `from` (answers and events, checked by their handlers). */
  heardFrom(matricula: string, from: MeterAddress): void {
    const known = this.addresses.get(matricula);
    if (known === undefined || known.address !== from.address || known.port !== from.port) this.addresses.set(matricula, from);
  }

  /** Sends lines to a meter from the server's UDP port, packed into as few datagrams as fit. */
  send(lines: readonly string[], to: MeterAddress): void {
    if (this.closing) return;
    for (const datagram of packLines(lines)) this.socket.send(datagram, to.port, to.address);
  }

  private onMessage(message: Buffer, sender: RemoteInfo): void {
    if (this.closing) return;
    const counters = this.counters;
    counters.datagrams++;
    // Shed before parsing: a flood costs a comparison per datagram, and memory stays bounded.
    if (this.pendingReadings >= this.maxPending) {
      counters.shed++;
      this.shedWarning.warn({ pendingReadings: this.pendingReadings, shedTotal: counters.shed });
      return;
    }
    const first = message[0];
    if ((first === ANSWER_FIRST_BYTE || first === EVENT_FIRST_BYTE) && this.options.onControl !== undefined) {
      this.options.onControl(message, { address: sender.address, port: sender.port });
      return;
    }
    const { values, errors } = parseReadingDatagram(message, { legacyTimeZone: this.options.legacyTimeZone });
    if (errors.length > 0) {
      counters.malformed += errors.length;
      this.malformedWarning.warn({ from: `${sender.address}:${sender.port}`, errors: errors.slice(0, 5), malformedTotal: counters.malformed });
    }
    const now = Date.now();
    const authenticator = this.options.authenticator;
    const readings: Reading[] = [];
    const refused: Array<{ reading: Reading; outcome: 'futura' | 'antiga' }> = [];
    let unauthenticated = 0;
    for (const reading of values) {
      // Nothing is told to a sender that cannot prove it speaks for the meter.
      if (authenticator !== undefined && !authenticator.accepts(reading)) {
        unauthenticated++;
        continue;
      }
      const refusal = timestampRefusal(reading.timestamp, now, this.timestampRules);
      if (refusal === undefined) readings.push(reading);
      else {
        refused.push({ reading, outcome: refusal });
        counters.rejected[refusal]++;
      }
    }
    if (refused.length > 0) this.futureWarning.warn({ from: `${sender.address}:${sender.port}`, refused: refused.length });
    if (unauthenticated > 0) {
      counters.unauthenticated += unauthenticated;
      this.unauthenticatedWarning.warn({ from: `${sender.address}:${sender.port}`, unauthenticatedTotal: counters.unauthenticated });
    }
    if (readings.length === 0 && refused.length === 0) return;
    counters.readings += readings.length;
    // Checked first: building the log fields per datagram costs even when debug is off.
    if (this.options.logger.isLevelEnabled('debug')) this.options.logger.debug({ from: `${sender.address}:${sender.port}`, readings: readings.length }, 'datagram');

    this.collect(readings, refused, sender);
  }

  /**
   * Readings of every datagram that arrives in one turn of the event loop go
   * to the store in one call, and each sender gets one ACK datagram for all
   * its matriculas (a process running many meters on one socket gets one,
   * not one per meter): a promise, a map and a send per batch, not per datagram.
   */
  private collect(readings: readonly Reading[], refused: ReadonlyArray<{ reading: Reading; outcome: ReadingOutcome }>, sender: RemoteInfo): void {
    let batch = this.batch;
    if (batch === undefined) {
      batch = this.batch = { readings: [], senders: new Map() };
      setImmediate(() => this.storeBatch());
    }
    const key = `${sender.address}:${sender.port}`;
    let entry = batch.senders.get(key);
    if (entry === undefined) batch.senders.set(key, (entry = { address: sender.address, port: sender.port, sent: [] }));
    for (const reading of readings) {
      entry.sent.push({ reading, index: batch.readings.length });
      batch.readings.push(reading);
    }
    for (const item of refused) entry.sent.push(item);
    this.pendingReadings += readings.length;
  }

  /** ACK and REJEITADA lines for one sender's readings of the round, signed for keyed meters; refusals first. */
  private answer(address: string, port: number, sent: ReadonlyArray<{ reading: Reading; index?: number; outcome?: ReadingOutcome }>, outcomes: readonly ReadingOutcome[]): void {
    const judged: SentReading[] = sent.map(({ reading, index, outcome }) => ({ reading, outcome: outcome ?? (outcomes[index as number] as ReadingOutcome) }));
    let from: MeterAddress | undefined;
    for (const { reading, outcome } of judged) {
      if (outcome !== 'stored') continue;
      this.addresses.set(reading.matricula, (from ??= { address, port }));
    }
    const { acks, rejections } = replyTo(judged);
    const sign = (line: string, matricula: string): string => this.options.authenticator?.sign(line, matricula) ?? line;
    const lines = [...rejections.map((r) => sign(serializeRejection(r), r.matricula)), ...acks.map((a) => sign(serializeAck(a), a.matricula))];
    for (const datagram of packLines(lines)) this.socket.send(datagram, port, address);
    this.counters.acksSent += acks.length;
    this.counters.rejectionsSent += rejections.length;
  }

  private storeBatch(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (batch === undefined) return;
    const counters = this.counters;
    const startedAt = performance.now();
    this.batchSizes.observe(batch.readings.length);
    const task = this.options.store.append(batch.readings).then(
      (result) => {
        this.commitSeconds.observe((performance.now() - startedAt) / 1000);
        counters.stored += result.stored;
        counters.duplicates += result.duplicates;
        if (result.refused > 0) {
          counters.refused += result.refused;
          this.refusedWarning.warn({ refusedTotal: counters.refused });
        }
        for (const outcome of result.outcomes) if (outcome !== 'stored' && outcome !== 'duplicate' && outcome !== 'capacity') counters.rejected[outcome]++;
        for (const { address, port, sent } of batch.senders.values()) this.answer(address, port, sent, result.outcomes);
        try {
          this.options.onStored?.(batch.readings, result);
        } catch (error) {
          this.options.logger.error({ err: error }, 'bug: a listener of stored readings failed');
        }
      },
      (error: unknown) => {
        counters.storeFailures++;
        this.storeWarning.warn({ err: error, failuresTotal: counters.storeFailures });
      },
    );
    this.pending.add(task);
    void task.finally(() => {
      this.pending.delete(task);
      this.pendingReadings -= batch.readings.length;
    });
  }

  /** Its families in /metricas: datagrams, readings by outcome, ACKs, batches and commit times. */
  writeMetrics(out: ExpositionWriter): void {
    const c = this.counters;
    counter(out, 'consumo_datagramas_recebidos_total', 'UDP datagrams received from meters.', c.datagrams);
    counter(out, 'consumo_datagramas_descartados_total', 'Datagrams dropped unread because too many readings were waiting for the store (UDP_MAX_PENDENTES).', c.shed);
    counter(out, 'consumo_leituras_recebidas_total', 'Well-formed, authentic, not-future readings handed to the store.', c.readings);
    counter(out, 'consumo_leituras_armazenadas_total', 'Readings newly stored.', c.stored);
    counter(out, 'consumo_leituras_duplicadas_total', 'Readings already stored, identical (resends, replays).', c.duplicates);
    out.family('consumo_leituras_rejeitadas_total', 'counter', 'Readings refused, by reason: the rules answered with REJEITADA, and assinatura and limite_medidores, which are not answered.');
    for (const [motivo, count] of Object.entries(c.rejected)) out.sample('consumo_leituras_rejeitadas_total', count, { motivo });
    out.sample('consumo_leituras_rejeitadas_total', c.unauthenticated, { motivo: 'assinatura' });
    out.sample('consumo_leituras_rejeitadas_total', c.refused, { motivo: 'limite_medidores' });
    counter(out, 'consumo_rejeicoes_enviadas_total', 'REJEITADA lines sent to meters.', c.rejectionsSent);
    counter(out, 'consumo_linhas_malformadas_total', 'Datagram lines (or whole datagrams) that did not parse.', c.malformed);
    counter(out, 'consumo_acks_enviados_total', 'ACK lines sent to meters.', c.acksSent);
    counter(out, 'consumo_falhas_armazenamento_total', 'Store calls that failed (not acknowledged; meters resend).', c.storeFailures);
    out.family('consumo_lote_leituras', 'histogram', 'Readings per store call (group commit).').histogram('consumo_lote_leituras', this.batchSizes);
    out.family('consumo_commit_segundos', 'histogram', 'Time for a batch of readings to become durable.').histogram('consumo_commit_segundos', this.commitSeconds);
  }
}
