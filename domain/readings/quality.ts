/**
 * Validation of readings (the first V of an MDM's VEE), pure: every stored
 * reading gets its quality when it is admitted, judged against its meter's
 * newest readings (the admission window, domain/readings/admission.ts), and keeps
 * it in the history. A reading with no flag is `valida`.
 *
 * - `pico`: the consumption since the last usable reading runs at more than
 *   `spikeFactor` (10) times the meter's typical rate (the median of the
 *   rates between its usable readings in the window), and above
 *   `spikeFactor` times `spikeFloorKwhPerHour`: an order of magnitude above
 *   normal, not an ordinary surge (a 4x peak is not one).
 * - `regressiva`: the register is below that of the last usable reading.
 * - `lacuna_antes`: the time since the previous reading is more than
 *   `gapFactor` (3) times the meter's typical interval.
 * - `consumo_zero_prolongado`: the register has not moved for `zeroMs` (6 h)
 *   or more, as far as the window shows (or the previous reading was so
 *   flagged and the register still has not moved).
 *
 * `pico` and `regressiva` make a reading unusable: the alert and billing
 * skip it, and the next reading is judged against the last usable one, so
 * a forged or faulty spike neither drives an alert or a bill nor makes the
 * genuine readings after it look wrong. Only when the reading right after
 * a spike carries on from it at an ordinary rate is the step taken as real
 * (a meter that really jumped): that reading is valid and the next ones
 * follow it; the spike itself stays flagged for review. The others inform.
 * Typical rate and interval need MIN_INTERVALS usable intervals; until a
 * meter has them only `regressiva` and `consumo_zero_prolongado` apply.
 *
 * Rates are compared in floating point: a threshold on a ratio is a
 * judgement, not money; registers themselves stay exact.
 */

export const QUALITY_FLAGS = ['pico', 'regressiva', 'lacuna_antes', 'consumo_zero_prolongado'] as const;
export type QualityFlag = (typeof QUALITY_FLAGS)[number];

/** A reading's flags as a bit set: bit i is QUALITY_FLAGS[i]; 0 is `valida`. */
export type QualityMask = number;
export const VALID: QualityMask = 0;
export const SPIKE: QualityMask = 1;
export const REGRESSIVE: QualityMask = 2;
export const GAP_BEFORE: QualityMask = 4;
export const PROLONGED_ZERO: QualityMask = 8;
/** Flags that keep a reading out of alerts and bills. */
export const UNUSABLE: QualityMask = SPIKE | REGRESSIVE;

/** Usable intervals the typical rate and interval need. */
export const MIN_INTERVALS = 4;
const MS_PER_HOUR = 3_600_000;

export interface QualityRules {
  /** A spike runs at more than this many times the typical rate (VEE_PICO_FATOR). */
  readonly spikeFactor: number;
  /** Rate below which no consumption is a spike, before the factor (VEE_PICO_TAXA_MINIMA_KWH_H). */
  readonly spikeFloorKwhPerHour: number;
  /** A gap is longer than this many typical intervals (VEE_LACUNA_FATOR). */
  readonly gapFactor: number;
  /** A register still this long is prolonged zero consumption (VEE_ZERO_HORAS). */
  readonly zeroMs: number;
}

export const DEFAULT_QUALITY_RULES: QualityRules = { spikeFactor: 10, spikeFloorKwhPerHour: 1, gapFactor: 3, zeroMs: 6 * MS_PER_HOUR };

export function isUsable(mask: QualityMask): boolean {
  return (mask & UNUSABLE) === 0;
}

/** The flags of a mask, in QUALITY_FLAGS order; empty for `valida`. */
export function qualityFlags(mask: QualityMask): QualityFlag[] {
  const flags: QualityFlag[] = [];
  for (let bit = 0; bit < QUALITY_FLAGS.length; bit++) if ((mask & (1 << bit)) !== 0) flags.push(QUALITY_FLAGS[bit] as QualityFlag);
  return flags;
}

/** `pico,lacuna_antes`; empty for `valida`. The text the readings log and the `qualidade` column hold. */
export function formatQuality(mask: QualityMask): string {
  return qualityFlags(mask).join(',');
}

