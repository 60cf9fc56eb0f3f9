/** Billing parameters, bandeiras (migration 004), emission factors (migration 010), PIS/COFINS rates and distributor records (migration 018) in PostgreSQL, through the main store's pool. */
import { distributorJson, emissionFactorJson, flagJson, parametersJson, parseDistributorJson, parseEmissionFactorJson, parseFlagJson, parsePisCofinsJson, parseStoredParameters, pisCofinsJson } from '../billing-rules-json.js';
import type { BillingParameters, BillingRulesStore, DistributorRecord, MonthEmissionFactor, MonthFlag, MonthPisCofins } from '../billing-rules-store.js';
import { StoreError } from '../store.js';
import type { PgDatabase } from './pg-database.js';

export class PgBillingRulesStore implements BillingRulesStore {
  constructor(private readonly db: PgDatabase) {}

  async putParameters(parameters: BillingParameters): Promise<'created' | 'replaced'> {
    return this.upsert(
      `INSERT INTO parametros_faturamento (vigencia_inicio, parametros) VALUES ($1, $2)
       ON CONFLICT (vigencia_inicio) DO UPDATE SET parametros = EXCLUDED.parametros, atualizado_em = now()
       RETURNING (xmax = 0) AS inserted`,
      [parameters.vigenciaInicio, JSON.stringify(parametersJson(parameters))],
    );
  }

  async listParameters(): Promise<BillingParameters[]> {
    const { rows } = await this.db.run<{ parametros: unknown }>('SELECT parametros FROM parametros_faturamento ORDER BY vigencia_inicio');
    return rows.map((row) => {
      const parsed = parseStoredParameters(row.parametros);
      if (!parsed.success) throw new StoreError('CORRUPT', 'a parametros_faturamento row does not hold billing parameters');
      return parsed.data;
    });
  }

  async putFlag(flag: MonthFlag): Promise<'created' | 'replaced'> {
    const json = flagJson(flag);
    return this.upsert(
      `INSERT INTO bandeiras (mes, bandeira, adicional_kwh) VALUES ($1, $2, $3)
       ON CONFLICT (mes) DO UPDATE SET bandeira = EXCLUDED.bandeira, adicional_kwh = EXCLUDED.adicional_kwh, atualizado_em = now()
       RETURNING (xmax = 0) AS inserted`,
      [json.mes, json.bandeira, json.adicional_kwh],
    );
  }

  async listFlags(fromMonth: string, toMonth: string): Promise<MonthFlag[]> {
    return this.listMonths('SELECT mes, bandeira, adicional_kwh::text AS adicional_kwh', 'bandeiras', fromMonth, toMonth, parseFlagJson, 'the bandeira of');
  }

  async putDistributor(record: DistributorRecord): Promise<'created' | 'replaced'> {
    return this.upsert(
      `INSERT INTO distribuidoras (sigla, registro) VALUES ($1, $2)
       ON CONFLICT (sigla) DO UPDATE SET registro = EXCLUDED.registro, atualizado_em = now()
       RETURNING (xmax = 0) AS inserted`,
      [record.sigla, JSON.stringify(distributorJson(record))],
    );
  }

  async distributor(sigla: string): Promise<DistributorRecord | undefined> {
    const { rows } = await this.db.run<{ registro: unknown }>('SELECT registro FROM distribuidoras WHERE sigla = $1', [sigla]);
    if (rows[0] === undefined) return undefined;
    const record = parseDistributorJson(rows[0].registro);
    if (record === undefined) throw new StoreError('CORRUPT', `the record of distributor ${sigla} is not readable`);
    return record;
  }

  async distributors(): Promise<DistributorRecord[]> {
    const { rows } = await this.db.run<{ sigla: string; registro: unknown }>('SELECT sigla, registro FROM distribuidoras ORDER BY sigla');
    return rows.map((row) => {
      const record = parseDistributorJson(row.registro);
      if (record === undefined) throw new StoreError('CORRUPT', `the record of distributor ${row.sigla} is not readable`);
      return record;
    });
  }

  async putPisCofins(rates: MonthPisCofins): Promise<'created' | 'replaced'> {
    const json = pisCofinsJson(rates);
    return this.upsert(
      `INSERT INTO pis_cofins (mes, pis, cofins) VALUES ($1, $2, $3)
       ON CONFLICT (mes) DO UPDATE SET pis = EXCLUDED.pis, cofins = EXCLUDED.cofins, atualizado_em = now()
       RETURNING (xmax = 0) AS inserted`,
      [json.mes, json.pis, json.cofins],
    );
  }

  async listPisCofins(fromMonth: string, toMonth: string): Promise<MonthPisCofins[]> {
    return this.listMonths('SELECT mes, pis::text AS pis, cofins::text AS cofins', 'pis_cofins', fromMonth, toMonth, parsePisCofinsJson, 'the PIS/COFINS of');
  }

  async putEmissionFactor(factor: MonthEmissionFactor): Promise<'created' | 'replaced'> {
    const json = emissionFactorJson(factor);
    return this.upsert(
      `INSERT INTO fatores_emissao (mes, kg_co2e_kwh) VALUES ($1, $2)
       ON CONFLICT (mes) DO UPDATE SET kg_co2e_kwh = EXCLUDED.kg_co2e_kwh, atualizado_em = now()
       RETURNING (xmax = 0) AS inserted`,
      [json.mes, json.kg_co2e_kwh],
    );
  }

  async listEmissionFactors(fromMonth: string, toMonth: string): Promise<MonthEmissionFactor[]> {
    return this.listMonths('SELECT mes, kg_co2e_kwh::text AS kg_co2e_kwh', 'fatores_emissao', fromMonth, toMonth, parseEmissionFactorJson, 'the emission factor of');
  }

  /** Runs an INSERT ... ON CONFLICT DO UPDATE ... RETURNING (xmax = 0) AS inserted: whether the row was new. */
  private async upsert(sql: string, values: unknown[]): Promise<'created' | 'replaced'> {
    const { rows } = await this.db.run<{ inserted: boolean }>(sql, values);
    return rows[0]?.inserted === true ? 'created' : 'replaced';
  }

  /** One month table's rows from `fromMonth` to `toMonth` (inclusive), in month order, each read back by `parse`; an unreadable one is CORRUPT. */
  private async listMonths<T>(columns: string, table: string, fromMonth: string, toMonth: string, parse: (row: unknown) => T | undefined, what: string): Promise<T[]> {
    const { rows } = await this.db.run<{ mes: string }>(`${columns} FROM ${table} WHERE mes BETWEEN $1 AND $2 ORDER BY mes`, [fromMonth, toMonth]);
    return rows.map((row) => {
      const value = parse(row);
      if (value === undefined) throw new StoreError('CORRUPT', `${what} ${row.mes} is not readable`);
      return value;
    });
  }
}
