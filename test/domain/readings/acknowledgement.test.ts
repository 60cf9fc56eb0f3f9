import fc from 'fast-check';
import t from 'tap';
import { LATE_WINDOW_READINGS, MeterWindow, OPEN_ADMISSION, REFUSAL_REASONS, type ReadingOutcome } from '../../../domain/readings/admission.js';
import { VALID } from '../../../domain/readings/quality.js';
import { replyTo } from '../../../domain/readings/acknowledgement.js';

const outcome = fc.constantFrom<ReadingOutcome>('stored', 'duplicate', 'capacity', ...REFUSAL_REASONS);
const sent = fc.array(fc.record({ reading: fc.record({ matricula: fc.constantFrom('1', '2'), timestamp: fc.integer({ min: 0, max: 50 }), consumo: fc.constant(0n) }), outcome }), { maxLength: 30 });

t.test('an ACK never covers a reading of the sender that was not stored, and names one the sender sent', async (t) => {
  fc.assert(
    fc.property(sent, (readings) => {
      const { acks, rejections } = replyTo(readings);
      for (const ack of acks) {
        const own = readings.filter((r) => r.reading.matricula === ack.matricula);
        t.ok(own.some((r) => r.reading.timestamp === ack.timestamp && (r.outcome === 'stored' || r.outcome === 'duplicate')), 'names a stored reading the sender sent');
        t.ok(own.every((r) => r.reading.timestamp > ack.timestamp || r.outcome === 'stored' || r.outcome === 'duplicate'), 'covers no reading that was not stored');
      }
      const refusals = readings.filter((r) => (REFUSAL_REASONS as readonly string[]).includes(r.outcome));
      t.equal(rejections.length, refusals.length, 'one REJEITADA per refused reading');
      for (const matricula of ['1', '2']) {
        const own = readings.filter((r) => r.reading.matricula === matricula);
        const firstBad = Math.min(...own.filter((r) => r.outcome !== 'stored' && r.outcome !== 'duplicate').map((r) => r.reading.timestamp));
        const best = Math.max(...own.filter((r) => (r.outcome === 'stored' || r.outcome === 'duplicate') && r.reading.timestamp < firstBad).map((r) => r.reading.timestamp));
        t.same(acks.find((a) => a.matricula === matricula)?.timestamp, Number.isFinite(best) ? best : undefined, 'the newest it may name');
      }
    }),
    { numRuns: 300 },
  );
});

t.test('the meter window judges like a list of every admitted timestamp, within its reach', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3 })), { maxLength: 120 }), fc.integer({ min: 0, max: 20 }), (arrivals, minIntervalMs) => {
      const window = new MeterWindow();
      const admitted: Array<{ timestamp: number; register: number }> = [];
      for (const [timestamp, register] of arrivals) {
        const verdict = window.judge({ matricula: '1', timestamp, consumo: BigInt(register) }, { ...OPEN_ADMISSION, minIntervalMs });
        const sorted = [...admitted].sort((a, b) => a.timestamp - b.timestamp);
        const same = sorted.find((a) => a.timestamp === timestamp);
        const reach = sorted.length > LATE_WINDOW_READINGS ? (sorted[sorted.length - LATE_WINDOW_READINGS] as { timestamp: number }).timestamp : Number.NEGATIVE_INFINITY;
        const expected = same !== undefined
          ? same.register === register ? 'duplicate' : 'conflito'
          : timestamp < reach ? 'atrasada'
            : sorted.some((a) => Math.abs(a.timestamp - timestamp) < minIntervalMs && a.timestamp >= reach) ? 'intervalo' : 'new';
        t.equal(verdict, expected, `${timestamp} after ${sorted.length} admitted`);
        if (verdict === 'new') {
          window.add(timestamp, register, VALID);
          admitted.push({ timestamp, register });
        }
      }
    }),
    { numRuns: 200 },
  );
});