/** The inverse of formatQuality; undefined for an unknown or repeated flag. */
export function parseQuality(text: string): QualityMask | undefined {
  if (text === '') return VALID;
  let mask = 0;
  for (const name of text.split(',')) {
    const bit = QUALITY_FLAGS.indexOf(name as QualityFlag);
    if (bit === -1 || (mask & (1 << bit)) !== 0) return undefined;
    mask |= 1 << bit;
  }
  return mask;
}

/** A meter's newest readings, ascending by timestamp: registers in thousandths (exact as Numbers: 15 digits at most). */
export interface QualityWindow {
  /** The timestamp of reading `i` (0 the oldest). */
  timestampAt(i: number): number;
  registerAt(i: number): number;
  maskAt(i: number): QualityMask;
}

/** A QualityWindow over parallel arrays (a model's, a test's). */
export function arraysWindow(timestamps: readonly number[], registers: readonly number[], masks: readonly QualityMask[]): QualityWindow {
  return { timestampAt: (i) => timestamps[i] as number, registerAt: (i) => registers[i] as number, maskAt: (i) => masks[i] as QualityMask };
}

/**
 * The median of the first `count` values, sorted in place by insertion: a
 * window's intervals are a few dozen, and this runs for every reading
 * admitted (sorting arrays with a comparator was a tenth of ingest's CPU).
 */
function median(values: Float64Array, count: number): number {
  for (let i = 1; i < count; i++) {
    const value = values[i] as number;
    let j = i - 1;
    while (j >= 0 && (values[j] as number) > value) {
      values[j + 1] = values[j] as number;
      j--;
    }
    values[j + 1] = value;
  }
  const middle = count >> 1;
  return count % 2 === 1 ? (values[middle] as number) : ((values[middle - 1] as number) + (values[middle] as number)) / 2;
}

/** Scratch space for a window's rates and intervals, grown when a window is longer (judging is synchronous: one is in use at a time). */
let rates = new Float64Array(64);
let gaps = new Float64Array(64);

/**
 * The quality of a reading at `timestamp` with `register` (thousandths),
 * judged against the window's readings older than it (those before index
 * `at`, where it would be inserted).
 */
export function assessReading(window: QualityWindow, at: number, timestamp: number, register: number, rules: QualityRules): QualityMask {
  if (at === 0) return VALID;
  let mask = VALID;
  const previous = at - 1;
  let baseline = previous;
  while (baseline >= 0 && !isUsable(window.maskAt(baseline))) baseline--;

  // Typical rate and interval, between consecutive usable readings before this one.
  if (rates.length < at) {
    rates = new Float64Array(at * 2);
    gaps = new Float64Array(at * 2);
  }
  let intervals = 0;
  let later = -1;
  for (let i = baseline; i >= 0; i--) {
    if (!isUsable(window.maskAt(i))) continue;
    if (later !== -1) {
      const span = window.timestampAt(later) - window.timestampAt(i);
      rates[intervals] = (window.registerAt(later) - window.registerAt(i)) / span;
      gaps[intervals++] = span;
    }
    later = i;
  }
  const judged = intervals >= MIN_INTERVALS;

  const floor = (rules.spikeFloorKwhPerHour / MS_PER_HOUR) * 1000; // thousandths per ms
  const limit = judged ? rules.spikeFactor * Math.max(median(rates, intervals), floor) : Number.POSITIVE_INFINITY;
  const spikeFrom = (from: number): boolean => register > window.registerAt(from) && (register - window.registerAt(from)) / (timestamp - window.timestampAt(from)) > limit;
  // A step that persists: right after a spike, a reading that carries on from it at an ordinary rate confirms it.
  if (previous !== baseline && (window.maskAt(previous) & SPIKE) !== 0 && register >= window.registerAt(previous) && !spikeFrom(previous)) baseline = previous;
  if (baseline >= 0) {
    if (register < window.registerAt(baseline)) mask |= REGRESSIVE;
    else if (spikeFrom(baseline)) mask |= SPIKE;
  }
  if (judged && timestamp - window.timestampAt(previous) > rules.gapFactor * median(gaps, intervals)) mask |= GAP_BEFORE;

  if (register === window.registerAt(previous)) {
    if ((window.maskAt(previous) & PROLONGED_ZERO) !== 0) mask |= PROLONGED_ZERO;
    else {
      let start = previous;
      while (start > 0 && window.registerAt(start - 1) === register) start--;
      if (timestamp - window.timestampAt(start) >= rules.zeroMs) mask |= PROLONGED_ZERO;
    }
  }
  return mask;
}
