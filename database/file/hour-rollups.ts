/**
 * The file store's hourly rollups (domain/readings/rollups.ts), on disk in
 * DATA_DIR/consumo-horas/:
 * - `medidores.txt`: one matricula per line; a meter's line number (from 0)
 *   is its slot in every month file;
 * - `AAAA-MM.bin`: per UTC month, a region of MONTH_HOURS fixed records per
 *   slot (sparse: a meter's region costs disk only for the pages it uses), so
 *   a meter's month is one read;
 * - `ponto`: the log offset from which start-up replays the readings log,
 *   with a fingerprint of the log's bytes before it (a log replaced or cut
 *   by hand makes the rollups be rebuilt, never silently disagree).
 *
 * Rollups of readings stored since the last flush are held in memory (and
 * read through); every ROLLUP_FLUSH_MS they are merged into the records.
 * Each record carries `through`, the log offset up to which it holds every
 * line of its hour, so a crash in the middle of a flush is repaired by
 * replaying the log from `ponto` with each record skipping the lines it
 * already holds: replaying is exact, never counted twice. A missing or
 * unreadable directory is rebuilt from the log at start-up.
 */
import { constants as fsConstants, readSync, writeSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { HOUR_MS, hourOf, mergeRollups, rollupOf, type DayRollup, type HourRollup } from '../../domain/readings/rollups.js';
import { dayFromHours, DayRollupFiles, DAY_ROLLUPS_DIR } from './day-rollups.js';
import type { QualityMask } from '../../domain/readings/quality.js';
import { addTo, HeldRollups, type SlotHours } from './held-rollups.js';
import { DATA_FILE_MODE } from './customers-file.js';
import { syncDirectory } from './sync-directory.js';
import { decodeRecord as decode, encodeRecord as encode, RECORD_BYTES, type StoredRecord } from './rollup-record.js';

export const ROLLUPS_DIR = 'consumo-horas';
const METERS_FILE = 'medidores.txt';
const CHECKPOINT_FILE = 'ponto';
const MONTH_FILE = /^(\d{4})-(\d{2})\.bin$/;
/** Hours of the longest month: a slot's region in a month file. */
export const MONTH_HOURS = 31 * 24;
const REGION_BYTES = MONTH_HOURS * RECORD_BYTES;
/** How often rollups held in memory are merged into the month files. */
export const ROLLUP_FLUSH_MS = 5000;
/** Meter-hours held in memory past which a flush starts at once (rather than waiting for ROLLUP_FLUSH_MS). */
export const MAX_HELD_HOURS = 200_000;
/** Month regions read at once when the days are written from the hours. */
const REBUILD_SLOTS = 32;
/** Month regions read at once when replaying. */
const FLUSH_CONCURRENCY = 32;
/** Month regions merged between two turns of the event loop during a flush (about a millisecond). */
const FLUSH_SLICE_REGIONS = 200;

/** The UTC month of an instant as `AAAA-MM` and its first instant. */
function monthOf(instant: number): { name: string; start: number } {
  const date = new Date(instant);
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  return { name: new Date(start).toISOString().slice(0, 7), start };
}

function nextMonth(start: number): number {
  const date = new Date(start);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

export interface LogAccess {
  /** The log's lines in [from, to) with their offsets, as rollups of one reading. */
  lines(from: number, to: number): AsyncIterable<ReadonlyArray<{ readonly matricula: string; readonly rollup: HourRollup; readonly offset: number }>>;
  /** A digest of the log's bytes just before `offset`. */
  fingerprint(offset: number): Promise<string>;
}

/** A line of the log replayed at start-up: applied to its hour unless the record already holds it. */
interface Replayed {
  readonly matricula: string;
  readonly rollup: HourRollup;
  readonly offset: number;
}

export class HourRollupFiles {
  private readonly dir: string;
  private readonly slots: Map<string, number>;
  /** Meters given a slot not yet written to medidores.txt. */
  private newSlots: string[] = [];
  private readonly metersHandle: FileHandle;
  private readonly months = new Map<string, FileHandle>();
  /** The first instants of the months that have a file, oldest first: what a range is read from. */
  private monthStarts: number[];
  /** A month file was created since the directory was last synced. */
  private newMonthFiles = false;
  /** Rollups of lines not yet in the records, by meter slot. */
  private held = new HeldRollups();
  /**
   * What a flush is writing (or failed to write), the log offset its records
   * will say they hold, and the one the records said before it.
   */
  private inflight: { held: HeldRollups; through: number; previous: number } | undefined;
  /** The columns the last flush wrote out, cleared, for the next one to swap in (two sets: nothing is copied per flush). */
  private spare: HeldRollups | undefined = new HeldRollups();
  /** The `through` of the last flush started: every line held now is at or past it. */
  private lastThrough: number;
  /** The last flush failed: its lines are read from the log again before the next one. */
  private failed = false;
  private readonly log: LogAccess;
  private replayed: Replayed[] = [];
  /** The log offset start-up replays from. */
  checkpoint: number;
  /**
   * The directory was empty when opened: every record is written by this
   * instance's flushes, each stamped with an offset no later than the lines
   * start-up replays after it, so every replayed line is new to its record.
   */
  private readonly fresh: boolean;
  /** The daily rollups, written again from their hours whenever one of these is. */
  private readonly days: DayRollupFiles;
  /** Whether the days' files hold every day (false after an upgrade or a change of zone until {@link completeDays}). */
  private daysCurrent: boolean;

  private constructor(dir: string, slots: Map<string, number>, metersHandle: FileHandle, checkpoint: number, log: LogAccess, monthStarts: number[], days: DayRollupFiles, daysCurrent: boolean) {
    this.dir = dir;
    this.days = days;
    this.daysCurrent = daysCurrent;
    this.monthStarts = monthStarts;
    this.slots = slots;
    this.metersHandle = metersHandle;
    this.checkpoint = checkpoint;
    this.lastThrough = checkpoint;
    this.log = log;
    this.fresh = checkpoint === 0 && monthStarts.length === 0;
  }

  /** Opens (or creates) the directory; an unreadable one is removed and rebuilt from the log (checkpoint 0). */
  static async open(dataDir: string, logSize: number, log: LogAccess, dayZone: string): Promise<{ rollups: HourRollupFiles; rebuilt: boolean }> {
    const dir = join(dataDir, ROLLUPS_DIR);
    const saved = await readCheckpoint(dir);
    let checkpoint = saved?.offset;
    const slots = new Map<string, number>();
    if (saved !== undefined && saved.offset <= logSize && saved.fingerprint === (await log.fingerprint(saved.offset))) {
      const text = await readFile(join(dir, METERS_FILE), 'latin1').catch(() => undefined);
      const lines = text?.split('\n') ?? [];
      // A torn last line (a crash while appending) names no slot yet: its meter gets one again.
      lines.pop();
      if (text !== undefined && lines.every(isMatricula)) lines.forEach((matricula, slot) => slots.set(matricula, slot));
      else checkpoint = undefined;
    } else checkpoint = undefined;
    // Days are written from hours: hours built afresh make them be too.
    if (checkpoint === undefined) for (const gone of [dir, join(dataDir, DAY_ROLLUPS_DIR)]) await rm(gone, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const metersPath = join(dir, METERS_FILE);
    const handle = await open(metersPath, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW, DATA_FILE_MODE);
    // Cut a torn line off, so that appends start on a line.
    let length = 0;
    for (const matricula of slots.keys()) length += matricula.length + 1;
    await handle.truncate(length);
    const monthStarts: number[] = [];
    for (const name of await readdir(dir)) {
      const match = MONTH_FILE.exec(name);
      if (match !== null) monthStarts.push(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
    }
    monthStarts.sort((a, b) => a - b);
    const { days, current } = await DayRollupFiles.open(dataDir, dayZone);
    return { rollups: new HourRollupFiles(dir, slots, handle, checkpoint ?? 0, log, monthStarts, days, current), rebuilt: checkpoint === undefined };
  }

  /** A reading just made durable (on ingest's path: its hour's rollup is updated in place). */
  add(matricula: string, timestamp: number, register: bigint, quality: QualityMask): void {
    this.held.add(this.slotOf(matricula), timestamp, register, quality);
  }

  /**
   * A line of the log at `offset` (at or past the checkpoint) seen at
   * start-up; applied by {@link settleReplay}, or at once while the files
   * are being built afresh (no record can hold it yet).
   */
  replay(matricula: string, timestamp: number, register: bigint, quality: QualityMask, offset: number): void {
    if (this.fresh) this.add(matricula, timestamp, register, quality);
    else this.replayed.push({ matricula, rollup: rollupOf(timestamp, register, quality), offset });
  }

  /** Lines replayed and not yet settled. */
  get replayBacklog(): number {
    return this.replayed.length;
  }

  /** Whether so much is held in memory that a flush should start now. */
  get full(): boolean {
    return this.held.size >= MAX_HELD_HOURS;
  }

  /** Applies the replayed lines each record does not hold yet. */
  async settleReplay(): Promise<void> {
    const replayed = this.replayed;
    this.replayed = [];
    const held: SlotHours = new Map();
    await this.settle(replayed, held);
    this.holdAll(held);
  }

  /** Adds to `into` the lines each record does not hold yet. */
  private async settle(replayed: readonly Replayed[], into: SlotHours): Promise<void> {
    const byRegion = new Map<string, Replayed[]>();
    for (const line of replayed) {
      const key = `${line.matricula}\n${monthOf(line.rollup.start).start}`;
      let lines = byRegion.get(key);
      if (lines === undefined) byRegion.set(key, (lines = []));
      lines.push(line);
    }
    await forEachLimited([...byRegion.values()], FLUSH_CONCURRENCY, async (lines) => {
      const first = lines[0] as Replayed;
      const records = new Map((await this.readRegion(first.matricula, monthOf(first.rollup.start).start)).map((record) => [record.rollup.start, record]));
      for (const line of lines) {
        const held = records.get(line.rollup.start);
        if (held === undefined || line.offset >= held.through) addTo(into, this.slotOf(line.matricula), line.rollup);
      }
    });
    // A line its hour holds already may have been written by a flush that stopped before its day: the days of every
    // replayed line are written again from their hours (those held now are written again by the next flush).
    if (!this.daysCurrent) return;
    const days = new Map<number, Set<number>>();
    for (const line of replayed) {
      const slot = this.slotOf(line.matricula);
      let starts = days.get(slot);
      if (starts === undefined) days.set(slot, (starts = new Set()));
      starts.add(this.days.dayOf(line.rollup.start));
    }
    for (const [slot, starts] of days) {
      for (const start of starts) {
        await this.openMonthsOf(start);
        this.writeDay(slot, start);
      }
    }
  }

  /**
   * Merges what is held into the month files, stamped as holding every line
   * before `through` (the log's durable size now), then moves the checkpoint
   * there. One flush at a time; rollups stored meanwhile wait for the next.
   */
  async flush(through: number): Promise<void> {
    if (this.failed) await this.repair();
    if (this.inflight !== undefined) throw new Error('a flush is already running');
    const held = this.held;
    this.held = this.spare ?? new HeldRollups();
    this.spare = undefined;
    this.inflight = { held, through, previous: this.lastThrough };
    this.lastThrough = through;
    try {
      await this.writeSlots();
      const touched = new Set<FileHandle>();
      const handles = new Map<number, FileHandle>();
      const slots = held.slotsHeld();
      // Synchronous reads and writes of the page cache, a slice of slots at a time between turns of the event loop:
      // a few microseconds each, where a promise per operation cost several times more of the main thread.
      for (let index = 0; index < slots.length; index++) {
        if (index > 0 && index % FLUSH_SLICE_REGIONS === 0) await yieldToEventLoop();
        const slot = slots[index] as number;
        const byMonth = new Map<number, HourRollup[]>();
        for (const rollup of held.of(slot).values()) {
          const start = monthOf(rollup.start).start;
          let list = byMonth.get(start);
          if (list === undefined) byMonth.set(start, (list = []));
          list.push(rollup);
        }
        const dayStarts = new Set<number>();
        for (const [monthStart, hours] of byMonth) {
          let handle = handles.get(monthStart);
          if (handle === undefined) handles.set(monthStart, (handle = await this.month(monthStart)));
          touched.add(handle);
          mergeRegion(handle.fd, slot, monthStart, hours, through);
          for (const hour of hours) dayStarts.add(this.days.dayOf(hour.start));
        }
        // Until the days are current (start-up of an older or new directory), completeDays writes them all at once.
        if (this.daysCurrent) {
          for (const start of dayStarts) {
            await this.openMonthsOf(start);
            this.writeDay(slot, start);
          }
        }
      }
      for (const handle of touched) await handle.datasync();
      await this.days.sync();
      if (this.newMonthFiles) {
        this.newMonthFiles = false;
        await syncDirectory(this.dir);
      }
      await writeCheckpoint(this.dir, through, await this.log.fingerprint(through));
      this.checkpoint = through;
      this.inflight = undefined;
      held.clear();
      this.spare = held;
    } catch (error) {
      // Some records may hold the lines already (their `through` says so): the next flush reads them from the log
      // again, as a start-up would; reads meanwhile still see them here.
      this.failed = true;
      throw error;
    }
  }

  /** After a failed flush: the lines since the checkpoint that no record holds yet, from the log. */
  private async repair(): Promise<void> {
    const failed = this.inflight as { through: number };
    const replayed: Replayed[] = [];
    for await (const lines of this.log.lines(this.checkpoint, failed.through)) for (const line of lines) replayed.push(line);
    const held: SlotHours = new Map();
    await this.settle(replayed, held);
    // At once: the failed flush's lines leave memory as the log's copy of them enters it.
    const failedHeld = this.inflight?.held;
    this.inflight = undefined;
    this.failed = false;
    this.holdAll(held);
    if (failedHeld !== undefined) {
      failedHeld.clear();
      this.spare = failedHeld;
    }
  }

  /** The meter's rollups for the hours starting in [from, to), oldest first, without empty hours. */
  async hourly(matricula: string, from: number, to: number): Promise<HourRollup[]> {
    const first = hourOf(Math.max(from, 0) + HOUR_MS - 1);
    const found = new Map<number, HourRollup>();
    // What memory holds, taken before the records are read. A set of lines is counted unless the record read
    // holds it: a record's `through` is past the flush before the set only when a flush wrote the set into it.
    const slot = this.slots.get(matricula);
    if (slot === undefined) return [];
    const inflight = this.inflight;
    const inflightHours = inflight?.held.of(slot);
    const heldHours = this.held.of(slot);
    const heldAfter = this.lastThrough;
    const reads: Array<Promise<StoredRecord[]>> = [];
    if (first < to) {
      const firstMonth = monthOf(first).start;
      for (const start of this.monthStarts) {
        if (start < firstMonth) continue;
        if (start >= to) break;
        reads.push(this.readRegion(matricula, start, Math.max(first, start), Math.min(to, nextMonth(start))));
      }
    }
    // Months in order, each's hours in order.
    const stored = (await Promise.all(reads)).flat();
    if ((inflightHours === undefined || inflightHours.size === 0) && heldHours.size === 0) return stored.map((record) => record.rollup);
    const records = new Map(stored.map((record) => [record.rollup.start, record]));
    for (const [hour, record] of records) found.set(hour, record.rollup);
    const overlay = (hours: Map<number, HourRollup> | undefined, skip: (hour: number) => boolean): void => {
      if (hours === undefined) return;
      for (const [hour, rollup] of hours) {
        if (hour < first || hour >= to || skip(hour)) continue;
        const known = found.get(hour);
        found.set(hour, known === undefined ? { ...rollup } : mergeRollups(known, rollup));
      }
    };
    overlay(inflightHours, (hour) => (records.get(hour)?.through ?? 0) > (inflight as { previous: number }).previous);
    overlay(heldHours, (hour) => (records.get(hour)?.through ?? 0) > heldAfter);
    return [...found.values()].filter((rollup) => rollup.readings > 0).sort((a, b) => a.start - b.start);
  }

  /** The meter's daily rollups (of the store's day zone) for the days starting in [from, to), oldest first, without empty days. */
  async daily(matricula: string, from: number, to: number): Promise<DayRollup[]> {
    const slot = this.slots.get(matricula);
    if (slot === undefined || from >= to) return [];
    // Days with hours held in memory (or in a flush not finished) are made from their hours; the others are read.
    const dirty = new Set<number>();
    for (const hours of [this.inflight?.held.of(slot), this.held.of(slot)]) {
      for (const hour of hours?.keys() ?? []) {
        const start = this.days.dayOf(hour);
        if (start >= from && start < to) dirty.add(start);
      }
    }
    const days = this.days.read(slot, from, to);
    if (dirty.size === 0) return days;
    const byStart = new Map(days.map((day) => [day.start, day]));
    for (const start of dirty) {
      const day = dayFromHours(start, await this.hourly(matricula, start, this.days.nextDay(start)));
      if (day.readings > 0) byStart.set(start, day);
      else byStart.delete(start);
    }
    return [...byStart.values()].sort((a, b) => a.start - b.start);
  }

  /** The zone whose local days {@link daily} gives. */
  get dayZone(): string {
    return this.days.zone;
  }

  /**
   * At the end of start-up: when the days' files were not current (an older
   * data directory, another zone, or hours built afresh from the log), every
   * day is written from its hours, reading each month file once in order
   * (flushes until then leave the days to this).
   */
  async completeDays(): Promise<void> {
    if (this.daysCurrent) return;
    for (const monthStart of this.monthStarts) {
      const monthEnd = nextMonth(monthStart);
      const fd = (await this.month(monthStart)).fd;
      const edges = new Map<number, Set<number>>();
      for (let first = 0; first < this.slots.size; first += REBUILD_SLOTS) {
        const count = Math.min(REBUILD_SLOTS, this.slots.size - first);
        const buffer = readAtSync(fd, first * REGION_BYTES, count * REGION_BYTES);
        for (let slot = first; slot < first + count; slot++) {
          const byDay = new Map<number, HourRollup[]>();
          for (let index = 0; index < MONTH_HOURS; index++) {
            const at = (slot - first) * REGION_BYTES + index * RECORD_BYTES;
            if (buffer.readUInt32LE(at + 8) === 0) continue;
            const hour = monthStart + index * HOUR_MS;
            const start = this.days.dayOf(hour);
            let hours = byDay.get(start);
            if (hours === undefined) byDay.set(start, (hours = []));
            hours.push(decode(buffer, at, hour).rollup);
          }
          const inside: DayRollup[] = [];
          for (const [start, hours] of byDay) {
            // A day across two month files is written once both are read.
            if (start < monthStart || this.days.nextDay(start) > monthEnd) {
              let starts = edges.get(slot);
              if (starts === undefined) edges.set(slot, (starts = new Set()));
              starts.add(start);
            } else inside.push(dayFromHours(start, hours));
          }
          if (inside.length > 0) this.days.write(slot, inside);
        }
      }
      for (const [slot, starts] of edges) {
        for (const start of starts) {
          await this.openMonthsOf(start);
          this.writeDay(slot, start);
        }
      }
    }
    await this.days.markCurrent();
    this.daysCurrent = true;
  }

  /** Opens the month files holding the hours of the day starting at `start` that exist (a day may span two). */
  private async openMonthsOf(start: number): Promise<void> {
    for (const month of this.monthsOf(start, this.days.nextDay(start))) if (!this.months.has(monthOf(month).name)) await this.month(month, false);
  }

  /** Writes the slot's day starting at `start` from its hours' records (their month files opened by {@link openMonthsOf}). */
  private writeDay(slot: number, start: number): void {
    const end = this.days.nextDay(start);
    const hours: HourRollup[] = [];
    for (const monthStart of this.monthsOf(start, end)) {
      const name = monthOf(monthStart).name;
      const handle = this.months.get(name);
      if (handle === undefined) continue;
      const low = Math.max(0, (start - monthStart) / HOUR_MS);
      const high = Math.min(MONTH_HOURS, (end - monthStart) / HOUR_MS);
      const buffer = readAtSync(handle.fd, slot * REGION_BYTES + low * RECORD_BYTES, (high - low) * RECORD_BYTES);
      for (let index = low; index < high; index++) {
        const at = (index - low) * RECORD_BYTES;
        if (buffer.readUInt32LE(at + 8) !== 0) hours.push(decode(buffer, at, monthStart + index * HOUR_MS).rollup);
      }
    }
    this.days.write(slot, [dayFromHours(start, hours)]);
  }

  /** The first instants of the UTC months [from, to) overlaps. */
  private monthsOf(from: number, to: number): number[] {
    const months: number[] = [];
    for (let start = monthOf(from).start; start < to; start = nextMonth(start)) months.push(start);
    return months;
  }

  async close(): Promise<void> {
    this.days.close();
    for (const handle of this.months.values()) await handle.close();
    this.months.clear();
    await this.metersHandle.close();
  }

  /** The meter's slot, given it now if it has none (written to medidores.txt by the next flush, before any record of it). */
  private slotOf(matricula: string): number {
    let slot = this.slots.get(matricula);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(matricula, slot);
      this.newSlots.push(matricula);
    }
    return slot;
  }

  private holdAll(hours: SlotHours): void {
    for (const [slot, byHour] of hours) for (const rollup of byHour.values()) this.held.merge(slot, rollup);
  }

  /** Appends the new meters' slots durably before any record in their regions is written. */
  private async writeSlots(): Promise<void> {
    if (this.newSlots.length === 0) return;
    const meters = this.newSlots;
    this.newSlots = [];
    try {
      const text = meters.map((matricula) => `${matricula}\n`).join('');
      const { size } = await this.metersHandle.stat();
      await writeAt(this.metersHandle, size, Buffer.from(text, 'latin1'));
      await this.metersHandle.datasync();
    } catch (error) {
      this.newSlots = [...meters, ...this.newSlots];
      throw error;
    }
  }

  /** The written records of one meter's month (hours in [from, to) of it, all when absent), oldest first. */
  private async readRegion(matricula: string, monthStart: number, from = monthStart, to = nextMonth(monthStart)): Promise<StoredRecord[]> {
    const records: StoredRecord[] = [];
    const slot = this.slots.get(matricula);
    if (slot === undefined) return records;
    const monthFirst = monthOf(monthStart).start;
    const low = Math.max(0, (hourOf(from) - monthFirst) / HOUR_MS);
    const high = Math.min(MONTH_HOURS, Math.ceil((to - monthFirst) / HOUR_MS));
    if (high <= low) return records;
    const handle = await this.month(monthFirst, false);
    if (handle === undefined) return records;
    const buffer = await readAt(handle, slot * REGION_BYTES + low * RECORD_BYTES, (high - low) * RECORD_BYTES);
    for (let index = low; index < high; index++) {
      // An hour without readings is all zeros: skipped before decoding.
      if (buffer.readUInt32LE((index - low) * RECORD_BYTES + 8) === 0) continue;
      records.push(decode(buffer, (index - low) * RECORD_BYTES, monthFirst + index * HOUR_MS));
    }
    return records;
  }

  private async month(start: number): Promise<FileHandle>;
  private async month(start: number, create: false): Promise<FileHandle | undefined>;
  private async month(start: number, create = true): Promise<FileHandle | undefined> {
    const name = monthOf(start).name;
    let handle = this.months.get(name);
    if (handle !== undefined) return handle;
    const flags = fsConstants.O_RDWR | fsConstants.O_NOFOLLOW | (create ? fsConstants.O_CREAT : 0);
    try {
      handle = await open(join(this.dir, `${name}.bin`), flags, DATA_FILE_MODE);
    } catch (error) {
      if (!create && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    // Another caller may have opened it meanwhile.
    const other = this.months.get(name);
    if (other !== undefined) {
      await handle.close();
      return other;
    }
    this.months.set(name, handle);
    if (!this.monthStarts.includes(start)) {
      this.monthStarts = [...this.monthStarts, start].sort((a, b) => a - b);
      this.newMonthFiles = true;
    }
    return handle;
  }
}

async function readCheckpoint(dir: string): Promise<{ offset: number; fingerprint: string } | undefined> {
  const text = await readFile(join(dir, CHECKPOINT_FILE), 'latin1').catch(() => undefined);
  const match = text === undefined ? null : /^(\d{1,15}) ([0-9a-f]{64})\n$/.exec(text);
  return match === null ? undefined : { offset: Number(match[1]), fingerprint: match[2] as string };
}

/** Replaces `ponto` atomically (write beside, fsync, rename). */
async function writeCheckpoint(dir: string, offset: number, fingerprint: string): Promise<void> {
  const temporary = join(dir, `${CHECKPOINT_FILE}.novo`);
  await writeFile(temporary, `${offset} ${fingerprint}\n`, { mode: DATA_FILE_MODE, flush: true });
  await rename(temporary, join(dir, CHECKPOINT_FILE));
}

/** Merges a meter's held hours of one month into its region's records, stamped `through`: one read and one write of the span they cover (usually one record). */
function mergeRegion(fd: number, slot: number, monthStart: number, hours: readonly HourRollup[], through: number): void {
  let low = MONTH_HOURS;
  let high = -1;
  for (const rollup of hours) {
    const index = (rollup.start - monthStart) / HOUR_MS;
    if (index < low) low = index;
    if (index > high) high = index;
  }
  const position = slot * REGION_BYTES + low * RECORD_BYTES;
  const buffer = readAtSync(fd, position, (high - low + 1) * RECORD_BYTES);
  for (const rollup of hours) {
    const at = ((rollup.start - monthStart) / HOUR_MS - low) * RECORD_BYTES;
    encode(buffer, at, through, mergeRollups(decode(buffer, at, rollup.start).rollup, rollup));
  }
  writeAtSync(fd, position, buffer);
}

/** `length` bytes at `position`; past the end of the file, zeros. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, position + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return buffer;
}

function readAtSync(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const bytesRead = readSync(fd, buffer, read, length - read, position + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return buffer;
}

function writeAtSync(fd: number, position: number, buffer: Buffer): void {
  let written = 0;
  while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written, position + written);
}

async function writeAt(handle: FileHandle, position: number, buffer: Buffer): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written);
    written += bytesWritten;
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
