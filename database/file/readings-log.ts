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
  | { readonly kind: 'reading'; readonly reading: Reading }
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
