/** Billing profiles in `perfis_faturamento` (migration 005), through the main store's pool. */
import { DEFAULT_PROFILE, type BillingProfile, type ProfileStore } from '../profile-store.js';
import type { PostgresStore } from './postgres-store.js';

interface ProfileRow {
  matricula: string;
  ligacao: string;
  modalidade: string;
  dia_leitura: number;
  tarifa_social: boolean;
}

const fromRow = (row: ProfileRow): BillingProfile => ({
  matricula: row.matricula,
  connection: row.ligacao as BillingProfile['connection'],
  modality: row.modalidade as BillingProfile['modality'],
  readingDay: row.dia_leitura,
  socialTariff: row.tarifa_social,
});

export class PgProfileStore implements ProfileStore {
  constructor(private readonly db: PostgresStore) {}

  async profile(matricula: string): Promise<BillingProfile> {
    const { rows } = await this.db.run<ProfileRow>('SELECT matricula, ligacao, modalidade, dia_leitura, tarifa_social FROM perfis_faturamento WHERE matricula = $1', [matricula]);
    const [row] = rows;
    return row === undefined ? { matricula, ...DEFAULT_PROFILE } : fromRow(row);
  }

  async profilesOf(matriculas: readonly string[]): Promise<BillingProfile[]> {
    const { rows } = await this.db.run<ProfileRow>('SELECT matricula, ligacao, modalidade, dia_leitura, tarifa_social FROM perfis_faturamento WHERE matricula = ANY($1)', [matriculas]);
    const found = new Map(rows.map((row) => [row.matricula, fromRow(row)]));
    return matriculas.map((matricula) => found.get(matricula) ?? { matricula, ...DEFAULT_PROFILE });
  }

  async setProfile(profile: BillingProfile): Promise<boolean> {
    // Only a registered customer gets a profile: the INSERT selects from clientes.
    const { rowCount } = await this.db.run(
      `INSERT INTO perfis_faturamento (matricula, ligacao, modalidade, dia_leitura, tarifa_social)
       SELECT matricula, $2, $3, $4, $5 FROM clientes WHERE matricula = $1
       ON CONFLICT (matricula) DO UPDATE SET ligacao = EXCLUDED.ligacao, modalidade = EXCLUDED.modalidade, dia_leitura = EXCLUDED.dia_leitura,
         tarifa_social = EXCLUDED.tarifa_social, atualizado_em = now()`,
      [profile.matricula, profile.connection, profile.modality, profile.readingDay, profile.socialTariff],
    );
    return rowCount === 1;
  }

  async profiles(): Promise<BillingProfile[]> {
    const { rows } = await this.db.run<ProfileRow>('SELECT matricula, ligacao, modalidade, dia_leitura, tarifa_social FROM perfis_faturamento');
    return rows.map(fromRow);
  }
}
