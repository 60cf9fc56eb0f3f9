/**
 * One fixed record of a rollup (domain/readings/rollups.ts) as the file
 * store writes it for an hour (hour-rollups.ts) or a day (day-rollups.ts).
 */
import { emptyRollup, type Rollup } from '../../domain/readings/rollups.js';

/** Bytes of a record (a power of two: a record never straddles a disk sector). */
export const RECORD_BYTES = 64;

/*
 * Record layout (little-endian): 0 through (u48) · 8 readings (u32) · 12 flagged (u32) · 16 usable (u32) ·
 * 20 oldest's ms into the period (u32) · 24 newest's ms into the period (u32) · 32 oldest register (i64) ·
 * 40 newest register (i64) · 48-63 zero. A record of zeros is a period without readings.
 */

export interface StoredRecord {
  readonly through: number;
  readonly rollup: Rollup;
}

export function decodeRecord(buffer: Buffer, at: number, start: number): StoredRecord {
  const through = buffer.readUIntLE(at, 6);
  const readings = buffer.readUInt32LE(at + 8);
  if (readings === 0) return { through, rollup: emptyRollup(start) };
  const usable = buffer.readUInt32LE(at + 16);
  return {
    through,
    rollup: {
      start,
      readings,
      flagged: buffer.readUInt32LE(at + 12),
      usable,
      oldest: usable === 0 ? undefined : { timestamp: start + buffer.readUInt32LE(at + 20), register: readRegister(buffer, at + 32) },
      newest: usable === 0 ? undefined : { timestamp: start + buffer.readUInt32LE(at + 24), register: readRegister(buffer, at + 40) },
    },
  };
}

/** A register (i64): through a Number when it is exact (every register below 2^53 thousandths), which is faster than readBigInt64LE. */
function readRegister(buffer: Buffer, at: number): bigint {
  const high = buffer.readInt32LE(at + 4);
  return high >= 0 && high < 0x200000 ? BigInt(high * 0x1_0000_0000 + buffer.readUInt32LE(at)) : buffer.readBigInt64LE(at);
}

export function encodeRecord(buffer: Buffer, at: number, through: number, rollup: Rollup): void {
  buffer.fill(0, at, at + RECORD_BYTES);
  buffer.writeUIntLE(through, at, 6);
  buffer.writeUInt32LE(rollup.readings, at + 8);
  buffer.writeUInt32LE(rollup.flagged, at + 12);
  buffer.writeUInt32LE(rollup.usable, at + 16);
  if (rollup.oldest !== undefined && rollup.newest !== undefined) {
    buffer.writeUInt32LE(rollup.oldest.timestamp - rollup.start, at + 20);
    buffer.writeUInt32LE(rollup.newest.timestamp - rollup.start, at + 24);
    buffer.writeBigInt64LE(rollup.oldest.register, at + 32);
    buffer.writeBigInt64LE(rollup.newest.register, at + 40);
  }
}

