/** Billing profiles in `perfis_faturamento` (migration 005; goals: 011; conductors and holder: 019), through the main store's pool. */
import { DEFAULT_PROFILE, type BillingProfile, type ProfileStore } from '../profile-store.js';
import { formatDecimal, parseDecimal } from '../../protocol/decimal.js';
import { benefitJson, holderJson, parseBenefit, parseHolder } from '../profile-json.js';
import { StoreError } from '../store.js';
import type { PgDatabase } from './pg-database.js';

interface ProfileRow {
  matricula: string;
  ligacao: string;
  modalidade: string;
  dia_leitura: number;
  tarifa_social: boolean;
  meta_kwh: string | null;
  meta_valor: string | null;
  condutores: number | null;
  titular: unknown;
  beneficio: unknown;
}

const COLUMNS = 'matricula, ligacao, modalidade, dia_leitura, tarifa_social, meta_kwh::text AS meta_kwh, meta_valor::text AS meta_valor, condutores, titular, beneficio';

function fromRow(row: ProfileRow): BillingProfile {
  const profile: BillingProfile = {
    matricula: row.matricula,
    connection: row.ligacao as BillingProfile['connection'],
    modality: row.modalidade as BillingProfile['modality'],
    readingDay: row.dia_leitura,
    socialTariff: row.tarifa_social,
  };
  if (row.condutores === 2 || row.condutores === 3) Object.assign(profile, { conductors: row.condutores });
  if (row.titular !== null) {
    const holder = parseHolder(row.titular);
    if (holder === undefined) throw new StoreError('CORRUPT', `the holder of ${row.matricula} is not readable`);
    Object.assign(profile, { holder });
  }
  if (row.beneficio !== null) {
    const benefit = parseBenefit(row.beneficio);
    if (benefit === undefined) throw new StoreError('CORRUPT', `the benefit of ${row.matricula} is not readable`);
    Object.assign(profile, { benefit });
  }
  if (row.meta_kwh !== null) return { ...profile, goal: { kind: 'kwh', kwh: parseDecimal(row.meta_kwh, { scale: 3, maxSignificantDigits: 18 }) as bigint } };
  if (row.meta_valor !== null) return { ...profile, goal: { kind: 'valor', cents: parseDecimal(row.meta_valor, { scale: 2, maxSignificantDigits: 18 }) as bigint } };
  return profile;
}

export class PgProfileStore implements ProfileStore {
  constructor(private readonly db: PgDatabase) {}

  async profile(matricula: string): Promise<BillingProfile> {
    const { rows } = await this.db.run<ProfileRow>(`SELECT ${COLUMNS} FROM perfis_faturamento WHERE matricula = $1`, [matricula]);
    const [row] = rows;
    return row === undefined ? { matricula, ...DEFAULT_PROFILE } : fromRow(row);
  }

  async profilesOf(matriculas: readonly string[]): Promise<BillingProfile[]> {
    const { rows } = await this.db.run<ProfileRow>(`SELECT ${COLUMNS} FROM perfis_faturamento WHERE matricula = ANY($1)`, [matriculas]);
    const found = new Map(rows.map((row) => [row.matricula, fromRow(row)]));
    return matriculas.map((matricula) => found.get(matricula) ?? { matricula, ...DEFAULT_PROFILE });
  }

  async setProfile(profile: BillingProfile): Promise<boolean> {
    // Only a registered customer gets a profile: the INSERT selects from clientes.
    const { rowCount } = await this.db.run(
      `INSERT INTO perfis_faturamento (matricula, ligacao, modalidade, dia_leitura, tarifa_social, meta_kwh, meta_valor, condutores, titular, beneficio)
       SELECT matricula, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM clientes WHERE matricula = $1
       ON CONFLICT (matricula) DO UPDATE SET ligacao = EXCLUDED.ligacao, modalidade = EXCLUDED.modalidade, dia_leitura = EXCLUDED.dia_leitura,
         tarifa_social = EXCLUDED.tarifa_social, meta_kwh = EXCLUDED.meta_kwh, meta_valor = EXCLUDED.meta_valor,
         condutores = EXCLUDED.condutores, titular = EXCLUDED.titular, beneficio = EXCLUDED.beneficio, atualizado_em = now()`,
      [
        profile.matricula,
        profile.connection,
        profile.modality,
        profile.readingDay,
        profile.socialTariff,
        profile.goal?.kind === 'kwh' ? formatDecimal(profile.goal.kwh, 3) : null,
        profile.goal?.kind === 'valor' ? formatDecimal(profile.goal.cents, 2) : null,
        profile.conductors ?? null,
        profile.holder === undefined ? null : JSON.stringify(holderJson(profile.holder)),
        profile.benefit === undefined ? null : JSON.stringify(benefitJson(profile.benefit)),
      ],
    );
    return rowCount === 1;
  }

  async profiles(): Promise<BillingProfile[]> {
    const { rows } = await this.db.run<ProfileRow>(`SELECT ${COLUMNS} FROM perfis_faturamento`);
    return rows.map(fromRow);
  }
}
