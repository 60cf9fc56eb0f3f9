/**
 * The embedded flat-file backend. DATA_DIR holds:
 * - `clientes.txt`, customers as `username;matricula` (the original's format);
 * - `medicoes.log`, the append-only readings log, oldest first;
 * - `.lock`, the PID of the one process that owns the directory.
 *
 * Start-up reads the log once and keeps, per matricula, its newest
 * readings in memory, so no route ever scans the log.
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isRegister, parseRegister } from '../../protocol/decimal.js';
import { isMatricula, type Reading } from '../../protocol/meter-protocol.js';
import { parseIsoTimestamp } from '../../protocol/timestamp.js';
import { GroupCommit } from '../group-commit.js';
import {
  RECENT_READINGS_LIMIT,
  StoreError,
  type AddCustomersResult,
  type AppendResult,
  type Customer,
  type CustomerQuery,
  type HistoryQuery,
  type Store,
  type StoreStats,
} from '../store.js';
import { CustomerIndex } from './customer-index.js';
import { appendCustomers, readCustomerFile } from './customers-file.js';
import { lockDirectory, type DirectoryLock } from './lock.js';
import { LogBlocks } from './log-blocks.js';
import { appendToLog, forEachLine, formatLogLine, parseLogLine, readLogChunks } from './readings-log.js';

export const CUSTOMERS_FILE = 'clientes.txt';
export const READINGS_FILE = 'medicoes.log';
export const LOCK_FILE = '.lock';

export interface FileStoreOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  /** Copied to `clientes.txt` when the directory has none yet. */
  readonly seedCustomersFile?: string | undefined;
  /** Distinct meters kept in memory; readings of further new meters are refused. */
  readonly maxMeters?: number | undefined;
}

/** About 850 bytes a meter: a million is under 1 GiB. */
export const DEFAULT_MAX_METERS = 1_000_000;

export interface LoadSummary {
  readonly lines: number;
  readonly skipped: number;
  readonly tornBytes: number;
}

interface MeterState {
  /**
   * Newest durable readings, oldest first, at most RECENT_READINGS_LIMIT, as
   * parallel arrays rather than reading objects: a fleet of 100,000 meters
   * keeps half a million of them.
   */
  readonly timestamps: number[];
  readonly registers: bigint[];
  /** Newest timestamp durable or queued: what a new reading must exceed. */
  newestAccepted: number;
  /** Oldest durable timestamp: where a history scan can stop. */
  oldest: number;
}

