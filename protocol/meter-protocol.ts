/**
 * The meter <-> server datagram protocol (see protocol/README.md).
 *
 * Meter -> server, one reading per line:  MEDICAO;<matricula>;<timestamp>;<consumo>[;<grandezas>][;<hmac>]
 * Server -> meter, one answer per line:   ACK;<matricula>;<timestamp>[;<hmac>]
 *                                         REJEITADA;<matricula>;<timestamp>;<motivo>[;<hmac>]
 *
 * Also accepted from meters: the original system's JSON datagram
 * {"matricula": 13456789, "consumo_atual": 1302, "data_hora": "05-03-2023 16:00:00"}.
 */
import { z } from 'zod';
import { formatRegister, parseRegister } from './decimal.js';
import { formatQuantities, looksLikeQuantities, parseQuantities, type Quantities } from './quantities.js';
import { formatIsoTimestamp, parseIsoTimestamp, parseLegacyTimestamp } from './timestamp.js';

/** Largest datagram either side sends or accepts, in bytes. */
export const MAX_DATAGRAM_BYTES = 1400;
export const READING_TAG = 'MEDICAO';
export const ACK_TAG = 'ACK';
export const REJECTION_TAG = 'REJEITADA';
/** A refusal's reason: lower-case letters and underscores (the list is in domain/readings/admission.ts). */
const REASON_PATTERN = /^[a-z_]{1,32}$/;
const FIELD_SEPARATOR = ';';
const LINE_SEPARATOR = '\n';

/** An HMAC-SHA256 as 64 lower-case hex digits (see meter-auth.ts). */
const MAC_PATTERN = /^[0-9a-f]{64}$/;

/** Whether `text` has the form of a reading line's MAC. */
export function isMac(text: string): boolean {
  return MAC_PATTERN.test(text);
}

/** One reading of a meter's cumulative register. */
export interface Reading {
  /** 1 to 20 ASCII digits; leading zeros are significant. */
  readonly matricula: string;
  /** Milliseconds since the Unix epoch (UTC). */
  readonly timestamp: number;
  /** The register in thousandths of a unit (`1302.5` is `1302500n`). */
  readonly consumo: bigint;
  /** Instantaneous electrical quantities measured with it, when the meter sends them. */
  readonly quantities?: Quantities | undefined;
}

/** A reading as received: with the MAC it carried, if any, and the exact text that MAC covers. */
export interface ReceivedReading extends Reading {
  readonly signature?: { readonly content: string; readonly mac: string } | undefined;
}

/** The server's cumulative acknowledgement: everything of `matricula` up to `timestamp` is stored. */
export interface Ack {
  readonly matricula: string;
  readonly timestamp: number;
}

/** The server's refusal of one reading: the meter should log it and not resend it. */
export interface Rejection {
  readonly matricula: string;
  readonly timestamp: number;
  readonly motivo: string;
}

/** A line the server sends a meter, with the MAC it carried, if any, and the text that MAC covers. */
export type ServerLine = (({ readonly kind: 'ack' } & Ack) | ({ readonly kind: 'rejeitada' } & Rejection)) & {
  readonly signature?: { readonly content: string; readonly mac: string } | undefined;
};

export type DatagramErrorCode =
  | 'DATAGRAM_TOO_LARGE'
  | 'EMPTY_LINE'
  | 'UNKNOWN_RECORD'
  | 'FIELD_COUNT'
  | 'INVALID_MATRICULA'
  | 'INVALID_TIMESTAMP'
  | 'INVALID_CONSUMO'
  | 'INVALID_QUANTITIES'
  | 'INVALID_SIGNATURE'
  | 'INVALID_LEGACY_JSON';

/** Why one line (1-based) of a datagram was dropped. */
export interface LineError {
  readonly line: number;
  readonly code: DatagramErrorCode;
}

export interface ParsedLines<T> {
  readonly values: T[];
  readonly errors: LineError[];
}

export interface DatagramOptions {
  /** IANA time zone of the original meters' local `data_hora`. */
  readonly legacyTimeZone: string;
}

const MAX_MATRICULA_DIGITS = 20;

