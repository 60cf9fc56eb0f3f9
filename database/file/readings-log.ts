/**
 * The readings log: an append-only text file, oldest first, one reading per
 * line (`2026-11-20T23:40:00.000Z;13456789;1302`). A reading that carried
 * electrical quantities or is not `valida` has two more fields, either
 * empty: its quantities (protocol/quantities.ts) and its quality flags
 * (domain/readings/quality.ts):
 * `...;1302;V=219.8,A=5.12,kW=1.05,FP=0.93,Hz=60.01;` or `...;1302;;pico`.
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { formatRegister, parseRegister } from '../../protocol/decimal.js';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { formatQuantities, parseQuantities, type Quantities } from '../../protocol/quantities.js';
import { formatQuality, parseQuality, VALID, type QualityMask } from '../../domain/readings/quality.js';
import type { StoredReading } from '../store.js';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../protocol/timestamp.js';

const LF = 0x0a;
const READ_CHUNK_BYTES = 1 << 20;

export function formatLogLine(reading: StoredReading): string {
  const quantities = formatQuantities(reading.quantities);
  const line = `${formatIsoTimestamp(reading.timestamp)};${reading.matricula};${formatRegister(reading.consumo)}`;
  const quality = reading.quality ?? VALID;
  if (quantities === undefined && quality === VALID) return line + '\n';
  return `${line};${quantities ?? ''};${formatQuality(quality)}\n`;
}

/** The fields after the register (`<grandezas>;<qualidade>`, either empty); undefined when malformed. */
export function parseLogExtras(text: string): { quantities: Quantities | undefined; quality: QualityMask } | undefined {
  const separator = text.indexOf(';');
  if (separator === -1) return undefined;
  const quantitiesText = text.slice(0, separator);
  const quantities = quantitiesText === '' ? undefined : parseQuantities(quantitiesText);
  const quality = parseQuality(text.slice(separator + 1));
  if ((quantitiesText !== '' && quantities === undefined) || quality === undefined) return undefined;
  return { quantities, quality };
}

export function parseLogLine(line: string): StoredReading | undefined {
  const first = line.indexOf(';');
  const second = line.indexOf(';', first + 1);
  const third = line.indexOf(';', second + 1);
  if (first === -1 || second === -1) return undefined;
  const timestamp = parseIsoTimestamp(line.slice(0, first));
  const matricula = line.slice(first + 1, second);
  const consumo = parseRegister(third === -1 ? line.slice(second + 1) : line.slice(second + 1, third));
  if (timestamp === undefined || consumo === undefined || !isMatricula(matricula)) return undefined;
  if (third === -1) return { matricula, timestamp, consumo };
  const extras = parseLogExtras(line.slice(third + 1));
  if (extras === undefined) return undefined;
  const reading: StoredReading = extras.quality === VALID ? { matricula, timestamp, consumo } : { matricula, timestamp, consumo, quality: extras.quality };
  return extras.quantities === undefined ? reading : { ...reading, quantities: extras.quantities };
}

export type LogChunk =
  /** Complete lines, each ending in LF, as latin1 text (the log is ASCII); `offset` is the file offset of the first. */
  | { readonly kind: 'lines'; readonly text: string; readonly offset: number }
  /** Bytes after the last line end: a write cut short by a crash. */
  | { readonly kind: 'torn'; readonly offset: number; readonly bytes: number };

/**
 * Reads a log front to back in chunks of about 1 MiB, each cut at its last
 * line end, so memory stays flat however long the log: one string per
 * chunk, never one read per line.
 */
export async function* readLogChunks(path: string): AsyncGenerator<LogChunk> {
  let offset = 0;
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    const data = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    const end = data.lastIndexOf(LF) + 1;
    if (end > 0) {
      yield { kind: 'lines', text: data.toString('latin1', 0, end), offset };
      offset += end;
    }
    carry = end < data.length ? Buffer.from(data.subarray(end)) : undefined;
  }
  if (carry !== undefined) yield { kind: 'torn', offset, bytes: carry.length };
}

export type LogEntry =
  | { readonly kind: 'reading'; readonly reading: StoredReading }
  /** A complete line that is not a reading. */
  | { readonly kind: 'unreadable'; readonly offset: number }
  | { readonly kind: 'torn'; readonly offset: number; readonly bytes: number };

/** The log as parsed readings, a chunk's worth at a time. */
export async function* readLog(path: string): AsyncGenerator<LogEntry[]> {
  for await (const chunk of readLogChunks(path)) {
    if (chunk.kind === 'torn') {
      yield [chunk];
      continue;
    }
    const entries: LogEntry[] = [];
    let offset = chunk.offset;
    forEachLine(chunk.text, (line) => {
      const reading = parseLogLine(line);
      entries.push(reading === undefined ? { kind: 'unreadable', offset } : { kind: 'reading', reading });
      offset += line.length + 1;
    });
    yield entries;
  }
}

/** Calls `visit` with every line of LF-terminated text (without the LF). */
export function forEachLine(text: string, visit: (line: string) => void): void {
  let start = 0;
  for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', start)) {
    visit(text.slice(start, lf));
    start = lf + 1;
  }
}

/** Writes log lines at `position` (the end of the log) and fdatasyncs them; returns the bytes written. */
export async function appendToLog(handle: FileHandle, position: number, lines: readonly string[]): Promise<number> {
  const bytes = Buffer.from(lines.join(''), 'latin1');
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
  await handle.datasync();
  return bytes.length;
}
