import fc from 'fast-check';
import t from 'tap';
import { registerDrops } from '../../database/import.js';

t.test('registerDrops names exactly the meters whose register goes down, counting each drop, from the first', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.record({ matricula: fc.constantFrom('1', '2', '3'), consumo: fc.bigInt({ min: 0n, max: 20n }) }), { maxLength: 40 }), (rows) => {
      const readings = rows.map((row, i) => ({ ...row, timestamp: i }));
      const expected = new Map<string, { drops: number; firstAt: number }>();
      for (const matricula of ['1', '2', '3']) {
        const own = readings.filter((r) => r.matricula === matricula);
        for (let i = 1; i < own.length; i++) {
          if ((own[i] as { consumo: bigint }).consumo < (own[i - 1] as { consumo: bigint }).consumo) {
            const entry = expected.get(matricula);
            if (entry === undefined) expected.set(matricula, { drops: 1, firstAt: (own[i] as { timestamp: number }).timestamp });
            else entry.drops++;
          }
        }
      }
      const got = registerDrops(readings);
      t.same(new Map(got.map((d) => [d.matricula, { drops: d.drops, firstAt: d.firstAt }])), expected);
    }),
    { numRuns: 300 },
  );
});
