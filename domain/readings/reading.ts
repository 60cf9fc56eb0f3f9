/** The reading entity: what a meter reported (protocol/meter-protocol.ts) and, once stored, the quality it was judged with. */
import type { Reading } from '../../protocol/meter-protocol.js';
import type { QualityMask } from './quality.js';

export type { Reading } from '../../protocol/meter-protocol.js';

/** A reading as a store holds it: with the quality judged when it was admitted (quality.ts). */
export interface StoredReading extends Reading {
  /** Absent or 0 when `valida`. */
  readonly quality?: QualityMask | undefined;
}
