/**
 * One sender process of `load:udp`: simulates a slice of the meters at its
 * share of the target rate. Like the real meters, each send is one datagram
 * holding the meter's unacknowledged readings oldest first: one reading per
 * datagram while the server keeps up, more when it falls behind. After the
 * sending phase it resends what is not acknowledged until all is covered or
 * the drain time ends, then reports over IPC.
 *
 * argv: host port firstMeter meters ratePerSecond durationS drainS [blast|garbage]
 * With `blast`, every reading goes once in its own datagram and ACKs are
 * ignored: the raw load for measuring a bare receiver's ceiling. With
 * `garbage`, the datagrams are hostile (random bytes, malformed and
 * impossible readings) and nothing is expected back: the abuse load.
 */
import { createSocket } from 'node:dgram';
import { MAX_DATAGRAM_BYTES, parseAckDatagram } from '../protocol/meter-protocol.js';
import { meterMatricula } from './lib.js';

export interface SenderReport {
  readonly sent: number;
  /** Readings acknowledged by the end of the sending phase: what the server kept up with. */
  readonly acknowledgedWhileSending: number;
  readonly datagrams: number;
  readonly acknowledged: number;
  readonly unacknowledged: number;
  /** Per matricula: the newest timestamp acknowledged. */
  readonly acks: Record<string, number>;
  /** Per matricula: the timestamp of every reading it produced. */
  readonly produced: Record<string, number[]>;
}

const [host = '127.0.0.1', portText = '60000', firstText = '0', countText = '1', rateText = '1000', durationText = '10', drainText = '10', mode = 'meters'] = process.argv.slice(2);
const blast = mode === 'blast' || mode === 'garbage';
const garbage = mode === 'garbage';
const port = Number(portText);
const first = Number(firstText);
const count = Number(countText);
const rate = Number(rateText);
const durationMs = Number(durationText) * 1000;
const drainMs = Number(drainText) * 1000;
const TICK_MS = 5;

const matriculas = Array.from({ length: count }, (_, i) => meterMatricula(first + i));
const pending = matriculas.map(() => [] as number[]);
const indexOf = new Map(matriculas.map((m, i) => [m, i]));
const acks: Record<string, number> = {};
const produced: Record<string, number[]> = Object.fromEntries(matriculas.map((m) => [m, []]));
let sent = 0;
let datagrams = 0;
let acknowledged = 0;

const socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
socket.on('message', (message) => {
  for (const ack of parseAckDatagram(message).values) {
    const i = indexOf.get(ack.matricula);
    if (i === undefined) continue;
    acks[ack.matricula] = Math.max(acks[ack.matricula] ?? 0, ack.timestamp);
    const list = pending[i] as number[];
    let covered = 0;
    while (covered < list.length && (list[covered] as number) <= ack.timestamp) covered++;
    if (covered > 0) {
      list.splice(0, covered);
      acknowledged += covered;
      // Everything sent is covered and more waits: send it now, as meters do.
      if (ack.timestamp >= (lastSent[i] as number) && list.length > 0) send(i);
    }
  }
});
await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
// Connected: a send then skips the address lookup Node does per datagram (a tick and a closure each),
// which keeps the sender cheaper than the server it loads. ACKs come from that same address.
await new Promise<void>((resolve) => socket.connect(port, host, () => resolve()));

/** The register is a function of the timestamp, so a resent reading is the same reading. */
const REGISTER_ORIGIN = Date.UTC(2020, 0, 1);

let cachedSecond = -1;
let cachedPrefix = '';
/**
 * `MEDICAO;<matricula>;<timestamp>;<consumo>` as serializeReading writes it, made cheaply:
 * the sender must cost less than the server it loads (they share the 2 cores).
 */
