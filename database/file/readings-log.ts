/**
 * The readings log: an append-only text file, oldest first, one reading per
 * line (`2026-11-20T23:40:00.000Z;13456789;1302`).
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { formatRegister, parseRegister } from '../../protocol/decimal.js';
import { isMatricula, type Reading } from '../../protocol/meter-protocol.js';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../protocol/timestamp.js';

const LF = 0x0a;
const READ_CHUNK_BYTES = 1 << 20;

export function formatLogLine(reading: Reading): string {
  return `${formatIsoTimestamp(reading.timestamp)};${reading.matricula};${formatRegister(reading.consumo)}\n`;
}

export function parseLogLine(line: string): Reading | undefined {
  const fields = line.split(';');
  if (fields.length !== 3) return undefined;
  const [timestampText, matricula, consumoText] = fields as [string, string, string];
  const timestamp = parseIsoTimestamp(timestampText);
  const consumo = parseRegister(consumoText);
  if (timestamp === undefined || consumo === undefined || !isMatricula(matricula)) return undefined;
  return { matricula, timestamp, consumo };
}

export type LogEntry =
  | { readonly kind: 'reading'; readonly reading: Reading }
  /** A complete line that is not a reading. */
  | { readonly kind: 'unreadable'; readonly offset: number }
  /** Bytes after the last line end: a write cut short by a crash. */
  | { readonly kind: 'torn'; readonly offset: number; readonly bytes: number };

/**
 * Reads a log file front to back, yielding the entries of each chunk read
 * (about 1 MiB), so that memory stays flat however long the log.
 */
export async function* readLog(path: string): AsyncGenerator<LogEntry[]> {
  let offset = 0;
  let partial: Buffer | undefined;
  let partialOffset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    const data = partial === undefined ? chunk : Buffer.concat([partial, chunk]);
    const dataOffset = partial === undefined ? offset : partialOffset;
    partial = undefined;
    const entries: LogEntry[] = [];
    let start = 0;
    for (let lf = data.indexOf(LF); lf !== -1; lf = data.indexOf(LF, start)) {
      const reading = parseLogLine(data.toString('latin1', start, lf));
      entries.push(reading === undefined ? { kind: 'unreadable', offset: dataOffset + start } : { kind: 'reading', reading });
      start = lf + 1;
    }
    yield entries;
    if (start < data.length) {
      partial = Buffer.from(data.subarray(start));
      partialOffset = dataOffset + start;
    }
    offset += chunk.length;
  }
  if (partial !== undefined) yield [{ kind: 'torn', offset: partialOffset, bytes: partial.length }];
}

/** Writes readings at `position` (the end of the log) and fdatasyncs them; returns the bytes written. */
export async function appendToLog(handle: FileHandle, position: number, readings: readonly Reading[]): Promise<number> {
  const bytes = Buffer.from(readings.map(formatLogLine).join(''), 'latin1');
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
  await handle.datasync();
  return bytes.length;
}
