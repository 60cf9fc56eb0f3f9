/**
 * A sparse time index of the readings log: the log cut into blocks of
 * about 1 MiB (on line ends), each with the oldest and newest timestamp it
 * holds. A history query reads only the blocks that overlap its time range,
 * newest block first. A few dozen bytes per MiB of log.
 */

/** A block stops growing once it holds this many bytes. */
export const BLOCK_BYTES = 1 << 20;

export interface LogBlock {
  readonly offset: number;
  length: number;
  oldest: number;
  newest: number;
}

export class LogBlocks {
  private readonly blocks: LogBlock[] = [];

  /** Records `length` bytes written at `offset` (the end of the log) holding readings from `oldest` to `newest`; they join the last block while it has room. */
  add(offset: number, length: number, oldest: number, newest: number): void {
    const last = this.blocks[this.blocks.length - 1];
    if (last !== undefined && last.offset + last.length === offset && last.length + length <= BLOCK_BYTES) {
      last.length += length;
      last.oldest = Math.min(last.oldest, oldest);
      last.newest = Math.max(last.newest, newest);
    } else {
      this.blocks.push({ offset, length, oldest, newest });
    }
  }

  /** Records log lines written at `offset` (the end of the log), one per reading, cut into blocks on line ends. */
  addLines(offset: number, lines: readonly string[], readings: ReadonlyArray<{ readonly timestamp: number }>): void {
    const last = this.blocks[this.blocks.length - 1];
    // Room left in the last block, if these lines continue it.
    let room = last !== undefined && last.offset + last.length === offset && last.length < BLOCK_BYTES ? BLOCK_BYTES - last.length : BLOCK_BYTES;
    let start = offset;
    let length = 0;
    let oldest = Number.POSITIVE_INFINITY;
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < lines.length; i++) {
      const lineLength = (lines[i] as string).length;
      if (length > 0 && length + lineLength > room) {
        this.add(start, length, oldest, newest);
        start += length;
        length = 0;
        room = BLOCK_BYTES;
        oldest = Number.POSITIVE_INFINITY;
        newest = Number.NEGATIVE_INFINITY;
      }
      const { timestamp } = readings[i] as { timestamp: number };
      if (timestamp < oldest) oldest = timestamp;
      if (timestamp > newest) newest = timestamp;
      length += lineLength;
    }
    if (length > 0) this.add(start, length, oldest, newest);
  }

  /** Blocks holding any timestamp in [from, to), newest block (end of the log) first. */
  *overlapping(from: number, to: number): Generator<LogBlock> {
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const block = this.blocks[i] as LogBlock;
      if (block.newest >= from && block.oldest < to) yield block;
    }
  }

  /** Every block, oldest first (for tests and diagnostics). */
  all(): readonly LogBlock[] {
    return this.blocks;
  }
}
