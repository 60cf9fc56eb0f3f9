/** Invocation counters in `contadores-medidores.jsonl` (see journal.ts): a line per accepted counter, the greatest of a meter wins. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import type { MeterCounterStore } from '../meter-counter-store.js';
import { JournalWriter, readJournal } from './journal.js';

export const METER_COUNTERS_FILE = 'contadores-medidores.jsonl';

const COUNTER = /^[1-9]\d{0,18}$/;

function parseRecord(value: unknown): { matricula: string; counter: bigint } | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || typeof r.matricula !== 'string' || !isMatricula(r.matricula) || typeof r.contador !== 'string' || !COUNTER.test(r.contador)) return undefined;
  return { matricula: r.matricula, counter: BigInt(r.contador) };
}

export class FileMeterCounterStore implements MeterCounterStore {
  private readonly newestOf = new Map<string, bigint>();

  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileMeterCounterStore> {
    const store = new FileMeterCounterStore(new JournalWriter(join(dataDir, METER_COUNTERS_FILE), METER_COUNTERS_FILE));
    for (const { matricula, counter } of await readJournal(store.journal.path, parseRecord, logger)) {
      if (counter > (store.newestOf.get(matricula) ?? 0n)) store.newestOf.set(matricula, counter);
    }
    return store;
  }

  async newest(matricula: string): Promise<bigint | undefined> {
    return this.newestOf.get(matricula);
  }

  advance(matricula: string, counter: bigint): Promise<boolean> {
    return this.journal.serially(async () => {
      if (counter <= (this.newestOf.get(matricula) ?? 0n)) return false;
      await this.journal.append([{ matricula, contador: String(counter) }]);
      this.newestOf.set(matricula, counter);
      return true;
    });
  }

  async all(): Promise<ReadonlyMap<string, bigint>> {
    return new Map(this.newestOf);
  }
}
