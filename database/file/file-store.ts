/**
 * The embedded flat-file backend. DATA_DIR holds:
 * - `clientes.txt`, customers as `username;matricula` (the original's format);
 * - `medicoes.log`, the append-only readings log, oldest first;
 * - `.lock`, the PID of the one process that owns the directory.
 *
 * Start-up reads the log once and keeps, per matricula, its newest
 * readings in memory, so no route ever scans the log.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isRegister, parseRegister } from '../../protocol/decimal.js';
import { isMatricula, type Reading } from '../../protocol/meter-protocol.js';
import type { Quantities } from '../../protocol/quantities.js';
import { parseIsoTimestamp } from '../../protocol/timestamp.js';
import { GroupCommit } from '../group-commit.js';
import { MeterWindow, OPEN_ADMISSION, registerNumber, tallyOutcomes, type AdmissionRules, type ReadingOutcome } from '../../domain/readings/admission.js';
import { VALID, type QualityMask } from '../../domain/readings/quality.js';
import {
  checkRecentCount,
  FLEET_BATCH_METERS,
  StoreError,
  type AddCustomersResult,
  type AppendResult,
  type Customer,
  type CustomerQuery,
  type HistoryQuery,
  type Store,
  type StoreStats,
  type StoredReading,
} from '../store.js';
import { CustomerIndex } from './customer-index.js';
import { APPEND_FLAGS, appendCustomers, DATA_FILE_MODE, readCustomerFile } from './customers-file.js';
import { appendPassword, PASSWORDS_FILE, readPasswordFile } from './passwords-file.js';
import type { CredentialStore } from '../credential-store.js';
import { lockDirectory, type DirectoryLock } from './lock.js';
import { LogBlocks } from './log-blocks.js';
import { syncDirectory } from './sync-directory.js';
import { HourRollupFiles, ROLLUP_FLUSH_MS, type LogAccess } from './hour-rollups.js';
import { rollupOf, type DayRollup, type HourRollup } from '../../domain/readings/rollups.js';
import { appendToLog, forEachLine, formatLogLine, parseLogExtras, parseLogLine, readLogChunks } from './readings-log.js';

/** Log lines replayed into the rollups at start-up before they are written out (a bound on memory when rebuilding). */
const REPLAY_BATCH_LINES = 500_000;
/** Bytes of the log read per step of `scan`. */
const SCAN_BLOCK_BYTES = 1 << 20;
export const CUSTOMERS_FILE = 'clientes.txt';
export const READINGS_FILE = 'medicoes.log';
export const LOCK_FILE = '.lock';

export interface FileStoreOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  /** Copied to `clientes.txt` when the directory has none yet. */
  readonly seedCustomersFile?: string | undefined;
  /** Meters of no registered customer kept in memory; readings of further such new meters are refused. */
  readonly maxMeters?: number | undefined;
  /** Which readings are admitted (domain/readings/admission.ts); all but copies and too-late ones when absent. */
  readonly admission?: AdmissionRules | undefined;
  /** The time zone of the daily rollups' days (Store.dayZone; DEFAULT_DAY_ZONE when absent). */
  readonly dayZone?: string | undefined;
  /** How often the hourly rollups held in memory are written (ROLLUP_FLUSH_MS when absent; tests make it short). */
  readonly rollupFlushMs?: number | undefined;
}

/** About 390-410 bytes a meter with one reading, 1,000-1,100 with its window of 32 full, hourly rollups included (npm run bench:memoria, 100,000 and 1,000,000 meters): a million is 0.4 to 1.1 GB. */
export const DEFAULT_MAX_METERS = 1_000_000;
/** The zone of the daily rollups when none is given (the server always gives TZ_LEGADO). */
export const DEFAULT_DAY_ZONE = 'UTC';

export interface LoadSummary {
  readonly lines: number;
  readonly skipped: number;
  readonly tornBytes: number;
}

/**
 * What the store keeps in memory of a meter: a few hundred bytes, a
 * kilobyte with a full window (bench/RESULTS.md section 17).
 */
