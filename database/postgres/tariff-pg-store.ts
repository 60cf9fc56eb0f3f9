/** Tariffs in the `tarifas` table (migration 003; subclasses: 020), through the main store's pool. */
import { parseDecimal } from '../../protocol/decimal.js';
import { formatPrice, PRICE_SCALE } from '../../domain/billing/money.js';
import { compareTariffs, judgeTariff, subclassOf, tariffKey, type AddTariffsResult, type Tariff, type TariffStore } from '../tariff-store.js';
import type { PgDatabase } from './pg-database.js';

const PRICE_LIMITS = { scale: PRICE_SCALE, maxSignificantDigits: 20 };
const COLUMNS = "distribuidora, modalidade, posto, subclasse, to_char(vigencia_inicio, 'YYYY-MM-DD') AS vigencia_inicio, to_char(vigencia_fim, 'YYYY-MM-DD') AS vigencia_fim, te::text AS te, tusd::text AS tusd, resolucao";

interface TariffRow {
  distribuidora: string;
  modalidade: string;
  posto: string;
  subclasse: string;
  vigencia_inicio: string;
  vigencia_fim: string | null;
  te: string;
  tusd: string;
  resolucao: string;
}

const fromRow = (row: TariffRow): Tariff => ({
  distribuidora: row.distribuidora,
  modalidade: row.modalidade as Tariff['modalidade'],
  posto: row.posto as Tariff['posto'],
  ...(row.subclasse === 'residencial' ? {} : { subclasse: row.subclasse as Tariff['subclasse'] }),
  vigenciaInicio: row.vigencia_inicio,
  vigenciaFim: row.vigencia_fim,
  te: parseDecimal(row.te, PRICE_LIMITS) as bigint,
  tusd: parseDecimal(row.tusd, PRICE_LIMITS) as bigint,
  resolucao: row.resolucao,
});

export class PgTariffStore implements TariffStore {
  constructor(private readonly db: PgDatabase) {}

  addTariffs(tariffs: readonly Tariff[]): Promise<AddTariffsResult> {
    return this.db.transaction(async (client) => {
      const added: Tariff[] = [];
      const unchanged: Tariff[] = [];
      const refused: Array<{ tariff: Tariff; conflictsWith: Tariff }> = [];
      const keys = [...new Set(tariffs.map(tariffKey))].sort();
      // Servers judging the same key wait for each other: the overlap rule holds across them.
      for (const key of keys) await client.query("SELECT pg_advisory_xact_lock(hashtext('consumo-inteligente tarifa ' || $1))", [key]);
      const stored = new Map<string, Tariff[]>();
      for (const tariff of tariffs) {
        const key = tariffKey(tariff);
        if (!stored.has(key)) {
          const { rows } = await client.query<TariffRow>(`SELECT ${COLUMNS} FROM tarifas WHERE distribuidora = $1 AND modalidade = $2 AND posto = $3 AND subclasse = $4`, [tariff.distribuidora, tariff.modalidade, tariff.posto, subclassOf(tariff)]);
          stored.set(key, rows.map(fromRow));
        }
        const same = stored.get(key) as Tariff[];
        const judgement = judgeTariff(same, tariff);
        if (judgement.outcome === 'unchanged') unchanged.push(tariff);
        else if (judgement.outcome === 'refused') refused.push({ tariff, conflictsWith: judgement.conflictsWith });
        else {
          await client.query('INSERT INTO tarifas (distribuidora, modalidade, posto, subclasse, vigencia_inicio, vigencia_fim, te, tusd, resolucao) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
            tariff.distribuidora,
            tariff.modalidade,
            tariff.posto,
            subclassOf(tariff),
            tariff.vigenciaInicio,
            tariff.vigenciaFim,
            formatPrice(tariff.te),
            formatPrice(tariff.tusd),
            tariff.resolucao,
          ]);
          same.push(tariff);
          added.push(tariff);
        }
      }
      return { added, unchanged, refused };
    });
  }

  async tariffsInForce(day: string): Promise<Tariff[]> {
    const { rows } = await this.db.run<TariffRow>(`SELECT ${COLUMNS} FROM tarifas WHERE vigencia_inicio <= $1 AND (vigencia_fim IS NULL OR vigencia_fim >= $1)`, [day]);
    return rows.map(fromRow).sort(compareTariffs);
  }

  async all(): Promise<Tariff[]> {
    const { rows } = await this.db.run<TariffRow>(`SELECT ${COLUMNS} FROM tarifas`);
    return rows.map(fromRow).sort(compareTariffs);
  }

  async tariffsBetween(distribuidora: string, from: string, to: string): Promise<Tariff[]> {
    const { rows } = await this.db.run<TariffRow>(`SELECT ${COLUMNS} FROM tarifas WHERE distribuidora = $1 AND vigencia_inicio <= $3 AND (vigencia_fim IS NULL OR vigencia_fim >= $2)`, [distribuidora, from, to]);
    return rows.map(fromRow).sort(compareTariffs);
  }
}
