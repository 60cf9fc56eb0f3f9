/**
 * What a client reconnecting to `/eventos` missed, from memory: for each
 * meter watched lately, its newest readings as they are stored (at most
 * WINDOW_READINGS), and from when the window is whole. A replay never scans
 * the store: when the window does not reach back to the client's last
 * event, the client is told to reload (`recarregar`), which it does through
 * the heavy, fairly shared routes. Memory is bounded: MAX_WINDOWS meters,
 * each kept WINDOW_KEEP_MS after its last watcher left.
 */
import type { Reading } from '../../database/store.js';

export const WINDOW_READINGS = 64;
export const MAX_WINDOWS = 10_000;
export const WINDOW_KEEP_MS = 10 * 60_000;

interface Window {
  /** Oldest first. */
  readonly readings: Reading[];
  /** Every reading of the meter stored with a timestamp after this is in `readings`. */
  coverFrom: number;
  watchers: number;
  idleSince: number;
}

export class ReplayWindows {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts (or keeps) the meter's window while someone watches it; call before reading the meter's newest reading. */
  watch(matricula: string): void {
    let window = this.windows.get(matricula);
    if (window === undefined) {
      // Whole from nothing yet: `settle` says from when, once the newest reading is known.
      window = { readings: [], coverFrom: Number.POSITIVE_INFINITY, watchers: 0, idleSince: this.now() };
      this.windows.set(matricula, window);
      this.prune();
    }
    window.watchers++;
  }

  /** The meter's newest stored timestamp, read after `watch`: the window is whole after it. */
  settle(matricula: string, newest: number): void {
    const window = this.windows.get(matricula);
    if (window !== undefined && window.coverFrom === Number.POSITIVE_INFINITY) window.coverFrom = Math.min(newest, window.readings[0]?.timestamp ?? newest);
  }

  unwatch(matricula: string): void {
    const window = this.windows.get(matricula);
    if (window === undefined) return;
    window.watchers = Math.max(0, window.watchers - 1);
    if (window.watchers === 0) window.idleSince = this.now();
  }

  /** Readings stored (in order per meter): kept for the meters with a window. */
  stored(reading: Reading): void {
    const window = this.windows.get(reading.matricula);
    if (window === undefined) return;
    window.readings.push(reading);
    if (window.readings.length > WINDOW_READINGS) window.coverFrom = (window.readings.shift() as Reading).timestamp;
  }

  /** The readings after `afterMs`, oldest first, when the window reaches back that far; undefined when it does not. */
  after(matricula: string, afterMs: number): Reading[] | undefined {
    const window = this.windows.get(matricula);
    if (window === undefined || afterMs < window.coverFrom) return undefined;
    return window.readings.filter((reading) => reading.timestamp > afterMs);
  }

  /** The newest reading the window holds. */
  newest(matricula: string): number | undefined {
    return this.windows.get(matricula)?.readings.at(-1)?.timestamp;
  }

  get size(): number {
    return this.windows.size;
  }

  /** Drops windows nobody watched for WINDOW_KEEP_MS, and past MAX_WINDOWS the idle ones longest idle. */
  prune(): void {
    const now = this.now();
    for (const [matricula, window] of this.windows) if (window.watchers === 0 && now - window.idleSince > WINDOW_KEEP_MS) this.windows.delete(matricula);
    if (this.windows.size <= MAX_WINDOWS) return;
    const idle = [...this.windows].filter(([, window]) => window.watchers === 0).sort((a, b) => a[1].idleSince - b[1].idleSince);
    for (const [matricula] of idle.slice(0, this.windows.size - MAX_WINDOWS)) this.windows.delete(matricula);
  }
}