interface MeterState {
  /**
   * Newest readings, durable or queued (marked pending until their write is
   * durable): what copies and late readings are judged against, and where
   * the newest durable readings are read from. While more than
   * LATE_WINDOW_READINGS - RECENT_READINGS_LIMIT of one meter's readings are
   * queued at once, fewer than RECENT_READINGS_LIMIT durable ones may be
   * here, for the few milliseconds until they are written.
   */
  readonly window: MeterWindow;
  /** The quantities of the newest durable reading, if it carried any: only the newest, to keep memory flat. */
  newestQuantities: Quantities | undefined;
  /** Oldest durable timestamp: where a history scan can stop. */
  oldest: number;
}

/** A queued reading of the meter is now durable. */
function remember(state: MeterState, reading: StoredReading): void {
  const { timestamp } = reading;
  if (timestamp < state.oldest) state.oldest = timestamp;
  const newest = newestDurable(state);
  if (state.window.settle(timestamp) && timestamp > newest) state.newestQuantities = reading.quantities;
}

/** The newest durable reading's timestamp, or -Infinity. */
function newestDurable(state: MeterState): number {
  const { window } = state;
  for (let i = window.length - 1; i >= 0; i--) if (!window.isPending(i)) return window.timestampAt(i);
  return Number.NEGATIVE_INFINITY;
}

export class FileStore implements Store, CredentialStore {
  readonly loadSummary: LoadSummary;
  private readonly meters: Map<string, MeterState>;
  private readonly blocks: LogBlocks;
  private readonly customers: CustomerIndex;
  private readonly customersPath: string;
  private readonly passwords: Map<string, string>;
  private readonly passwordsPath: string;
  private readonly handle: FileHandle;
  private readonly writer: GroupCommit<StoredReading, void>;
  /** Bytes of the log that are durable: where the next write goes. */
  private size: number;
  private readonly lock: DirectoryLock;
  private readingCount: number;
  private readonly maxMeters: number;
  /** Meters in memory whose matricula no customer has: what MAX_MEDIDORES bounds. */
  private unregisteredMeters = 0;
  private readonly admission: AdmissionRules;
  /** Why the last write failed, until a write succeeds again. */
  private lastWriteError: StoreError | undefined;
  private closing: Promise<void> | undefined;
  private readonly rollups: HourRollupFiles;
  private readonly logger: Logger;
  private readonly flushTimer: NodeJS.Timeout;
  /** The rollups' flush running now. */
  private rollupFlush: Promise<void> | undefined;

  private constructor(parts: {
    meters: Map<string, MeterState>;
    blocks: LogBlocks;
    customers: CustomerIndex;
    customersPath: string;
    passwords: Map<string, string>;
    passwordsPath: string;
    handle: FileHandle;
    size: number;
    lock: DirectoryLock;
    loadSummary: LoadSummary;
    maxMeters: number;
    admission: AdmissionRules;
    rollups: HourRollupFiles;
    logger: Logger;
    rollupFlushMs: number;
  }) {
    this.meters = parts.meters;
    this.rollups = parts.rollups;
    this.logger = parts.logger;
    this.flushTimer = setInterval(() => void this.flushRollups(), parts.rollupFlushMs).unref();
    this.blocks = parts.blocks;
    this.maxMeters = parts.maxMeters;
    this.admission = parts.admission;
    for (const matricula of this.meters.keys()) if (!parts.customers.hasMatricula(matricula)) this.unregisteredMeters++;
    this.customers = parts.customers;
    this.customersPath = parts.customersPath;
    this.passwords = parts.passwords;
    this.passwordsPath = parts.passwordsPath;
    this.handle = parts.handle;
    this.lock = parts.lock;
    this.loadSummary = parts.loadSummary;
    this.readingCount = parts.loadSummary.lines;
    this.size = parts.size;
    this.writer = new GroupCommit<StoredReading, void>({
      commit: async (readings) => {
        const lines = readings.map(formatLogLine);
        const written = await appendToLog(this.handle, this.size, lines);
        this.blocks.addLines(this.size, lines, readings);
        this.size += written;
        for (const reading of readings) {
          remember(this.meterState(reading.matricula), reading);
          this.rollups.add(reading.matricula, reading.timestamp, reading.consumo, reading.quality ?? VALID);
        }
        this.readingCount += readings.length;
        this.lastWriteError = undefined;
        if (this.rollups.full) void this.flushRollups();
      },
      onFailure: async (readings, error) => {
        // Cut a partial write back off, and forget the readings: when meters resend them they are new again.
        await this.handle.truncate(this.size).catch(() => undefined);
        for (const reading of readings) this.meters.get(reading.matricula)?.window.remove(reading.timestamp);
        this.lastWriteError = new StoreError('UNAVAILABLE', `could not write ${READINGS_FILE}: ${(error as Error).message}`, { cause: error });
        return this.lastWriteError;
      },
    });
  }

