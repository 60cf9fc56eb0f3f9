/**
 * A simulated meter's state kept across its own restart (`--estado DIR`):
 * register, invocation counter, supply, demand limit, clock offset, the answers of the
 * commands it executed (so a repeat after a restart is never executed
 * again) and the events not yet acknowledged. One JSON file per meter,
 * replaced atomically (written aside, then renamed).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES, type EventLine } from '../protocol/meter-commands.js';
import type { MeterControlState } from './meter-control.js';

export interface SavedMeterState {
  readonly register: bigint;
  /** The newest invocation counter the meter signed with (0 when none). */
  readonly counter: bigint;
  readonly control: MeterControlState;
  readonly answered: ReadonlyArray<readonly [string, string]>;
  readonly events: readonly EventLine[];
}

const fileOf = (dir: string, matricula: string): string => join(dir, `${matricula}.json`);

export function saveMeterState(dir: string, matricula: string, state: SavedMeterState): void {
  mkdirSync(dir, { recursive: true });
  const path = fileOf(dir, matricula);
  const json = JSON.stringify({ ...state, register: state.register.toString(), counter: state.counter.toString() });
  writeFileSync(`${path}.tmp`, json);
  renameSync(`${path}.tmp`, path);
}

/** The saved state, or undefined when there is none or it cannot be read (the meter starts afresh). */
export function loadMeterState(dir: string, matricula: string): SavedMeterState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(fileOf(dir, matricula), 'utf8'));
  } catch {
    return undefined;
  }
  const r = raw as { register?: unknown; counter?: unknown; control?: Record<string, unknown>; answered?: unknown; events?: unknown };
  if (typeof r.register !== 'string' || !/^\d{1,30}$/.test(r.register) || typeof r.control !== 'object' || r.control === null) return undefined;
  const { supply, limitW, clockOffsetMs } = r.control;
  if ((supply !== 'ligado' && supply !== 'cortado') || !(limitW === null || Number.isSafeInteger(limitW)) || !Number.isSafeInteger(clockOffsetMs)) return undefined;
  const answered = Array.isArray(r.answered) ? r.answered.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string') : [];
  const events = Array.isArray(r.events)
    ? r.events.filter((e): e is EventLine => typeof e === 'object' && e !== null && typeof e.matricula === 'string' && Number.isSafeInteger(e.timestamp) && EVENT_TYPES.includes(e.type) && typeof e.detail === 'string')
    : [];
  // A state saved before counters has none: the clock floor (meter-signer.ts) still keeps the next one above what was sent.
  const counter = typeof r.counter === 'string' && /^\d{1,19}$/.test(r.counter) ? BigInt(r.counter) : 0n;
  return { register: BigInt(r.register), counter, control: { supply, limitW: limitW as number | null, clockOffsetMs: clockOffsetMs as number }, answered, events };
}
