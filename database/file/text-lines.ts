/**
 * Reads a small text data file (customers, password hashes) line by line
 * through a stream, never as one string: a file of any size, even one huge
 * line, costs memory for one line of at most `maxLineBytes`. Longer lines
 * are reported by number and skipped unread.
 */
import { constants as fsConstants, createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

const LF = 0x0a;

export interface TextLines {
  /** Lines (without LF), with their 1-based numbers. */
  readonly lines: Array<{ readonly number: number; readonly text: string }>;
  /** 1-based numbers of lines longer than the limit. */
  readonly overlong: number[];
}

/** The file's lines; a missing file has none. Never follows a symlink (ELOOP). */
export async function readTextLines(path: string, maxLineBytes: number, encoding: BufferEncoding): Promise<TextLines> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], overlong: [] };
    throw error;
  }
  const lines: TextLines['lines'] = [];
  const overlong: number[] = [];
  let number = 1;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  const finish = (): void => {
    if (skipping) overlong.push(number);
    else if (pendingBytes > 0 || pending.length > 0) lines.push({ number, text: Buffer.concat(pending, pendingBytes).toString(encoding) });
    number++;
    pending = [];
    pendingBytes = 0;
    skipping = false;
  };
  for await (const chunk of createReadStream('', { fd: handle, highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
      if (!skipping) {
        pending.push(chunk.subarray(start, lf));
        pendingBytes += lf - start;
        if (pendingBytes > maxLineBytes) skipping = true;
      }
      finish();
      start = lf + 1;
    }
    if (start < chunk.length && !skipping) {
      pending.push(Buffer.from(chunk.subarray(start)));
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) {
        skipping = true;
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0 || skipping) finish();
  return { lines, overlong };
}
