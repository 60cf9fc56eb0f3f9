/** Meter events in PostgreSQL (migration 008), through the main store's pool. */
import type { MeterEventType } from '../../protocol/meter-commands.js';
import type { EventId, EventQuery, EventStore, MeterEvent } from '../event-store.js';
import type { DeliveryState } from '../alert-store.js';
import type { PgDatabase } from './pg-database.js';

const COLUMNS = 'matricula, data_hora, tipo, detalhe, recebido_em, entrega, tentativas_entrega';

interface EventRow {
  matricula: string;
  data_hora: string;
  tipo: string;
  detalhe: string;
  recebido_em: string;
  entrega: string;
  tentativas_entrega: number;
}

const fromRow = (row: EventRow): MeterEvent => ({
  matricula: row.matricula,
  timestamp: Number(row.data_hora),
  type: row.tipo as MeterEventType,
  detail: row.detalhe,
  receivedAt: Number(row.recebido_em),
  delivery: row.entrega as DeliveryState,
  deliveryAttempts: row.tentativas_entrega,
});

export class PgEventStore implements EventStore {
  constructor(private readonly db: PgDatabase) {}

  async append(events: readonly MeterEvent[]): Promise<boolean[]> {
    if (events.length === 0) return [];
    // One statement for the batch; the rows it inserted come back, the others were there already.
    const { rows } = await this.db.run<{ matricula: string; data_hora: string; tipo: string }>(
      `INSERT INTO ocorrencias (${COLUMNS})
       SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::integer[])
       ON CONFLICT DO NOTHING RETURNING matricula, data_hora, tipo`,
      [events.map((e) => e.matricula), events.map((e) => e.timestamp), events.map((e) => e.type), events.map((e) => e.detail), events.map((e) => e.receivedAt), events.map((e) => e.delivery), events.map((e) => e.deliveryAttempts)],
    );
    const inserted = new Set(rows.map((r) => `${r.matricula}|${r.data_hora}|${r.tipo}`));
    const fresh = events.map((e) => {
      const key = `${e.matricula}|${e.timestamp}|${e.type}`;
      // A batch that holds the same event twice stored it once: the first copy is the new one.
      return inserted.delete(key);
    });
    const stored = events.filter((_, i) => fresh[i]);
    if (stored.length > 0) this.db.changes.publish({ kind: 'ocorrencias', events: stored });
    return fresh;
  }

  async list(query: EventQuery, offset: number, limit: number): Promise<MeterEvent[]> {
    const { rows } = await this.db.run<EventRow>(
      `SELECT ${COLUMNS} FROM ocorrencias
       WHERE data_hora BETWEEN $1 AND $2 AND ($3::varchar IS NULL OR matricula = $3) AND ($4::text IS NULL OR tipo = $4)
       ORDER BY data_hora DESC, matricula COLLATE "C", tipo COLLATE "C" OFFSET $5 LIMIT $6`,
      [query.from, query.to, query.matricula ?? null, query.type ?? null, offset, limit],
    );
    return rows.map(fromRow);
  }

  async newestPerMeter(types: readonly MeterEventType[]): Promise<MeterEvent[]> {
    const { rows } = await this.db.run<EventRow>(`SELECT DISTINCT ON (matricula) ${COLUMNS} FROM ocorrencias WHERE tipo = ANY($1) ORDER BY matricula, data_hora DESC, tipo COLLATE "C"`, [types]);
    return rows.map(fromRow);
  }

  async setDelivery(event: EventId, delivery: DeliveryState, attempts: number): Promise<void> {
    await this.db.run('UPDATE ocorrencias SET entrega = $4, tentativas_entrega = $5 WHERE matricula = $1 AND data_hora = $2 AND tipo = $3', [event.matricula, event.timestamp, event.type, delivery, attempts]);
  }

  async pendingDeliveries(): Promise<MeterEvent[]> {
    const { rows } = await this.db.run<EventRow>(`SELECT ${COLUMNS} FROM ocorrencias WHERE entrega = 'pendente' ORDER BY recebido_em`);
    return rows.map(fromRow);
  }
}
