/** Invocation counters in PostgreSQL (migration 016): one row per keyed meter, moved only upwards by a conditional upsert. */
import type { MeterCounterStore } from '../meter-counter-store.js';
import type { PgDatabase } from './pg-database.js';

export class PgMeterCounterStore implements MeterCounterStore {
  constructor(private readonly db: PgDatabase) {}

  async newest(matricula: string): Promise<bigint | undefined> {
    const { rows } = await this.db.run<{ contador: string }>('SELECT contador FROM contadores_medidores WHERE matricula = $1', [matricula]);
    return rows[0] === undefined ? undefined : BigInt(rows[0].contador);
  }

  async advance(matricula: string, counter: bigint): Promise<boolean> {
    // One statement: the row's lock orders servers offering counters at once, and the WHERE keeps it from going down.
    const { rowCount } = await this.db.run(
      `INSERT INTO contadores_medidores (matricula, contador) VALUES ($1, $2)
       ON CONFLICT (matricula) DO UPDATE SET contador = EXCLUDED.contador WHERE contadores_medidores.contador < EXCLUDED.contador`,
      [matricula, String(counter)],
    );
    return rowCount === 1;
  }

  async all(): Promise<ReadonlyMap<string, bigint>> {
    const { rows } = await this.db.run<{ matricula: string; contador: string }>('SELECT matricula, contador FROM contadores_medidores ORDER BY matricula');
    return new Map(rows.map((row) => [row.matricula, BigInt(row.contador)]));
  }
}
