/**
 * `npm run bench:memoria`: the file store's in-memory
 * indexes per meter, after a full GC: meters of no customer with one reading
 * each (what invented matriculas cost), and registered meters with a full
 * admission window (heap and array buffers). The memory before the readings
 * is the reference.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FileStore } from '../database/file/file-store.js';
import { ROLLUP_FLUSH_MS } from '../database/file/hour-rollups.js';
import type { Reading } from '../database/store.js';
import { parseCli } from './lib.js';

const values = parseCli('bench:memoria', "The file store's in-memory indexes per meter (heap after a full GC), for meters of no customer with one reading and registered meters with 40.", {
  medidores: { default: '100000,1000000', help: 'fleet sizes, comma-separated' },
  leituras: { default: '40', help: 'readings per registered meter' },
});
const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) {
  process.stderr.write('bench:memoria: run with node --expose-gc (npm run bench:memoria does)\n');
  process.exit(1);
}
const heap = (): number => {
  collect();
  collect();
  // Typed arrays' contents live outside the heap: counted too.
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};
const matricula = (i: number): string => String(20_000_000 + i);

async function perMeter(meters: number, readingsPerMeter: number, registered: boolean): Promise<{ peak: number; settled: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-memoria-'));
  try {
    if (registered) {
      const lines: string[] = [];
      for (let i = 0; i < meters; i++) lines.push(`cliente${i};${matricula(i)}\n`);
      await writeFile(join(dir, 'clientes.txt'), lines.join(''));
    }
    const store = await FileStore.open({ dataDir: dir, logger: pino({ level: 'silent' }), maxMeters: meters * 2 });
    const before = heap();
    const base = Date.now() - readingsPerMeter * 60_000 - 3_600_000;
    for (let round = 0; round < readingsPerMeter; round++) {
      for (let start = 0; start < meters; start += 10_000) {
        const batch: Reading[] = [];
        for (let i = start; i < Math.min(meters, start + 10_000); i++) batch.push({ matricula: matricula(i), timestamp: base + round * 60_000 + (i % 1000), consumo: BigInt(round * 250 + (i % 7)) });
        await store.append(batch);
      }
    }
    const after = heap();
    // The hourly rollups held since the last flush are written every ROLLUP_FLUSH_MS: what stays once they are.
    await new Promise((resolve) => setTimeout(resolve, ROLLUP_FLUSH_MS * 2));
    const settled = heap();
    await store.close();
    return { peak: (after - before) / meters, settled: (settled - before) / meters };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.stdout.write('| meters | no customer, 1 reading: bytes per meter, right after / 10 s later | registered, ' + values.leituras + ' readings: bytes per meter, right after / 10 s later |\n| --- | --- | --- |\n');
for (const meters of values.medidores.split(',').map(Number)) {
  const unregistered = await perMeter(meters, 1, false);
  const registered = await perMeter(meters, Number(values.leituras), true);
  process.stdout.write(`| ${meters.toLocaleString('en-US')} | ${Math.round(unregistered.peak)} / ${Math.round(unregistered.settled)} | ${Math.round(registered.peak)} / ${Math.round(registered.settled)} |\n`);
}