/** fsync a directory so that a file just created in it survives a crash. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function remember(state: MeterState, timestamp: number, register: bigint): void {
  if (state.timestamps.length === 0 && !Number.isFinite(state.oldest)) state.oldest = timestamp;
  state.timestamps.push(timestamp);
  state.registers.push(register);
  if (state.timestamps.length > RECENT_READINGS_LIMIT) {
    state.timestamps.shift();
    state.registers.shift();
  }
}

function newestDurable(state: MeterState): number {
  return state.timestamps[state.timestamps.length - 1] ?? Number.NEGATIVE_INFINITY;
}

export class FileStore implements Store {
  readonly loadSummary: LoadSummary;
  private readonly meters: Map<string, MeterState>;
  private readonly blocks: LogBlocks;
  private readonly customers: CustomerIndex;
  private readonly customersPath: string;
  private readonly handle: FileHandle;
  private readonly writer: GroupCommit<Reading, void>;
  /** Bytes of the log that are durable: where the next write goes. */
  private size: number;
  private readonly lock: DirectoryLock;
  private readingCount: number;
  private readonly maxMeters: number;
  /** Why the last write failed, until a write succeeds again. */
  private lastWriteError: StoreError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(parts: {
    meters: Map<string, MeterState>;
    blocks: LogBlocks;
    customers: CustomerIndex;
    customersPath: string;
    handle: FileHandle;
    size: number;
    lock: DirectoryLock;
    loadSummary: LoadSummary;
    maxMeters: number;
  }) {
    this.meters = parts.meters;
    this.blocks = parts.blocks;
    this.maxMeters = parts.maxMeters;
    this.customers = parts.customers;
    this.customersPath = parts.customersPath;
    this.handle = parts.handle;
    this.lock = parts.lock;
    this.loadSummary = parts.loadSummary;
    this.readingCount = parts.loadSummary.lines;
    this.size = parts.size;
    this.writer = new GroupCommit<Reading, void>({
      commit: async (readings) => {
        const lines = readings.map(formatLogLine);
        const written = await appendToLog(this.handle, this.size, lines);
        this.blocks.addLines(this.size, lines, readings);
        this.size += written;
        for (const reading of readings) remember(this.meterState(reading.matricula), reading.timestamp, reading.consumo);
        this.readingCount += readings.length;
        this.lastWriteError = undefined;
      },
      onFailure: async (readings, error) => {
        // Cut a partial write back off, and let every meter resend from its newest durable reading.
        await this.handle.truncate(this.size).catch(() => undefined);
        for (const reading of readings) {
          const state = this.meterState(reading.matricula);
          state.newestAccepted = newestDurable(state);
        }
        this.lastWriteError = new StoreError('UNAVAILABLE', `could not write ${READINGS_FILE}: ${(error as Error).message}`, { cause: error });
        return this.lastWriteError;
      },
    });
  }

  static async open(options: FileStoreOptions): Promise<FileStore> {
    const { dataDir, logger } = options;
    await mkdir(dataDir, { recursive: true });
    const lock = await lockDirectory(join(dataDir, LOCK_FILE));
    try {
      const customersPath = join(dataDir, CUSTOMERS_FILE);
      if (options.seedCustomersFile !== undefined) {
        try {
          await copyFile(options.seedCustomersFile, customersPath, fsConstants.COPYFILE_EXCL);
          await syncDirectory(dataDir);
          logger.info({ path: customersPath, from: options.seedCustomersFile }, 'seeded customers file');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
      }
      await (await open(customersPath, 'a')).close();
      const customers = new CustomerIndex();
      for (const customer of await readCustomerFile(customersPath, logger)) {
        if (!customers.add(customer)) logger.warn({ customer }, 'ignoring customer whose username or matricula repeats an earlier line');
      }

      const readingsPath = join(dataDir, READINGS_FILE);
      const handle = await open(readingsPath, fsConstants.O_RDWR | fsConstants.O_CREAT);
      await syncDirectory(dataDir);
      const { meters, blocks, summary, size } = await loadIndex(handle, readingsPath, logger);
      return new FileStore({ meters, blocks, customers, customersPath, handle, size, lock, loadSummary: summary, maxMeters: options.maxMeters ?? DEFAULT_MAX_METERS });
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  async append(readings: readonly Reading[]): Promise<AppendResult> {
    this.assertOpen();
    let stored = 0;
    let refused = 0;
    for (const reading of readings) {
      // Meters already known are kept even past the limit (they were loaded from the log).
      if (this.meters.size >= this.maxMeters && !this.meters.has(reading.matricula)) {
        refused++;
        continue;
      }
      const state = this.meterState(reading.matricula);
      if (reading.timestamp <= state.newestAccepted) continue;
      state.newestAccepted = reading.timestamp;
      this.writer.enqueue(reading);
      stored++;
    }
    await this.writer.flushed();
    const newest = new Map<string, number>();
    for (const reading of readings) {
      const state = this.meters.get(reading.matricula);
      const timestamp = state === undefined ? Number.NEGATIVE_INFINITY : newestDurable(state);
      if (Number.isFinite(timestamp)) newest.set(reading.matricula, timestamp);
    }
    return { stored, duplicates: readings.length - stored - refused, refused, newest };
  }

  async recentReadings(matricula: string, count: number): Promise<Reading[]> {
    this.assertOpen();
    if (!Number.isInteger(count) || count < 1 || count > RECENT_READINGS_LIMIT) {
      throw new RangeError(`count must be 1 to ${RECENT_READINGS_LIMIT}`);
    }
    const state = this.meters.get(matricula);
    const readings: Reading[] = [];
    if (state === undefined) return readings;
    for (let i = state.timestamps.length - 1; i >= 0 && readings.length < count; i--) {
      readings.push({ matricula, timestamp: state.timestamps[i] as number, consumo: state.registers[i] as bigint });
    }
    return readings;
  }

  /**
   * Reads the blocks of the log that overlap the range, newest first, and
   * picks the meter's lines out of each: the cost follows the readings of
   * every meter in the range (bounded by the meter's oldest and newest), not
   * the whole log; memory holds one block.
   */
  async *history(query: HistoryQuery): AsyncGenerator<Reading[]> {
    this.assertOpen();
    const { matricula } = query;
    const state = this.meters.get(matricula);
    if (state === undefined || state.timestamps.length === 0) return;
    const from = Math.max(query.from, state.oldest);
    // Fixed now: readings stored while the scan runs are not part of it.
    const to = Math.min(query.to, newestDurable(state) + 1);
    if (from >= to) return;
    const needle = `;${matricula};`;
    for (const block of this.blocks.overlapping(from, to)) {
      this.assertOpen();
      const text = await readBlock(this.handle, block.offset, block.length);
      const found: Reading[] = [];
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
        const start = text.lastIndexOf('\n', at) + 1;
        const end = text.indexOf('\n', at);
        const reading = parseLogLine(text.slice(start, end));
        if (reading !== undefined && reading.timestamp >= from && reading.timestamp < to) found.push(reading);
      }
      // A meter's lines are in timestamp order in the log: reversed, newest first.
      if (found.length > 0) yield found.reverse();
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
    return { added: added.length, skipped };
  }

  async stats(): Promise<StoreStats> {
    let meters = 0;
    for (const state of this.meters.values()) if (state.timestamps.length > 0) meters++;
    return { customers: this.customers.size, meters, readings: this.readingCount };
  }

  async health(): Promise<void> {
    this.assertOpen();
    if (this.lastWriteError !== undefined) throw this.lastWriteError;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.writer.flushed().catch(() => undefined);
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
): Promise<{ meters: Map<string, MeterState>; blocks: LogBlocks; summary: LoadSummary; size: number }> {
  // The hot loop of start-up: per line only slices, a char-code timestamp parse and
  // syntax checks; registers stay text until the few kept per meter are known.
  const loading = new Map<string, { newest: number; oldest: number; recent: Array<{ timestamp: number; consumo: string }> }>();
  const blocks = new LogBlocks();
  let lines = 0;
  let skipped = 0;
  let tornBytes = 0;
  let size = (await handle.stat()).size;
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
      const consumo = line.slice(second + 1);
      if (second === -1 || timestamp === undefined || !isMatricula(matricula) || !isRegister(consumo)) {
        skipped++;
        if (skipped <= MAX_SKIPPED_LINES_LOGGED) logger.warn({ path, offset }, 'skipping unreadable line in readings log');
      } else {
        lines++;
        let state = loading.get(matricula);
        if (state === undefined) loading.set(matricula, (state = { newest: Number.NEGATIVE_INFINITY, oldest: timestamp, recent: [] }));
        if (timestamp < oldest) oldest = timestamp;
        if (timestamp > newest) newest = timestamp;
        // A line not newer than its predecessor (a hand-merged log) cannot be the newest: keep the order strict.
        if (timestamp > state.newest) {
          state.newest = timestamp;
          state.recent.push({ timestamp, consumo });
          if (state.recent.length > RECENT_READINGS_LIMIT) state.recent.shift();
        }
      }
      offset += line.length + 1;
    });
    if (newest >= oldest) blocks.add(chunk.offset, chunk.text.length, oldest, newest);
  }
  if (skipped > MAX_SKIPPED_LINES_LOGGED) logger.warn({ path, skipped }, 'unreadable lines in readings log were skipped');
  const meters = new Map<string, MeterState>();
  for (const [matricula, state] of loading) {
    meters.set(matricula, {
      newestAccepted: state.newest,
      oldest: state.oldest,
      timestamps: state.recent.map((reading) => reading.timestamp),
      registers: state.recent.map((reading) => parseRegister(reading.consumo) as bigint),
    });
  }
  return { meters, blocks, summary: { lines, skipped, tornBytes }, size };
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
    state = { timestamps: [], registers: [], newestAccepted: Number.NEGATIVE_INFINITY, oldest: Number.POSITIVE_INFINITY };
    meters.set(matricula, state);
  }
  return state;
}
