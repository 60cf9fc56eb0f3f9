/** The validation rules against hand-made series: each rule fires where it should and stays quiet where it should not. */
import fc from 'fast-check';
import t from 'tap';
import { MeterWindow } from '../../../domain/readings/admission.js';
import { DEFAULT_QUALITY_RULES, formatQuality, parseQuality, QUALITY_FLAGS, qualityFlags, type QualityRules } from '../../../domain/readings/quality.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 1);

/** Flags of each reading of a series of [hours after START, register in kWh], judged one after another as a store does. */
function judge(series: ReadonlyArray<readonly [number, number]>, rules: QualityRules = DEFAULT_QUALITY_RULES): string[] {
  const window = new MeterWindow();
  return series.map(([hours, kwh]) => {
    const reading = { matricula: '1', timestamp: START + hours * HOUR, consumo: BigInt(Math.round(kwh * 1000)) };
    const mask = window.assess(reading, rules);
    window.add(reading.timestamp, Number(reading.consumo), mask);
    return formatQuality(mask) || 'valida';
  });
}

/** Hourly readings growing by `step` kWh from 100, for `count` hours. */
function steady(count: number, step = 1): Array<[number, number]> {
  return Array.from({ length: count }, (_, hour) => [hour, 100 + hour * step] as [number, number]);
}

t.test('a steady meter is valid throughout', async (t) => {
  t.same(judge(steady(40)), Array(40).fill('valida'));
});

t.test('pico: an order of magnitude above the typical rate fires; a 4x surge does not', async (t) => {
  const base = steady(8, 2); // 2 kWh/h, register 114 at hour 7
  t.same(judge([...base, [8, 114 + 30]]).at(-1), 'pico', '15x the typical rate');
  t.same(judge([...base, [8, 114 + 8]]).at(-1), 'valida', '4x: the demo\'s peak, an ordinary surge');
  t.same(judge([...base, [8, 114 + 19]]).at(-1), 'valida', '9.5x: under the factor of 10');
  t.same(judge([...base, [8, 114 + 21]]).at(-1), 'pico', '10.5x: over it');
});

t.test('pico: a forged spike neither flags the genuine readings after it nor becomes their baseline', async (t) => {
  const flags = judge([...steady(8, 2), [8, 9000], [9, 118], [10, 120], [11, 122]]);
  t.same(flags.slice(8), ['pico', 'valida', 'valida', 'valida']);
});

t.test('pico: a step that persists is flagged once, and the meter carries on from it', async (t) => {
  const flags = judge([...steady(8, 2), [8, 200], [9, 202], [10, 204]]);
  t.same(flags.slice(8), ['pico', 'valida', 'valida'], 'the reading after the step continues from it at an ordinary rate: the step is real');
  t.same(judge([...steady(8, 2), [8, 200], [9, 400]]).slice(8), ['pico', 'pico'], 'a second jump confirms nothing');
});

t.test('pico needs a typical rate: too little history, nothing is judged a spike', async (t) => {
  t.same(judge([[0, 100], [1, 101], [2, 102], [3, 103], [4, 500]]), ['valida', 'valida', 'valida', 'valida', 'valida'], 'three intervals are not enough');
  t.same(judge([[0, 100], [1, 101], [2, 102], [3, 103], [4, 104], [5, 500]]).at(-1), 'pico', 'four are');
});

t.test('pico: a quiet meter is judged against the floor, not against its near-zero rate', async (t) => {
  const quiet = steady(8, 0.1); // 0.1 kWh/h
  t.same(judge([...quiet, [8, 100.7 + 5]]).at(-1), 'valida', '5 kWh in an hour: 50x its rate, but under 10 x 1 kW');
  t.same(judge([...quiet, [8, 100.7 + 11]]).at(-1), 'pico', '11 kWh in an hour is over 10 x 1 kW');
  t.same(judge([...quiet, [8, 100.7 + 5]], { ...DEFAULT_QUALITY_RULES, spikeFloorKwhPerHour: 0.1 }).at(-1), 'pico', 'a lower floor is a setting');
});

t.test('regressiva: a register below the last usable one fires, equal does not', async (t) => {
  t.same(judge([[0, 100], [1, 99.999]]), ['valida', 'regressiva']);
  t.same(judge([[0, 100], [1, 100]]), ['valida', 'valida']);
  t.same(judge([[0, 100], [1, 90], [2, 101]]), ['valida', 'regressiva', 'valida'], 'the reading after a regressive one is judged against the last usable one');
});

t.test('lacuna_antes: a gap over three typical intervals fires, under it does not', async (t) => {
  const base = steady(6);
  t.same(judge([...base, [9.1, 110]]).at(-1), 'lacuna_antes', '4.1 h after hourly readings');
  t.same(judge([...base, [7.9, 110]]).at(-1), 'valida', '2.9 h');
});

t.test('consumo_zero_prolongado: a register still for six hours fires, and keeps firing while it stays still', async (t) => {
  const still: Array<[number, number]> = [[0, 100], [1, 101], ...Array.from({ length: 8 }, (_, i) => [2 + i, 102] as [number, number])];
  // The register reached 102 at hour 2; six hours still at hour 8.
  t.same(judge(still), ['valida', 'valida', 'valida', 'valida', 'valida', 'valida', 'valida', 'valida', 'consumo_zero_prolongado', 'consumo_zero_prolongado']);
  t.same(judge([...still, [10, 103]]).at(-1), 'valida', 'consumption resumes');
  t.same(judge(still, { ...DEFAULT_QUALITY_RULES, zeroMs: 10 * HOUR }).filter((flag) => flag !== 'valida'), [], 'a longer setting');
});

t.test('flags combine: a spike after a gap is both', async (t) => {
  t.same(judge([...steady(8, 2), [20, 114 + 400]]).at(-1), 'pico,lacuna_antes');
});

t.test('quality text: format and parse are inverse for every set of flags; anything else is refused', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: (1 << QUALITY_FLAGS.length) - 1 }), (mask) => {
      t.equal(parseQuality(formatQuality(mask)), mask);
      t.same(qualityFlags(mask).join(','), formatQuality(mask));
    }),
  );
  for (const bad of ['pico,pico', 'outra', 'pico,', ',pico', 'PICO', 'pico;regressiva']) t.equal(parseQuality(bad), undefined, bad);
});