function readingLine(matricula: string, timestamp: number): string {
  const second = Math.floor(timestamp / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const millis = timestamp - second * 1000;
  return `MEDICAO;${matricula};${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z;${timestamp - REGISTER_ORIGIN}`;
}

/** Hostile datagrams the garbage mode cycles through: random bytes, and lines the protocol must refuse. */
const HOSTILE: Buffer[] = (() => {
  let seed = 42;
  const random = (): number => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
  const now = new Date().toISOString();
  const lines = [
    `MEDICAO;1;${now};-5`,
    `MEDICAO;1;${now};NaN`,
    `MEDICAO;1;${now};${'9'.repeat(300)}`,
    'MEDICAO;1;2026-02-30T00:00:00Z;1',
    `MEDICAO;${'1'.repeat(25)};${now};1`,
    `MEDICAO;1;${now}`,
    `MEDICAO;1;${now};1;${'Z'.repeat(64)}`,
    '{"matricula": 1, "consumo_atual": "x", "data_hora": "31-02-2026 00:00:00"}',
  ];
  const datagrams = lines.map((line) => Buffer.from(line));
  for (let i = 0; i < 56; i++) datagrams.push(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 1400) }, () => Math.floor(random() * 256))));
  return datagrams;
})();

const lastSent = matriculas.map(() => Number.NEGATIVE_INFINITY);
const lastProduced = matriculas.map(() => 0);

/**
 * Sends meter i's oldest unacknowledged readings in one datagram (the
 * protocol's rule), as many as fit in MAX_DATAGRAM_BYTES: a larger one
 * would be dropped by the server, never acknowledged, and resent forever.
 */
function send(i: number): void {
  const list = pending[i] as number[];
  if (list.length === 0) return;
  const matricula = matriculas[i] as string;
  let datagram = '';
  let included = 0;
  for (const timestamp of list) {
    const line = readingLine(matricula, timestamp);
    // ASCII: characters are bytes.
    if (included > 0 && datagram.length + 1 + line.length > MAX_DATAGRAM_BYTES) break;
    datagram = included === 0 ? line : `${datagram}\n${line}`;
    included++;
  }
  socket.send(datagram);
  lastSent[i] = Math.max(lastSent[i] as number, list[included - 1] as number);
  datagrams++;
}

// Sending phase: a steady rate, meters in turn, every reading a new datagram.
const started = Date.now();
let next = 0;
let due = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed >= durationMs) {
      clearInterval(timer);
      resolve();
      return;
    }
    const target = Math.floor((elapsed * rate) / 1000);
    for (; due < target; due++) {
      const i = next;
      next = (next + 1) % count;
      // A meter's timestamps strictly rise and follow the clock. (One counter for the whole
      // process would run ahead of the clock at high rates: past 5 minutes, readings are rejected.)
      const timestamp = Math.max((lastProduced[i] as number) + 1, Date.now());
      lastProduced[i] = timestamp;
      sent++;
      if (blast) {
        socket.send(garbage ? (HOSTILE[due % HOSTILE.length] as Buffer) : readingLine(matriculas[i] as string, timestamp));
        datagrams++;
        continue;
      }
      (produced[matriculas[i] as string] as number[]).push(timestamp);
      (pending[i] as number[]).push(timestamp);
      send(i);
    }
  }, TICK_MS);
});

// Late ACKs of the last readings are still in flight: give them a moment.
await new Promise((resolve) => setTimeout(resolve, 250));
const acknowledgedWhileSending = acknowledged;

// Drain phase: resend what is not acknowledged, oldest first, as meters do.
const drainEnd = Date.now() + (blast ? 0 : drainMs);
while (Date.now() < drainEnd && pending.some((list) => list.length > 0)) {
  for (let i = 0; i < count; i++) send(i);
  await new Promise((resolve) => setTimeout(resolve, 200));
}
await new Promise((resolve) => setTimeout(resolve, 300));
socket.close();
const report: SenderReport = {
  sent,
  acknowledgedWhileSending,
  datagrams,
  acknowledged,
  unacknowledged: pending.reduce((sum, list) => sum + list.length, 0),
  acks,
  produced,
};
process.send?.(report, undefined, {}, () => process.exit(0));
