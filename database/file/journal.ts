/**
 * A JSON-lines journal: records appended one per line and fdatasync'ed
 * before the write resolves, read back whole at start-up (small aggregates:
 * tariffs, billing parameters, flags, invoices). A torn or foreign line is
 * skipped and counted, never fatal. Created readable by its owner only.
 */
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { APPEND_FLAGS, DATA_FILE_MODE } from './customers-file.js';
import { readTextLines } from './text-lines.js';
import { StoreError } from '../store.js';

/** No record of ours is longer. */
const MAX_RECORD_BYTES = 1 << 20;

export async function readJournal<T>(path: string, parse: (value: unknown) => T | undefined, logger: Logger): Promise<T[]> {
  const { lines, overlong } = await readTextLines(path, MAX_RECORD_BYTES, 'utf8');
  const records: T[] = [];
  let bad = overlong.length;
  for (const { text } of lines) {
    if (text === '') continue;
    let record: T | undefined;
    try {
      record = parse(JSON.parse(text));
    } catch {
      record = undefined;
    }
    if (record === undefined) bad++;
    else records.push(record);
  }
  if (bad > 0) logger.warn({ path, lines: bad }, 'skipping unreadable journal lines');
  return records;
}

export async function appendJournal(path: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  const handle = await open(path, APPEND_FLAGS, DATA_FILE_MODE);
  try {
    // A line torn by a crash must not swallow the next record: start on a line of its own.
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    const torn = size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
    await handle.writeFile((torn ? '\n' : '') + records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** A journal a store writes to: one write at a time, in call order, failures as StoreError UNAVAILABLE naming the file. */
export class JournalWriter {
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly name: string,
  ) {}

  /** Runs `work` after every earlier call has finished: the journal's order is the order answers were given. */
  serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writing.then(work);
    this.writing = result.catch(() => undefined);
    return result;
  }

  async append(records: readonly unknown[]): Promise<void> {
    try {
      await appendJournal(this.path, records);
    } catch (error) {
      throw new StoreError('UNAVAILABLE', `could not write ${this.name}: ${(error as Error).message}`, { cause: error });
    }
  }
}