  static async open(options: FileStoreOptions): Promise<FileStore> {
    const { dataDir } = options;
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const lock = await lockDirectory(join(dataDir, LOCK_FILE));
    try {
      return await FileStore.openLocked(options, lock);
    } catch (error) {
      await lock.release();
      if (error instanceof StoreError) throw error;
      // Any unreadable data file (permissions, a directory in its place, a symlink, a line too long): one line, not a stack trace.
      throw new StoreError('CORRUPT', `cannot read ${dataDir}: ${(error as Error).message}`, { cause: error });
    }
  }

  private static async openLocked(options: FileStoreOptions, lock: DirectoryLock): Promise<FileStore> {
    const { dataDir, logger } = options;
    const customersPath = join(dataDir, CUSTOMERS_FILE);
    if (options.seedCustomersFile !== undefined) {
      try {
        await copyFile(options.seedCustomersFile, customersPath, fsConstants.COPYFILE_EXCL);
        await chmod(customersPath, DATA_FILE_MODE);
        await syncDirectory(dataDir);
        logger.info({ path: customersPath, from: options.seedCustomersFile }, 'seeded customers file');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const customersHandle = await open(customersPath, APPEND_FLAGS, DATA_FILE_MODE);
    await customersHandle.chmod(DATA_FILE_MODE);
    await customersHandle.close();
    const customers = new CustomerIndex();
    for (const customer of await readCustomerFile(customersPath, logger)) {
      if (!customers.add(customer)) logger.warn({ customer }, 'ignoring customer whose username or matricula repeats an earlier line');
    }

    const passwordsPath = join(dataDir, PASSWORDS_FILE);
    const passwords = await readPasswordFile(passwordsPath, logger);
    const readingsPath = join(dataDir, READINGS_FILE);
    const handle = await open(readingsPath, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW, DATA_FILE_MODE);
    await handle.chmod(DATA_FILE_MODE);
    await syncDirectory(dataDir);
    const { rollups, rebuilt } = await HourRollupFiles.open(dataDir, (await handle.stat()).size, logAccess(handle), options.dayZone ?? DEFAULT_DAY_ZONE);
    try {
      if (rebuilt) logger.info({ path: readingsPath }, 'building hourly rollups from the readings log');
      const { meters, blocks, summary, size } = await loadIndex(handle, readingsPath, logger, rollups);
      await rollups.completeDays();
      return new FileStore({ meters, blocks, customers, customersPath, passwords, passwordsPath, handle, size, lock, loadSummary: summary, maxMeters: options.maxMeters ?? DEFAULT_MAX_METERS, admission: options.admission ?? OPEN_ADMISSION, rollups, logger, rollupFlushMs: options.rollupFlushMs ?? ROLLUP_FLUSH_MS });
    } catch (error) {
      await rollups.close();
      throw error;
    }
  }

  append(readings: readonly Reading[]): Promise<AppendResult> {
    return this.store(readings, false);
  }

  restore(readings: readonly StoredReading[]): Promise<AppendResult> {
    return this.store(readings, true);
  }

  private async store(readings: readonly StoredReading[], restoring: boolean): Promise<AppendResult> {
    this.assertOpen();
    const qualities: QualityMask[] = new Array<QualityMask>(readings.length).fill(VALID);
    const outcomes = readings.map((reading, index) => this.admit(reading, qualities, index, restoring));
    await this.writer.flushed();
    const newest = new Map<string, number>();
    for (const reading of readings) {
      const state = this.meters.get(reading.matricula);
      const timestamp = state === undefined ? Number.NEGATIVE_INFINITY : newestDurable(state);
      if (Number.isFinite(timestamp)) newest.set(reading.matricula, timestamp);
    }
    return { outcomes, qualities, ...tallyOutcomes(outcomes), newest };
  }

  /** Judges one reading and queues it for the log when it is admitted; a restored one keeps its quality and meets only the rules that keep history whole. */
  private admit(reading: StoredReading, qualities: QualityMask[], index: number, restoring: boolean): ReadingOutcome {
    const rules = restoring ? OPEN_ADMISSION : this.admission;
    let state = this.meters.get(reading.matricula);
    const registered = (rules.refuseUnregistered || state === undefined) && this.customers.hasMatricula(reading.matricula);
    if (rules.refuseUnregistered && !registered) return 'nao_cadastrado';
    if (state === undefined) {
      // Meters of customers are always taken: invented matriculas cannot lock them out.
      if (!registered && this.unregisteredMeters >= this.maxMeters && !restoring) return 'capacity';
      state = this.meterState(reading.matricula);
      if (!registered) this.unregisteredMeters++;
    }
    const verdict = state.window.judge(reading, rules);
    if (verdict !== 'new') return verdict;
    const quality = restoring ? (reading.quality ?? VALID) : state.window.assess(reading, rules.quality);
    state.window.add(reading.timestamp, registerNumber(reading.consumo), quality, true);
    qualities[index] = quality;
    this.writer.enqueue(quality === VALID ? (reading.quality === undefined ? reading : { ...reading, quality: undefined }) : { ...reading, quality });
    return 'stored';
  }

  async recentReadings(matricula: string, count: number): Promise<StoredReading[]> {
    this.assertOpen();
    checkRecentCount(count);
    const state = this.meters.get(matricula);
    const readings: StoredReading[] = [];
    if (state === undefined) return readings;
    const { window } = state;
    for (let i = window.length - 1; i >= 0 && readings.length < count; i--) {
      if (window.isPending(i)) continue;
      let reading: StoredReading = { matricula, timestamp: window.timestampAt(i), consumo: BigInt(window.registerAt(i)) };
      const quality = window.maskAt(i);
      if (quality !== VALID) reading = { ...reading, quality };
      if (readings.length === 0 && state.newestQuantities !== undefined) reading = { ...reading, quantities: state.newestQuantities };
      readings.push(reading);
    }
    return readings;
  }

  async *recentReadingsOfEveryMeter(count: number): AsyncGenerator<StoredReading[][]> {
    this.assertOpen();
    checkRecentCount(count);
    let batch: StoredReading[][] = [];
    for (const matricula of [...this.meters.keys()]) {
      const readings = await this.recentReadings(matricula, count);
      if (readings.length > 0) batch.push(readings);
      if (batch.length === FLEET_BATCH_METERS) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * Reads the blocks of the log that overlap the range, newest first, and
   * picks the meter's lines out of each: the cost follows the readings of
   * every meter in the range (bounded by the meter's oldest and newest), not
   * the whole log. A late reading sits in the log after newer ones, so
   * readings are held back until no block still to be read can hold a
   * newer one: memory holds one block and the readings it displaced.
   */
  async *history(query: HistoryQuery): AsyncGenerator<StoredReading[]> {
    this.assertOpen();
    const { matricula } = query;
    const state = this.meters.get(matricula);
    const newest = state === undefined ? Number.NEGATIVE_INFINITY : newestDurable(state);
    if (state === undefined || newest === Number.NEGATIVE_INFINITY) return;
    const from = Math.max(query.from, state.oldest);
    // Fixed now: readings stored while the scan runs are not part of it.
    const to = Math.min(query.to, newest + 1);
    if (from >= to) return;
    const blocks = [...this.blocks.overlapping(from, to)];
    // horizon[i]: the newest timestamp any block after the i-th (older in the log) may hold.
    const horizon = new Array<number>(blocks.length + 1).fill(Number.NEGATIVE_INFINITY);
    for (let i = blocks.length - 1; i >= 0; i--) horizon[i] = Math.max(horizon[i + 1] as number, (blocks[i] as { newest: number }).newest);
    const needle = `;${matricula};`;
    let held: StoredReading[] = [];
    let previous = Number.POSITIVE_INFINITY;
    for (let b = 0; b < blocks.length; b++) {
      this.assertOpen();
      const block = blocks[b] as { offset: number; length: number };
      const text = await readBlock(this.handle, block.offset, block.length);
      const found: StoredReading[] = [];
      let scanned = 0;
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
        const start = text.lastIndexOf('\n', at) + 1;
        const end = text.indexOf('\n', at);
        const reading = parseLogLine(text.slice(start, end));
        // The needle can also match a register followed by quantities (`;1302;V=...`): the parsed matricula decides.
        if (reading !== undefined && reading.matricula === matricula && reading.timestamp >= from && reading.timestamp < to) found.push(reading);
        // A block can hold ~20,000 lines of one meter: let the event loop run (ingest, other requests) between slices.
        if (++scanned % HISTORY_SLICE_LINES === 0) await yieldToEventLoop();
      }
      if (found.length === 0 && held.length === 0) continue;
      const limit = horizon[b + 1] as number;
      // A meter's lines are in timestamp order in the log but for late readings: reversed, newest first.
      found.reverse();
      let ordered = true;
      for (let i = 1; i < found.length && ordered; i++) ordered = (found[i - 1] as StoredReading).timestamp > (found[i] as StoredReading).timestamp;
      const oldestFound = found[found.length - 1];
      let batch: StoredReading[];
      if (held.length === 0 && ordered && oldestFound !== undefined && oldestFound.timestamp > limit && (found[0] as StoredReading).timestamp < previous) {
        // The usual case: nothing held back, nothing late: the block's readings go out as they are.
        batch = found;
        previous = oldestFound.timestamp;
      } else {
        for (const reading of found) held.push(reading);
        held.sort((a, c) => c.timestamp - a.timestamp);
        let ready = 0;
        while (ready < held.length && (held[ready] as StoredReading).timestamp > limit) ready++;
        batch = [];
        for (let i = 0; i < ready; i++) {
          const reading = held[i] as StoredReading;
          // A hand-merged log may repeat a line: one reading per instant.
          if (reading.timestamp !== previous) batch.push(reading);
          previous = reading.timestamp;
        }
        held = held.slice(ready);
      }
      // In slices, so that whoever formats them (CSV, JSON) lets the event loop run between slices.
      for (let start = 0; start < batch.length; start += HISTORY_SLICE_LINES) {
        if (start > 0) await yieldToEventLoop();
        yield batch.slice(start, start + HISTORY_SLICE_LINES);
      }
    }
  }

  async hourly(query: HistoryQuery): Promise<HourRollup[]> {
    this.assertOpen();
    return this.rollups.hourly(query.matricula, query.from, query.to);
  }

  get dayZone(): string {
    return this.rollups.dayZone;
  }

  async daily(query: HistoryQuery): Promise<DayRollup[]> {
    this.assertOpen();
    return this.rollups.daily(query.matricula, query.from, query.to);
  }

  /** Merges the rollups held in memory into their files; one flush at a time, a failure logged (the next one repairs it). */
  private flushRollups(): Promise<void> {
    this.rollupFlush ??= this.rollups
      .flush(this.size)
      .catch((error: unknown) => this.logger.error({ err: error }, 'could not write the hourly rollups; the next flush reads them from the log again'))
      .finally(() => {
        this.rollupFlush = undefined;
      });
    return this.rollupFlush;
  }

  async *scan(): AsyncGenerator<StoredReading[]> {
    this.assertOpen();
    // Fixed now: the durable part of the log, front to back, a block at a time, each cut at its last line end.
    const end = this.size;
    for (let offset = 0; offset < end; ) {
      this.assertOpen();
      const text = await readBlock(this.handle, offset, Math.min(SCAN_BLOCK_BYTES, end - offset));
      const last = text.lastIndexOf('\n');
      if (last === -1) throw new StoreError('CORRUPT', `${READINGS_FILE} has a line longer than ${SCAN_BLOCK_BYTES} bytes at ${offset}`);
      const readings: StoredReading[] = [];
      forEachLine(text.slice(0, last + 1), (line) => {
        const reading = parseLogLine(line);
        if (reading !== undefined) readings.push(reading);
      });
      offset += last + 1;
      if (readings.length > 0) yield readings;
    }
  }

  async findCustomers(query: CustomerQuery): Promise<Customer[]> {
    this.assertOpen();
    return this.customers.find(query);
  }

  async addCustomers(customers: readonly Customer[]): Promise<AddCustomersResult> {
    this.assertOpen();
    const added: Customer[] = [];
    const skipped: Customer[] = [];
    for (const customer of customers) (this.customers.add(customer) ? added : skipped).push(customer);
    try {
      await appendCustomers(this.customersPath, added);
    } catch (error) {
      for (const customer of added) this.customers.remove(customer);
      throw new StoreError('UNAVAILABLE', `could not write ${CUSTOMERS_FILE}: ${(error as Error).message}`, { cause: error });
    }
    for (const customer of added) if (this.meters.has(customer.matricula)) this.unregisteredMeters--;
    return { added: added.length, skipped };
  }

  async passwordHash(matricula: string): Promise<string | undefined> {
    this.assertOpen();
    return this.passwords.get(matricula);
  }

  async setPasswordHash(matricula: string, hash: string): Promise<boolean> {
    this.assertOpen();
    if (this.customers.find({ matricula }).length === 0) return false;
    try {
      await appendPassword(this.passwordsPath, matricula, hash);
    } catch (error) {
      throw new StoreError('UNAVAILABLE', `could not write ${PASSWORDS_FILE}: ${(error as Error).message}`, { cause: error });
    }
    this.passwords.set(matricula, hash);
    return true;
  }

  async stats(): Promise<StoreStats> {
    let meters = 0;
    for (const state of this.meters.values()) if (newestDurable(state) !== Number.NEGATIVE_INFINITY) meters++;
    return { customers: this.customers.size, meters, readings: this.readingCount };
  }

  async health(): Promise<void> {
    this.assertOpen();
    if (this.lastWriteError !== undefined) throw this.lastWriteError;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.flushTimer);
      await this.writer.flushed().catch(() => undefined);
      await this.rollupFlush;
      await this.flushRollups();
      await this.rollups.close();
      await this.handle.close();
      await this.lock.release();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new StoreError('CLOSED', 'the store is closed');
  }

  private meterState(matricula: string): MeterState {
    return meterState(this.meters, matricula);
  }
}

/** Lines of one meter parsed from a block between two turns of the event loop. */
const HISTORY_SLICE_LINES = 2000;

/** Skipped lines reported one by one at start-up before only a count is logged. */
const MAX_SKIPPED_LINES_LOGGED = 10;

/**
 * Rebuilds the per-meter index from the log and cuts off a torn last line
 * (a crash in the middle of a write), so that appends start on a line
 * boundary. Unreadable lines are skipped and logged, never fatal.
 */
async function loadIndex(
  handle: FileHandle,
  path: string,
  logger: Logger,
  rollups: HourRollupFiles,
): Promise<{ meters: Map<string, MeterState>; blocks: LogBlocks; summary: LoadSummary; size: number }> {
  // The hot loop of start-up: per line only slices, a char-code timestamp parse,
  // syntax checks, and the register of a line that enters its meter's window.
  const meters = new Map<string, MeterState>();
  const blocks = new LogBlocks();
  let lines = 0;
  let skipped = 0;
  let tornBytes = 0;
  let size = (await handle.stat()).size;
  const replayFrom = rollups.checkpoint;
  for await (const chunk of readLogChunks(path)) {
    if (chunk.kind === 'torn') {
      tornBytes = chunk.bytes;
      size = chunk.offset;
      await handle.truncate(chunk.offset);
      await handle.datasync();
      logger.warn({ path, offset: chunk.offset, bytes: chunk.bytes }, 'cut off a torn last line in readings log (crash during a write)');
      continue;
    }
    let offset = chunk.offset;
    let oldest = Number.POSITIVE_INFINITY;
    let newest = Number.NEGATIVE_INFINITY;
    forEachLine(chunk.text, (line) => {
      const first = line.indexOf(';');
      const second = line.indexOf(';', first + 1);
      const timestamp = first === -1 ? undefined : parseIsoTimestamp(line.slice(0, first));
      const matricula = line.slice(first + 1, second);
      const third = line.indexOf(';', second + 1);
      const consumo = third === -1 ? line.slice(second + 1) : line.slice(second + 1, third);
      const extras = third === -1 ? NO_EXTRAS : parseLogExtras(line.slice(third + 1));
      if (second === -1 || timestamp === undefined || !isMatricula(matricula) || !isRegister(consumo) || extras === undefined) {
        skipped++;
        if (skipped <= MAX_SKIPPED_LINES_LOGGED) logger.warn({ path, offset }, 'skipping unreadable line in readings log');
      } else {
        lines++;
        let state = meters.get(matricula);
        if (state === undefined) meters.set(matricula, (state = { window: new MeterWindow(), oldest: timestamp, newestQuantities: undefined }));
        if (timestamp < oldest) oldest = timestamp;
        if (timestamp > newest) newest = timestamp;
        if (timestamp < state.oldest) state.oldest = timestamp;
        // Lines the rollups may not hold yet (past their checkpoint), but a repeated instant (a hand-merged log).
        if (keepNewest(state, timestamp, consumo, extras) && offset >= replayFrom) rollups.replay(matricula, timestamp, parseRegister(consumo) as bigint, extras.quality, offset);
      }
      offset += line.length + 1;
    });
    if (newest >= oldest) blocks.add(chunk.offset, chunk.text.length, oldest, newest);
    if (rollups.replayBacklog >= REPLAY_BATCH_LINES || rollups.full) {
      await rollups.settleReplay();
      await rollups.flush(offset);
    }
  }
  // Every record then holds every line before `size`: what later reads and flushes count on.
  if (rollups.replayBacklog > 0 || rollups.checkpoint < size) {
    await rollups.settleReplay();
    await rollups.flush(size);
  }
  if (skipped > MAX_SKIPPED_LINES_LOGGED) logger.warn({ path, skipped }, 'unreadable lines in readings log were skipped');
  return { meters, blocks, summary: { lines, skipped, tornBytes }, size };
}

const NO_EXTRAS = { quantities: undefined, quality: VALID };

/**
 * Start-up's per-line bookkeeping: the meter's window (durable: it comes
 * from the log) and its newest reading's quantities. Lines are mostly in
 * timestamp order (late readings are the exception); a line repeating an
 * instant already kept (a hand-merged log) is skipped.
 */
function keepNewest(state: MeterState, timestamp: number, consumo: string, extras: { quantities: Quantities | undefined; quality: QualityMask }): boolean {
  const { window } = state;
  const newest = timestamp > window.newest;
  if (!newest) {
    const verdict = window.judge({ matricula: '', timestamp, consumo: 0n }, OPEN_ADMISSION);
    // Older than the window: history has it, the window does not take it.
    if (verdict !== 'new') return verdict === 'atrasada';
  }
  window.add(timestamp, registerNumber(parseRegister(consumo) as bigint), extras.quality);
  if (newest) state.newestQuantities = extras.quantities;
  return true;
}

/** Bytes before an offset of the log that its fingerprint covers. */
const FINGERPRINT_BYTES = 4096;

/** The log as the rollups read it: lines in [from, to) (line boundaries) for a repair, fingerprints for the checkpoint. */
function logAccess(handle: FileHandle): LogAccess {
  const lines = async function* (from: number, to: number) {
    let offset = from;
    while (offset < to) {
      const text = await readBlock(handle, offset, Math.min(SCAN_BLOCK_BYTES, to - offset));
      const last = text.lastIndexOf('\n');
      if (last === -1) throw new StoreError('CORRUPT', `${READINGS_FILE} has a line longer than ${SCAN_BLOCK_BYTES} bytes at ${offset}`);
      const lines: Array<{ matricula: string; rollup: HourRollup; offset: number }> = [];
      let at = offset;
      forEachLine(text.slice(0, last + 1), (line) => {
        const reading = parseLogLine(line);
        if (reading !== undefined) lines.push({ matricula: reading.matricula, rollup: rollupOf(reading.timestamp, reading.consumo, reading.quality ?? VALID), offset: at });
        at += line.length + 1;
      });
      offset += last + 1;
      yield lines;
    }
  };
  const fingerprint = async (offset: number): Promise<string> => {
    const from = Math.max(0, offset - FINGERPRINT_BYTES);
    return createHash('sha256').update(await readBlock(handle, from, offset - from), 'latin1').digest('hex');
  };
  return { lines, fingerprint };
}

async function readBlock(handle: FileHandle, offset: number, length: number): Promise<string> {
  const buffer = Buffer.allocUnsafe(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
    if (bytesRead === 0) throw new StoreError('CORRUPT', `${READINGS_FILE} is shorter than its index (${offset + read} < ${offset + length})`);
    read += bytesRead;
  }
  return buffer.toString('latin1');
}

function meterState(meters: Map<string, MeterState>, matricula: string): MeterState {
  let state = meters.get(matricula);
  if (state === undefined) {
    state = { window: new MeterWindow(), newestQuantities: undefined, oldest: Number.POSITIVE_INFINITY };
    meters.set(matricula, state);
  }
  return state;
}
