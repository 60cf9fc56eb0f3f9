/**
 * What a meter is answered for the readings it sent in one round (pure).
 *
 * The ACK is cumulative: a meter forgets every reading up to its timestamp.
 * So it names, per matricula, the newest reading *this sender* sent such
 * that every reading of its at or before it is stored (or was already,
 * identically) — never a reading of someone else, never beyond one of its
 * own that was not stored. Each reading refused by a rule gets its own
 * REJEITADA line. A reading neither stored nor refused (the meter limit)
 * gets neither: the meter keeps it and resends.
 */
import { REFUSAL_REASONS, type ReadingOutcome, type RefusalReason } from './admission.js';
import type { Ack, Reading, Rejection } from '../../protocol/meter-protocol.js';

export interface SentReading {
  readonly reading: Reading;
  readonly outcome: ReadingOutcome;
}

export interface Reply {
  readonly acks: Ack[];
  readonly rejections: Rejection[];
}

const isRefusal = (outcome: ReadingOutcome): outcome is RefusalReason => (REFUSAL_REASONS as readonly string[]).includes(outcome);

export function replyTo(sent: readonly SentReading[]): Reply {
  const byMatricula = new Map<string, { acked: number; blockedAt: number }>();
  const rejections: Rejection[] = [];
  for (const { reading, outcome } of sent) {
    let entry = byMatricula.get(reading.matricula);
    if (entry === undefined) byMatricula.set(reading.matricula, (entry = { acked: Number.NEGATIVE_INFINITY, blockedAt: Number.POSITIVE_INFINITY }));
    if (outcome === 'stored' || outcome === 'duplicate') continue;
    if (reading.timestamp < entry.blockedAt) entry.blockedAt = reading.timestamp;
    if (isRefusal(outcome)) rejections.push({ matricula: reading.matricula, timestamp: reading.timestamp, motivo: outcome });
  }
  for (const { reading, outcome } of sent) {
    const entry = byMatricula.get(reading.matricula) as { acked: number; blockedAt: number };
    if ((outcome === 'stored' || outcome === 'duplicate') && reading.timestamp < entry.blockedAt && reading.timestamp > entry.acked) entry.acked = reading.timestamp;
  }
  const acks: Ack[] = [];
  for (const [matricula, { acked }] of byMatricula) if (Number.isFinite(acked)) acks.push({ matricula, timestamp: acked });
  return { acks, rejections };
}
