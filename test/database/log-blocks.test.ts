/** The log's sparse time index: blocks tile the log on line ends, never past their size, and find every overlapping line. */
import fc from 'fast-check';
import t from 'tap';
import { BLOCK_BYTES, LogBlocks } from '../../database/file/log-blocks.js';

t.test('blocks tile the appended lines exactly, each at most BLOCK_BYTES unless one line is longer, and bound their timestamps', async () => {
  const line = fc.record({ length: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: BLOCK_BYTES + 10 })), timestamp: fc.integer({ min: 0, max: 1e6 }) });
  fc.assert(
    fc.property(fc.array(fc.array(line, { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 30 }), fc.boolean(), (appends, loaded) => {
      const blocks = new LogBlocks();
      const all: Array<{ offset: number; length: number; timestamp: number }> = [];
      let offset = 0;
      if (loaded) {
        // A block recorded at start-up, as loadIndex does with whole chunks.
        blocks.add(0, 1000, 5, 5);
        all.push({ offset: 0, length: 1000, timestamp: 5 });
        offset = 1000;
      }
      for (const batch of appends) {
        blocks.addLines(offset, batch.map((l) => 'x'.repeat(l.length)), batch);
        for (const l of batch) {
          all.push({ offset, length: l.length, timestamp: l.timestamp });
          offset += l.length;
        }
      }
      const list = blocks.all();
      let end = 0;
      for (const block of list) {
        t.equal(block.offset, end, 'contiguous');
        end += block.length;
        const inside = all.filter((l) => l.offset >= block.offset && l.offset < block.offset + block.length);
        t.ok(inside.length > 0 && inside.every((l) => l.offset + l.length <= block.offset + block.length), 'cut on line ends');
        t.ok(block.length <= BLOCK_BYTES || inside.length === 1, 'not past the block size unless one line is');
        t.equal(block.oldest, Math.min(...inside.map((l) => l.timestamp)));
        t.equal(block.newest, Math.max(...inside.map((l) => l.timestamp)));
      }
      t.equal(end, offset, 'everything covered');
      const [from, to] = [250_000, 750_000];
      const found = [...blocks.overlapping(from, to)];
      for (const l of all.filter((l) => l.timestamp >= from && l.timestamp < to)) t.ok(found.some((b) => l.offset >= b.offset && l.offset < b.offset + b.length), 'every line in range is in a block found');
      t.same(found.map((b) => b.offset), [...found.map((b) => b.offset)].sort((a, b) => b - a), 'newest block first');
    }),
    { numRuns: 60 },
  );
});