/** Whether `text` is a matricula: 1 to 20 ASCII digits (checked by char code: it runs for every line received). */
export function isMatricula(text: string): boolean {
  if (text.length === 0 || text.length > MAX_MATRICULA_DIGITS) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** `MEDICAO;<matricula>;<timestamp>;<consumo>[;<grandezas>]` without the line separator. */
export function serializeReading(reading: Reading): string {
  const line = READING_TAG + FIELD_SEPARATOR + reading.matricula + FIELD_SEPARATOR + formatIsoTimestamp(reading.timestamp) + FIELD_SEPARATOR + formatRegister(reading.consumo);
  const quantities = formatQuantities(reading.quantities);
  return quantities === undefined ? line : line + FIELD_SEPARATOR + quantities;
}

/** `ACK;<matricula>;<timestamp>` without the line separator. */
export function serializeAck(ack: Ack): string {
  return [ACK_TAG, ack.matricula, formatIsoTimestamp(ack.timestamp)].join(FIELD_SEPARATOR);
}

/** `REJEITADA;<matricula>;<timestamp>;<motivo>` without the line separator. */
export function serializeRejection(rejection: Rejection): string {
  return [REJECTION_TAG, rejection.matricula, formatIsoTimestamp(rejection.timestamp), rejection.motivo].join(FIELD_SEPARATOR);
}

/**
 * Packs lines into as few datagrams as fit `maxBytes` each, in order
 * (lines joined by `\n`). A line longer than `maxBytes` is never produced
 * by this protocol's serializers; it would be sent alone.
 */
export function packLines(lines: readonly string[], maxBytes = MAX_DATAGRAM_BYTES): string[] {
  const datagrams: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current.length > 0 && Buffer.byteLength(current) + 1 + Buffer.byteLength(line) > maxBytes) {
      datagrams.push(current);
      current = '';
    }
    current = current.length > 0 ? current + LINE_SEPARATOR + line : line;
  }
  if (current.length > 0) datagrams.push(current);
  return datagrams;
}

// Readings and acks are objects, so a string result is always an error code.
type LineResult<T extends object> = T | DatagramErrorCode;

/** Most fields a reading line has: tag, matricula, timestamp, register, quantities, MAC. */
const MAX_READING_FIELDS = 6;

/**
 * One reading line. Walks the separators by index (no array of fields): it
 * runs for every line of every datagram, at up to hundreds of thousands a
 * second (test/protocol/meter-protocol.test.ts checks it against the
 * split-based reading it replaced).
 */
function parseReadingLine(line: string): LineResult<ReceivedReading> {
  if (line.length === 0) return 'EMPTY_LINE';
  const tagEnd = line.indexOf(FIELD_SEPARATOR);
  if ((tagEnd === -1 ? line.length : tagEnd) !== READING_TAG.length || !line.startsWith(READING_TAG)) return 'UNKNOWN_RECORD';
  // Where the second to fifth fields end; the line has `count` fields (counting stops past the most there may be).
  let count = 1;
  let matriculaEnd = -1;
  let timestampEnd = -1;
  let registerEnd = -1;
  let fifthEnd = -1;
  for (let separator = tagEnd; separator !== -1 && count <= MAX_READING_FIELDS; ) {
    count++;
    const next = line.indexOf(FIELD_SEPARATOR, separator + 1);
    const fieldEnd = next === -1 ? line.length : next;
    if (count === 2) matriculaEnd = fieldEnd;
    else if (count === 3) timestampEnd = fieldEnd;
    else if (count === 4) registerEnd = fieldEnd;
    else if (count === 5) fifthEnd = fieldEnd;
    separator = next;
  }
  if (count < 4 || count > MAX_READING_FIELDS) return 'FIELD_COUNT';
  const matricula = line.slice(tagEnd + 1, matriculaEnd);
  const timestampText = line.slice(matriculaEnd + 1, timestampEnd);
  const consumoText = line.slice(timestampEnd + 1, registerEnd);
  // After the register: the quantities field (it has `=`), then the MAC; either may be absent.
  let quantitiesText: string | undefined;
  let mac: string | undefined;
  if (count >= 5) {
    const fifth = line.slice(registerEnd + 1, fifthEnd);
    if (looksLikeQuantities(fifth)) {
      quantitiesText = fifth;
      if (count === 6) mac = line.slice(fifthEnd + 1);
    } else {
      if (count === 6) return 'FIELD_COUNT';
      mac = fifth;
    }
  }
  if (!isMatricula(matricula)) return 'INVALID_MATRICULA';
  const timestamp = parseIsoTimestamp(timestampText);
  if (timestamp === undefined) return 'INVALID_TIMESTAMP';
  const consumo = parseRegister(consumoText);
  if (consumo === undefined) return 'INVALID_CONSUMO';
  let quantities: Quantities | undefined;
  if (quantitiesText !== undefined && (quantities = parseQuantities(quantitiesText)) === undefined) return 'INVALID_QUANTITIES';
  if (mac === undefined) return quantities === undefined ? { matricula, timestamp, consumo } : { matricula, timestamp, consumo, quantities };
  if (!isMac(mac)) return 'INVALID_SIGNATURE';
  const signature = { content: line.slice(0, line.length - mac.length - 1), mac };
  return quantities === undefined ? { matricula, timestamp, consumo, signature } : { matricula, timestamp, consumo, quantities, signature };
}

