/**
 * MeterWindow against a model of plain arrays: any sequence of admitted
 * readings, settles and removals leaves the same readings, flags and
 * verdicts (its compact storage, issue 30, must not change what it says).
 */
import fc from 'fast-check';
import t from 'tap';
import { LATE_WINDOW_READINGS, MeterWindow, OPEN_ADMISSION } from '../../../domain/readings/admission.js';
import { arraysWindow, assessReading, DEFAULT_QUALITY_RULES } from '../../../domain/readings/quality.js';

interface Entry {
  timestamp: number;
  register: number;
  mask: number;
  pending: boolean;
}

type Step = { kind: 'add'; timestamp: number; register: number; mask: number; pending: boolean } | { kind: 'settle'; pick: number } | { kind: 'remove'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), timestamp: fc.integer({ min: 0, max: 200 }).map((n) => 1_700_000_000_000 + n * 60_000), register: fc.integer({ min: 0, max: 10 ** 12 }), mask: fc.integer({ min: 0, max: 15 }), pending: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
);

t.test('MeterWindow holds what a sorted array of its newest LATE_WINDOW_READINGS readings holds', async () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
      const window = new MeterWindow();
      let model: Entry[] = [];
      let complete = true;
      for (const s of steps) {
        if (s.kind === 'add') {
          // Only readings the window itself calls new are added (as stores do).
          const verdict = window.judge({ matricula: '1', timestamp: s.timestamp, consumo: BigInt(s.register) }, OPEN_ADMISSION);
          const known = model.find((e) => e.timestamp === s.timestamp);
          const expected = known !== undefined ? (known.register === s.register ? 'duplicate' : 'conflito') : !complete && model.length > 0 && s.timestamp < (model[0] as Entry).timestamp ? 'atrasada' : 'new';
          if (verdict !== expected) throw new Error(`verdict ${verdict}, model ${expected}`);
          if (verdict !== 'new') continue;
          const at = model.filter((e) => e.timestamp < s.timestamp).length;
          const view = arraysWindow(model.map((e) => e.timestamp), model.map((e) => e.register), model.map((e) => e.mask));
          const quality = window.assess({ matricula: '1', timestamp: s.timestamp, consumo: BigInt(s.register) }, DEFAULT_QUALITY_RULES);
          if (quality !== assessReading(view, at, s.timestamp, s.register, DEFAULT_QUALITY_RULES)) throw new Error('quality differs');
          window.add(s.timestamp, s.register, s.mask, s.pending);
          model.push({ timestamp: s.timestamp, register: s.register, mask: s.mask, pending: s.pending });
          model.sort((a, b) => a.timestamp - b.timestamp);
          if (model.length > LATE_WINDOW_READINGS) {
            model = model.slice(-LATE_WINDOW_READINGS);
            complete = false;
          }
        } else if (model.length > 0) {
          const chosen = model[s.pick % model.length] as Entry;
          if (s.kind === 'settle') {
            window.settle(chosen.timestamp);
            chosen.pending = false;
          } else {
            window.remove(chosen.timestamp);
            model = model.filter((e) => e !== chosen);
          }
        }
        if (window.length !== model.length || window.complete !== complete) throw new Error(`length ${window.length}/${model.length}, complete ${window.complete}/${complete}`);
        model.forEach((e, i) => {
          if (window.timestampAt(i) !== e.timestamp || window.registerAt(i) !== e.register || window.maskAt(i) !== e.mask || window.isPending(i) !== e.pending) throw new Error(`reading ${i} differs`);
        });
        if (window.newest !== (model.length === 0 ? Number.NEGATIVE_INFINITY : (model[model.length - 1] as Entry).timestamp)) throw new Error('newest differs');
      }
      return true;
    }),
    { numRuns: 500 },
  );
});
