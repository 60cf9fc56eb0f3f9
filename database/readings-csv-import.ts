/**
 * `npm run import -- --medicoes FILE` with a readings CSV (protocol/readings-csv.ts,
 * what `/medicoes?formato=csv` exports): streamed in bounded memory (a chunk
 * and a batch at a time, whatever the file's size), each reading through the
 * timestamp rules of the live ingest and the store's admission and quality
 * rules, as if its meter had sent it.
 *
 * Admission wants each meter's readings oldest first; the export writes them
 * newest first. The file's order is read from its first lines, and a file
 * written newest first is read from its end backwards, so either imports
 * whole without sorting it in memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { isReadingsCsvHeader, parseReadingsCsvLine, type CsvLineProblem } from '../protocol/readings-csv.js';
import type { Reading } from '../protocol/meter-protocol.js';
import { timestampRefusal, type ReadingOutcome, type TimestampRules } from '../domain/readings/admission.js';
import { qualityFlags } from '../domain/readings/quality.js';
import type { Store } from './store.js';

/** Bytes read per call. */
const CHUNK_BYTES = 1 << 20;
/** Readings handed to the store per call. */
const BATCH = 10_000;
/** A line longer than this is not read into memory: it is unreadable whatever it holds. */
const MAX_LINE_BYTES = 4096;
/** Unreadable lines named in the summary (the others are counted). */
const NAMED_PROBLEMS = 20;

/** The file is not a readings CSV (its first line is not the header). */
export class CsvFileError extends Error {}

export type CsvOutcome = ReadingOutcome | 'futura' | 'antiga';

export interface CsvImportSummary {
  readonly order: 'mais_antiga_primeiro' | 'mais_recente_primeiro';
  /** Data lines (not the header, not blank ones). */
  readonly lines: number;
  readonly outcomes: Readonly<Partial<Record<CsvOutcome, number>>>;
  readonly unreadable: number;
  /** The first unreadable lines, by 1-based line number. */
  readonly problems: ReadonlyArray<{ readonly line: number; readonly problem: CsvLineProblem }>;
  /** Readings stored whose quality, judged here, is not what the file's `qualidade` says (judged elsewhere, or with other rules). */
  readonly qualityDiffers: number;
}

export interface CsvImportOptions {
  readonly timestampRules: TimestampRules;
  readonly now: number;
  /** Told every batch: bytes done of the total, data lines read. */
  readonly progress?: ((done: number, total: number, lines: number) => void) | undefined;
}

interface Line {
  /** undefined: longer than MAX_LINE_BYTES. */
  readonly text: string | undefined;
}

/** Lines of bytes [start, end) of the file, first to last; a last line without its newline counts. */
async function* forward(handle: FileHandle, start: number, end: number, done: (bytes: number) => void): AsyncGenerator<Line> {
  let carry: Buffer = Buffer.alloc(0);
  let overlong = false;
  for (let at = start; at < end; ) {
    const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, end - at));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, at);
    if (bytesRead === 0) break;
    at += bytesRead;
    done(at - start);
    let buffer = carry.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
    let newline = buffer.indexOf(0x0a);
    while (newline !== -1) {
      yield { text: overlong ? undefined : buffer.toString('utf8', 0, newline) };
      overlong = false;
      buffer = buffer.subarray(newline + 1);
      newline = buffer.indexOf(0x0a);
    }
    if (buffer.length > MAX_LINE_BYTES) {
      overlong = true;
      buffer = Buffer.alloc(0);
    }
    carry = Buffer.from(buffer);
  }
  if (carry.length > 0 || overlong) yield { text: overlong ? undefined : carry.toString('utf8') };
}

/** Lines of bytes [start, end) of the file, last to first. */
async function* backward(handle: FileHandle, start: number, end: number, done: (bytes: number) => void): AsyncGenerator<Line> {
  let carry: Buffer = Buffer.alloc(0);
  let overlong = false;
  let at = end;
  // A newline that ends the file ends its last line; it starts no empty one.
  const last = Buffer.alloc(1);
  if (end > start && (await handle.read(last, 0, 1, end - 1)).bytesRead === 1 && last[0] === 0x0a) at = end - 1;
  while (at > start) {
    const size = Math.min(CHUNK_BYTES, at - start);
    const chunk = Buffer.alloc(size);
    await handle.read(chunk, 0, size, at - size);
    at -= size;
    done(end - at);
    let buffer = carry.length === 0 ? chunk : Buffer.concat([chunk, carry]);
    let newline = buffer.lastIndexOf(0x0a);
    while (newline !== -1) {
      yield { text: overlong ? undefined : buffer.toString('utf8', newline + 1) };
      overlong = false;
      buffer = buffer.subarray(0, newline);
      newline = buffer.lastIndexOf(0x0a);
    }
    if (buffer.length > MAX_LINE_BYTES) {
      overlong = true;
      buffer = Buffer.alloc(0);
    }
    carry = Buffer.from(buffer);
  }
  if (carry.length > 0 || overlong) yield { text: overlong ? undefined : carry.toString('utf8') };
}

