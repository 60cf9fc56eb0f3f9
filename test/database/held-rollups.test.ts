/**
 * HeldRollups (the file store's rollups between flushes, in columns by
 * slot) against a model of plain maps built with rollupOf and mergeRollups:
 * any sequence of readings, merged rollups and drains, registers past 2^53
 * included.
 */
import fc from 'fast-check';
import t from 'tap';
import { HeldRollups, type SlotHours } from '../../database/file/held-rollups.js';
import { GAP_BEFORE, REGRESSIVE, SPIKE, VALID } from '../../domain/readings/quality.js';
import { mergeRollups, rollUp, rollupOf, type HourRollup } from '../../domain/readings/rollups.js';

const text = (value: unknown): string => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Map ? [...v.entries()].sort((a, b) => a[0] - b[0]) : v));
const BASE = Date.UTC(2026, 11, 1);

/** Everything held, as a flush reads it (each slot's hours), then let go. */
function drain(held: HeldRollups): SlotHours {
  const drained: SlotHours = new Map();
  for (const slot of held.slotsHeld()) drained.set(slot, held.of(slot));
  held.clear();
  return drained;
}

t.test('HeldRollups agrees with a model of maps for any sequence of adds, merges and drains', async () => {
  type Step =
    | { kind: 'add'; slot: number; timestamp: number; register: bigint; quality: number }
    | { kind: 'merge'; slot: number; readings: Array<{ timestamp: number; register: bigint; quality: number }> }
    | { kind: 'of'; slot: number }
    | { kind: 'drain' };
  const slot = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2100 }) });
  const timestamp = fc.integer({ min: 0, max: 5 * 60 }).map((minute) => BASE + minute * 60_000);
  const register = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 6n }), fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 60n }));
  const quality = fc.constantFrom(VALID, VALID, SPIKE, REGRESSIVE, GAP_BEFORE);
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), slot, timestamp, register, quality }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('merge' as const), slot, readings: fc.uniqueArray(fc.record({ timestamp, register, quality }), { minLength: 1, maxLength: 5, selector: (r) => r.timestamp }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('of' as const), slot }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const held = new HeldRollups();
      let model: SlotHours = new Map();
      const put = (s: number, rollup: HourRollup) => {
        let hours = model.get(s);
        if (hours === undefined) model.set(s, (hours = new Map()));
        const known = hours.get(rollup.start);
        hours.set(rollup.start, known === undefined ? rollup : mergeRollups(known, rollup));
      };
      const used = new Set<string>();
      for (const s of steps) {
        if (s.kind === 'add') {
          // One reading per instant and meter, as the store gives them.
          if (used.has(`${s.slot}@${s.timestamp}`)) continue;
          used.add(`${s.slot}@${s.timestamp}`);
          held.add(s.slot, s.timestamp, s.register, s.quality);
          put(s.slot, rollupOf(s.timestamp, s.register, s.quality));
        } else if (s.kind === 'merge') {
          const fresh = s.readings.filter((r) => !used.has(`${s.slot}@${r.timestamp}`));
          for (const r of fresh) used.add(`${s.slot}@${r.timestamp}`);
          for (const rollup of rollUp(fresh.map((r) => ({ matricula: '1', timestamp: r.timestamp, consumo: r.register, quality: r.quality })))) {
            held.merge(s.slot, rollup);
            put(s.slot, rollup);
          }
        } else if (s.kind === 'of') {
          if (text(held.of(s.slot)) !== text(model.get(s.slot) ?? new Map())) return false;
        } else {
          const drained = drain(held);
          if (text(new Map([...drained].sort((a, b) => a[0] - b[0]))) !== text(new Map([...model].sort((a, b) => a[0] - b[0])))) return false;
          model = new Map();
          if (held.size !== 0) return false;
        }
        let size = 0;
        for (const hours of model.values()) size += hours.size;
        if (held.size !== size) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('an hour of more than 65,535 readings (one every 50 ms) moves beside the lanes and is counted whole', async (t) => {
  const held = new HeldRollups();
  const readings = Array.from({ length: 70_000 }, (_, i) => ({ matricula: '1', timestamp: BASE + i * 50, consumo: BigInt(i), quality: i % 1000 === 0 ? SPIKE : VALID }));
  for (const r of readings) held.add(0, r.timestamp, r.consumo, r.quality);
  t.equal(text(held.of(0)), text(new Map(rollUp(readings).map((rollup) => [rollup.start, rollup]))));
  t.equal(held.size, 1, 'one hour held');
  t.equal(text(drain(held).get(0)), text(new Map(rollUp(readings).map((rollup) => [rollup.start, rollup]))));
});
