/**
 * A meter's newest readings that validation left usable (domain/readings/quality.ts:
 * not `pico`, not `regressiva`): what the alert and the original's bill are
 * computed from, so a forged or faulty reading drives neither. A query over
 * any Store: the usual case is one recentReadings call; only when a flagged
 * reading is among the newest does it look further back in the history.
 */
import { isUsable, VALID } from '../domain/readings/quality.js';
import { RECENT_READINGS_LIMIT, type Store, type StoredReading } from './store.js';

/** Readings looked through, newest first, for the usable ones: a bound on the work a run of flagged readings can cause. */
export const USABLE_LOOKBACK_READINGS = 256;

export const usable = (reading: StoredReading): boolean => isUsable(reading.quality ?? VALID);

export interface UsableReadings {
  /** At most the count asked for, newest first. */
  readonly readings: StoredReading[];
  /** Flagged readings passed over to find them. */
  readonly excluded: number;
}

/** At most `count` (1 to RECENT_READINGS_LIMIT) of the meter's newest usable readings, newest first, and how many flagged ones were passed over. */
export async function recentUsableReadings(store: Store, matricula: string, count: number): Promise<UsableReadings> {
  const recent = await store.recentReadings(matricula, RECENT_READINGS_LIMIT);
  const kept = recent.filter(usable);
  const newest = recent[0];
  if (kept.length >= count || recent.length < RECENT_READINGS_LIMIT || newest === undefined) {
    const readings = kept.slice(0, count);
    const last = readings[readings.length - 1];
    return { readings, excluded: recent.filter((reading) => !usable(reading) && (last === undefined || readings.length < count || reading.timestamp > last.timestamp)).length };
  }
  const readings: StoredReading[] = [];
  let excluded = 0;
  let seen = 0;
  for await (const batch of store.history({ matricula, from: 0, to: newest.timestamp + 1 })) {
    for (const reading of batch) {
      if (++seen > USABLE_LOOKBACK_READINGS || readings.length === count) return { readings, excluded };
      if (usable(reading)) readings.push(reading);
      else excluded++;
    }
  }
  return { readings, excluded };
}
