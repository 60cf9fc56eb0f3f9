/**
 * The file store's daily rollups (domain/readings/rollups.ts rollUpDays):
 * per meter and local day of one time zone (the store's `dayZone`, the
 * server's TZ_LEGADO), on disk in DATA_DIR/consumo-dias/:
 * - `AAAA-MM.bin`: per local month, a region of MONTH_DAYS fixed records per
 *   meter slot (the slots of consumo-horas/medidores.txt), record i being
 *   the month's day i + 1; a meter's month is one read of 2 KiB;
 * - `fuso`: the zone the records are days of, written once they all are.
 *
 * A day's record is a function of its hours' records (hour-rollups.ts
 * writes it again after merging any of them), never merged into: so a crash
 * between writing hours and days is repaired by writing the days of the
 * lines replayed after the checkpoint again, whatever each record held. A
 * missing `fuso`, or another zone than the store's, makes every day be
 * written again from the hours at start-up.
 */
import { closeSync, constants as fsConstants, fdatasync, openSync, readSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyRollup, mergeRollups, type DayRollup } from '../../domain/readings/rollups.js';
import { nextPeriodStart, periodStart } from '../../domain/readings/periods.js';
import { wallClockInstant, zoneOffset } from '../../protocol/timestamp.js';
import { DATA_FILE_MODE } from './customers-file.js';
import { decodeRecord, encodeRecord, RECORD_BYTES } from './rollup-record.js';
import { syncDirectory } from './sync-directory.js';

export const DAY_ROLLUPS_DIR = 'consumo-dias';
const ZONE_FILE = 'fuso';
/** Records per slot in a month file: 31 days and one spare, so a region is 2 KiB (two to a page). */
export const MONTH_DAYS = 32;
const REGION_BYTES = MONTH_DAYS * RECORD_BYTES;
/** Day starts remembered by hour (a flush asks for the day of each hour it writes). */
const DAY_CACHE_LIMIT = 100_000;

const HOUR_MS = 3_600_000;
const syncFile = promisify(fdatasync);

/** Consecutive days of one local month: its file, the first day's record and every day's first instant. */
interface DayRun {
  readonly month: string;
  readonly index: number;
  readonly starts: number[];
}

export class DayRollupFiles {
  readonly zone: string;
  private readonly dir: string;
  /** Month files by `AAAA-MM`, open for reading and writing. */
  private readonly months = new Map<string, number>();
  private readonly written = new Set<number>();
  private newMonthFiles = false;
  private readonly dayOfHour = new Map<number, number>();
  private readonly nextOfDay = new Map<number, number>();
  private readonly places = new Map<number, { month: string; index: number }>();
  private lastLayout: { from: number; to: number; runs: readonly DayRun[] } | undefined;

  private constructor(dir: string, zone: string) {
    this.dir = dir;
    this.zone = zone;
  }

  /** Opens the directory; `current` is false when its days are of no zone or another (it is then emptied: every day must be written). */
  static async open(dataDir: string, zone: string): Promise<{ days: DayRollupFiles; current: boolean }> {
    const dir = join(dataDir, DAY_ROLLUPS_DIR);
    const saved = await readFile(join(dir, ZONE_FILE), 'utf8').catch(() => undefined);
    const current = saved === `${zone}\n`;
    if (!current) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const days = new DayRollupFiles(dir, zone);
    if (current) for (const name of await readdir(dir)) if (/^\d{4}-\d{2}\.bin$/.test(name)) days.file(name.slice(0, 7), false);
    return { days, current };
  }

  /** The first instant of the local day holding `hour` (a whole UTC hour). */
  dayOf(hour: number): number {
    return remembered(this.dayOfHour, hour, () => periodStart(hour, 'dia', this.zone));
  }

  nextDay(start: number): number {
    return remembered(this.nextOfDay, start, () => nextPeriodStart(start, 'dia', this.zone));
  }

  /**
   * Writes the slot's records of these days (an empty rollup clears its
   * day), one write per local month. The records between two of them in a
   * month are cleared too: callers give one day, or every day with readings
   * of a month being rebuilt.
   */
  write(slot: number, days: readonly DayRollup[]): void {
    const byMonth = new Map<string, Array<{ index: number; day: DayRollup }>>();
    for (const day of days) {
      const { month, index } = this.place(day.start);
      let list = byMonth.get(month);
      if (list === undefined) byMonth.set(month, (list = []));
      list.push({ index, day });
    }
    for (const [month, list] of byMonth) {
      let low = MONTH_DAYS;
      let high = -1;
      for (const { index } of list) {
        low = Math.min(low, index);
        high = Math.max(high, index);
      }
      const buffer = Buffer.alloc((high - low + 1) * RECORD_BYTES);
      for (const { index, day } of list) if (day.readings > 0) encodeRecord(buffer, (index - low) * RECORD_BYTES, 0, day);
      const fd = this.file(month, true);
      this.written.add(fd);
      const position = slot * REGION_BYTES + low * RECORD_BYTES;
      let done = 0;
      while (done < buffer.length) done += writeSync(fd, buffer, done, buffer.length - done, position + done);
    }
  }