function parseServerLine(line: string): LineResult<ServerLine> {
  if (line.length === 0) return 'EMPTY_LINE';
  const fields = line.split(FIELD_SEPARATOR);
  const tag = fields[0];
  if (tag !== ACK_TAG && tag !== REJECTION_TAG) return 'UNKNOWN_RECORD';
  const unsignedCount = tag === ACK_TAG ? 3 : 4;
  if (fields.length !== unsignedCount && fields.length !== unsignedCount + 1) return 'FIELD_COUNT';
  const [, matricula = '', timestampText = ''] = fields;
  if (!isMatricula(matricula)) return 'INVALID_MATRICULA';
  const timestamp = parseIsoTimestamp(timestampText);
  if (timestamp === undefined) return 'INVALID_TIMESTAMP';
  const mac = fields.length > unsignedCount ? (fields[unsignedCount] as string) : undefined;
  if (mac !== undefined && !isMac(mac)) return 'INVALID_SIGNATURE';
  const signature = mac === undefined ? undefined : { content: line.slice(0, line.length - mac.length - 1), mac };
  if (tag === ACK_TAG) return { kind: 'ack', matricula, timestamp, signature };
  const motivo = fields[3] as string;
  if (!REASON_PATTERN.test(motivo)) return 'FIELD_COUNT';
  return { kind: 'rejeitada', matricula, timestamp, motivo, signature };
}

function parseLines<T extends object>(bytes: Uint8Array, parseLine: (line: string) => LineResult<T>): ParsedLines<T> {
  if (bytes.byteLength > MAX_DATAGRAM_BYTES) return { values: [], errors: [{ line: 0, code: 'DATAGRAM_TOO_LARGE' }] };
  // latin1 maps every byte to one char: no decoding error is possible, and
  // any non-ASCII byte then fails the ASCII-only grammar of its line.
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').split(LINE_SEPARATOR);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop(); // a trailing newline is allowed
  const values: T[] = [];
  const errors: LineError[] = [];
  lines.forEach((line, index) => {
    const result = parseLine(line);
    if (typeof result === 'string') errors.push({ line: index + 1, code: result as DatagramErrorCode });
    else values.push(result);
  });
  return { values, errors };
}

const legacyDatagramSchema = z.object({
  matricula: z.union([z.string(), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)]),
  consumo_atual: z.union([z.string(), z.number().nonnegative()]),
  data_hora: z.string(),
});

function parseLegacyDatagram(text: string, options: DatagramOptions): LineResult<Reading> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'INVALID_LEGACY_JSON';
  }
  const parsed = legacyDatagramSchema.safeParse(json);
  if (!parsed.success) return 'INVALID_LEGACY_JSON';
  const matricula = String(parsed.data.matricula);
  if (!isMatricula(matricula)) return 'INVALID_MATRICULA';
  const timestamp = parseLegacyTimestamp(parsed.data.data_hora, options.legacyTimeZone);
  if (timestamp === undefined) return 'INVALID_TIMESTAMP';
  // String(1302.5) is '1302.5'; a float like 0.30000000000000004 fails the 3-digit limit.
  const consumo = parseRegister(String(parsed.data.consumo_atual));
  if (consumo === undefined) return 'INVALID_CONSUMO';
  return { matricula, timestamp, consumo };
}

const OPEN_BRACE = 0x7b;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Parses a datagram from a meter: the line protocol, or one legacy JSON
 * reading when the datagram starts with `{`. Never throws; every line that
 * cannot be used is reported in `errors` and the others are returned.
 */
export function parseReadingDatagram(bytes: Uint8Array, options: DatagramOptions): ParsedLines<ReceivedReading> {
  let first = 0;
  while (first < bytes.byteLength && WHITESPACE.has(bytes[first] as number)) first++;
  if (bytes[first] === OPEN_BRACE && bytes.byteLength <= MAX_DATAGRAM_BYTES) {
    const result = parseLegacyDatagram(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), options);
    return typeof result === 'string' ? { values: [], errors: [{ line: 1, code: result }] } : { values: [result], errors: [] };
  }
  return parseLines(bytes, parseReadingLine);
}

/** Parses a datagram from the server: ACK and REJEITADA lines, signed or not. Never throws. */
export function parseServerDatagram(bytes: Uint8Array): ParsedLines<ServerLine> {
  return parseLines(bytes, parseServerLine);
}

/** The ACK lines of a datagram from the server (what a client that ignores refusals needs). */
export function parseAckDatagram(bytes: Uint8Array): ParsedLines<Ack> {
  const { values, errors } = parseServerDatagram(bytes);
  const acks: Ack[] = [];
  for (const line of values) if (line.kind === 'ack') acks.push({ matricula: line.matricula, timestamp: line.timestamp });
  return { values: acks, errors };
}