/** The header's length in bytes (with its newline) and whether the data lines that follow are newest first. */
async function readHead(handle: FileHandle, size: number): Promise<{ headerBytes: number; newestFirst: boolean }> {
  const head = Buffer.alloc(Math.min(CHUNK_BYTES, size));
  await handle.read(head, 0, head.length, 0);
  const newline = head.indexOf(0x0a);
  const first = head.toString('utf8', 0, newline === -1 ? head.length : newline);
  if (!isReadingsCsvHeader(first)) throw new CsvFileError(`its first line is not the readings CSV header (${first.slice(0, 60)}${first.length > 60 ? '...' : ''}); expected data_hora,matricula,consumo,... as /medicoes?formato=csv writes it`);
  // The order: the first two readings of one meter, one after the other, with different instants.
  let previous: Reading | undefined;
  for (const text of head.toString('utf8', newline + 1).split('\n').slice(0, -1)) {
    const parsed = parseReadingsCsvLine(text);
    if (!parsed.ok) continue;
    if (previous !== undefined && previous.matricula === parsed.reading.matricula && previous.timestamp !== parsed.reading.timestamp) {
      return { headerBytes: newline + 1, newestFirst: parsed.reading.timestamp < previous.timestamp };
    }
    previous = parsed.reading;
  }
  return { headerBytes: newline === -1 ? head.length : newline + 1, newestFirst: false };
}

/** Imports the readings CSV at `path` into `store`; resolves what became of each line. */
export async function importReadingsCsv(store: Store, path: string, options: CsvImportOptions): Promise<CsvImportSummary> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const { headerBytes, newestFirst } = await readHead(handle, size);
    const outcomes: Partial<Record<CsvOutcome, number>> = {};
    const count = (outcome: CsvOutcome): void => {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    };
    // Line positions counted in reading order; turned into line numbers once the total is known.
    const problems: Array<{ position: number; problem: CsvLineProblem }> = [];
    let unreadable = 0;
    let qualityDiffers = 0;
    let position = 0;
    let lines = 0;
    let batch: Reading[] = [];
    let flagsOfBatch: string[] = [];
    let bytesDone = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const result = await store.append(batch);
      result.outcomes.forEach((outcome, index) => {
        count(outcome);
        if (outcome === 'stored' && qualityFlags(result.qualities[index] ?? 0).join('+') !== flagsOfBatch[index]) qualityDiffers++;
      });
      batch = [];
      flagsOfBatch = [];
      options.progress?.(bytesDone, size - headerBytes, lines);
    };
    const read = newestFirst ? backward : forward;
    for await (const line of read(handle, headerBytes, size, (bytes) => (bytesDone = bytes))) {
      position++;
      if (line.text !== undefined && line.text.replace(/\r$/, '') === '') continue;
      lines++;
      const parsed = line.text === undefined ? ({ ok: false, problem: 'linha_longa' } as const) : parseReadingsCsvLine(line.text);
      if (!parsed.ok) {
        unreadable++;
        if (problems.length < NAMED_PROBLEMS || newestFirst) problems.push({ position, problem: parsed.problem });
        if (newestFirst && problems.length > NAMED_PROBLEMS) problems.shift();
        continue;
      }
      const refusal = timestampRefusal(parsed.reading.timestamp, options.now, options.timestampRules);
      if (refusal !== undefined) {
        count(refusal);
        continue;
      }
      batch.push(parsed.reading);
      flagsOfBatch.push(parsed.flags.join('+'));
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    // Read backwards, the position counts from the end: the file's first named problems are the last ones met.
    const named = (newestFirst ? problems.map(({ position: p, problem }) => ({ line: position - p + 2, problem })).reverse() : problems.map(({ position: p, problem }) => ({ line: p + 1, problem }))).slice(0, NAMED_PROBLEMS);
    return { order: newestFirst ? 'mais_recente_primeiro' : 'mais_antiga_primeiro', lines, outcomes, unreadable, problems: named, qualityDiffers };
  } finally {
    await handle.close();
  }
}

/** Whether the file at `path` starts with the readings CSV's header (else it is the original's medicoes.txt). */
export async function isReadingsCsvFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const text = head.toString('utf8', 0, bytesRead);
    return isReadingsCsvHeader(text.split('\n')[0] ?? '');
  } finally {
    await handle.close();
  }
}