  /** The slot's days starting in [from, to), oldest first, without empty days: one read per local month. */
  read(slot: number, from: number, to: number): DayRollup[] {
    const days: DayRollup[] = [];
    // Only the local months that have a file: a range of centuries costs what the data covers.
    const names = [...this.months.keys()].sort();
    if (names.length === 0) return days;
    const monthStart = (name: string, after: number): number => wallClockInstant(Date.UTC(Number(name.slice(0, 4)), Number(name.slice(5, 7)) - 1 + after, 1), this.zone);
    from = Math.max(from, monthStart(names[0] as string, 0));
    to = Math.min(to, monthStart(names[names.length - 1] as string, 1));
    for (const run of from < to ? this.layout(from, to) : []) {
      const fd = this.file(run.month, false);
      if (fd === undefined) continue;
      const buffer = Buffer.alloc(run.starts.length * RECORD_BYTES);
      let read = 0;
      const position = slot * REGION_BYTES + run.index * RECORD_BYTES;
      while (read < buffer.length) {
        const bytes = readSync(fd, buffer, read, buffer.length - read, position + read);
        if (bytes === 0) break;
        read += bytes;
      }
      for (let i = 0; i < run.starts.length; i++) {
        if (buffer.readUInt32LE(i * RECORD_BYTES + 8) === 0) continue;
        days.push(decodeRecord(buffer, i * RECORD_BYTES, run.starts[i] as number).rollup);
      }
    }
    return days;
  }

  /** The days starting in [from, to) as runs of one local month each (the last range asked is remembered: a fleet report asks every meter the same). */
  private layout(from: number, to: number): readonly DayRun[] {
    if (this.lastLayout?.from === from && this.lastLayout.to === to) return this.lastLayout.runs;
    const runs: DayRun[] = [];
    let start = this.dayOf(Math.floor(from / HOUR_MS) * HOUR_MS);
    if (start < from) start = this.nextDay(start);
    for (; start < to; start = this.nextDay(start)) {
      const { month, index } = this.place(start);
      const last = runs[runs.length - 1];
      if (last?.month === month) last.starts.push(start);
      else runs.push({ month, index, starts: [start] });
    }
    this.lastLayout = { from, to, runs };
    return runs;
  }

  /** Makes every record written since the last call durable. */
  async sync(): Promise<void> {
    // On the thread pool, as the hour files' are: an fsync on the main thread would hold every acknowledgement behind it.
    const files = [...this.written];
    this.written.clear();
    for (const fd of files) await syncFile(fd);
    if (this.newMonthFiles) {
      this.newMonthFiles = false;
      await syncDirectory(this.dir);
    }
  }

  /** Records that every day is written in this zone (after a rebuild). */
  async markCurrent(): Promise<void> {
    await this.sync();
    const temporary = join(this.dir, `${ZONE_FILE}.novo`);
    await writeFile(temporary, `${this.zone}\n`, { mode: DATA_FILE_MODE, flush: true });
    await rename(temporary, join(this.dir, ZONE_FILE));
    await syncDirectory(this.dir);
  }

  close(): void {
    for (const fd of this.months.values()) closeSync(fd);
    this.months.clear();
  }

  /** The local month file and record index of the day starting at `start`. */
  private place(start: number): { month: string; index: number } {
    return remembered(this.places, start, () => {
      const wall = new Date(start + zoneOffset(start, this.zone)).toISOString();
      return { month: wall.slice(0, 7), index: Number(wall.slice(8, 10)) - 1 };
    });
  }

  private file(month: string, create: true): number;
  private file(month: string, create: false): number | undefined;
  private file(month: string, create: boolean): number | undefined {
    let fd = this.months.get(month);
    if (fd !== undefined) return fd;
    try {
      fd = openSync(join(this.dir, `${month}.bin`), fsConstants.O_RDWR | fsConstants.O_NOFOLLOW | (create ? fsConstants.O_CREAT : 0), DATA_FILE_MODE);
    } catch (error) {
      if (!create && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    this.months.set(month, fd);
    if (create) this.newMonthFiles = true;
    return fd;
  }
}

/** `compute(key)` remembered in `cache` (emptied past DAY_CACHE_LIMIT entries): the calendar of a few hundred days, asked millions of times. */
function remembered<T>(cache: Map<number, T>, key: number, compute: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= DAY_CACHE_LIMIT) cache.clear();
    value = compute();
    cache.set(key, value);
  }
  return value;
}

/** The day rollup of hours (any order) of one day starting at `start`: empty when they hold no reading. */
export function dayFromHours(start: number, hours: Iterable<DayRollup>): DayRollup {
  let day = emptyRollup(start);
  for (const hour of hours) if (hour.readings > 0) day = mergeRollups(day, hour);
  return day;
}
