/**
 * The readings log: an append-only text file, oldest first, one reading per
 * line (`2026-11-20T23:40:00.000Z;13456789;1302`). Writes are group
 * committed: everything queued while one write + fdatasync runs goes out
 * together in the next one.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { formatRegister, parseRegister } from '../../protocol/decimal.js';
import { isMatricula, type Reading } from '../../protocol/meter-protocol.js';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../protocol/timestamp.js';
import { StoreError } from '../store.js';

const LF = 0x0a;
/** Skipped lines reported one by one at start-up before only a count is logged. */
const MAX_SKIPPED_LINES_LOGGED = 10;

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

export interface LoadSummary {
  readonly lines: number;
  readonly skipped: number;
  readonly tornBytes: number;
}

/**
 * Reads every line of the log, oldest first, and cuts off a torn last line
 * (a crash in the middle of a write) so that appends start on a line
 * boundary. Lines that do not parse are skipped and logged, never fatal.
 */
export async function loadLog(
  handle: FileHandle,
  path: string,
  logger: Logger,
  onReading: (reading: Reading) => void,
): Promise<{ readonly summary: LoadSummary; readonly size: number }> {
  let lines = 0;
  let skipped = 0;
  let offset = 0;
  let lineStartOffset = 0;
  let partial: Buffer | undefined;

  const handleLine = (bytes: Buffer, lineOffset: number): void => {
    const reading = parseLogLine(bytes.toString('latin1'));
    if (reading === undefined) {
      skipped++;
      if (skipped <= MAX_SKIPPED_LINES_LOGGED) logger.warn({ path, offset: lineOffset }, 'skipping unreadable line in readings log');
      return;
    }
    lines++;
    onReading(reading);
  };

  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let data = chunk;
    let dataOffset = offset;
    if (partial !== undefined) {
      data = Buffer.concat([partial, chunk]);
      dataOffset = lineStartOffset;
      partial = undefined;
    }
    let start = 0;
    for (let lf = data.indexOf(LF); lf !== -1; lf = data.indexOf(LF, start)) {
      handleLine(data.subarray(start, lf), dataOffset + start);
      start = lf + 1;
    }
    if (start < data.length) {
      partial = Buffer.from(data.subarray(start));
      lineStartOffset = dataOffset + start;
    }
    offset += chunk.length;
  }
  if (skipped > MAX_SKIPPED_LINES_LOGGED) logger.warn({ path, skipped }, 'unreadable lines in readings log were skipped');

  let tornBytes = 0;
  if (partial !== undefined) {
    tornBytes = partial.length;
    await handle.truncate(lineStartOffset);
    await handle.datasync();
    logger.warn({ path, offset: lineStartOffset, bytes: tornBytes }, 'cut off a torn last line in readings log (crash during a write)');
  }
  return { summary: { lines, skipped, tornBytes }, size: offset - tornBytes };
}

interface Batch {
  readonly text: string[];
  readonly readings: Reading[];
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failed batch nobody awaits must not become an unhandled rejection.
  done.catch(() => undefined);
  return { text: [], readings: [], done, resolve, reject };
}

export interface LogWriterEvents {
  /** Called with the readings of a batch once they are durable, in order. */
  onDurable(readings: readonly Reading[]): void;
  /** Called with the readings of every batch that will not be written (failure). */
  onAbandoned(readings: readonly Reading[]): void;
}

/** Appends lines with group commit; one writer per file. */
export class LogWriter {
  private readonly handle: FileHandle;
  private readonly events: LogWriterEvents;
  private size: number;
  private queued: Batch | undefined;
  private inFlight: Batch | undefined;

  constructor(handle: FileHandle, size: number, events: LogWriterEvents) {
    this.handle = handle;
    this.size = size;
    this.events = events;
  }

  /** Queues one reading for the next commit. */
  enqueue(reading: Reading): void {
    this.queued ??= newBatch();
    this.queued.text.push(formatLogLine(reading));
    this.queued.readings.push(reading);
    if (this.inFlight === undefined) queueMicrotask(() => this.commitNext());
  }

  /** Resolves once everything enqueued so far is durable; rejects if its batch failed. */
  flushed(): Promise<void> {
    return (this.queued ?? this.inFlight)?.done ?? Promise.resolve();
  }

  private commitNext(): void {
    if (this.inFlight !== undefined || this.queued === undefined) return;
    const batch = this.queued;
    this.queued = undefined;
    this.inFlight = batch;
    void this.write(batch).finally(() => {
      this.inFlight = undefined;
      this.commitNext();
    });
  }

  private async write(batch: Batch): Promise<void> {
    const bytes = Buffer.from(batch.text.join(''), 'latin1');
    try {
      let written = 0;
      while (written < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written, this.size + written);
        written += bytesWritten;
      }
      await this.handle.datasync();
    } catch (error) {
      await this.handle.truncate(this.size).catch(() => undefined);
      // Later batches were accepted on the assumption that this one lands:
      // fail them too, so that every meter resends from its oldest un-acked reading.
      const abandoned = [batch, ...(this.queued === undefined ? [] : [this.queued])];
      this.queued = undefined;
      const failure = new StoreError('UNAVAILABLE', `could not write the readings log: ${(error as Error).message}`, { cause: error });
      for (const failed of abandoned) {
        this.events.onAbandoned(failed.readings);
        failed.reject(failure);
      }
      return;
    }
    this.size += bytes.length;
    this.events.onDurable(batch.readings);
    batch.resolve();
  }
}
