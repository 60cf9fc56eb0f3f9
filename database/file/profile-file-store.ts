/** Billing profiles (and goals) in `perfis.jsonl` (see journal.ts): the latest line of a matricula wins. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { CONNECTIONS, MODALITIES } from '../../domain/billing/invoice.js';
import { DEFAULT_PROFILE, type BillingProfile, type ConsumptionGoal, type ProfileStore } from '../profile-store.js';
import { benefitJson, holderJson, parseBenefit, parseHolder } from '../profile-json.js';
import { formatDecimal, parseDecimal } from '../../protocol/decimal.js';
import type { Store } from '../store.js';
import { JournalWriter, readJournal } from './journal.js';

export const PROFILES_FILE = 'perfis.jsonl';

function parseProfile(value: unknown): BillingProfile | undefined {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || typeof r.matricula !== 'string' || !isMatricula(r.matricula)) return undefined;
  if (!CONNECTIONS.includes(r.ligacao as never) || !MODALITIES.includes(r.modalidade as never)) return undefined;
  if (!Number.isInteger(r.dia_leitura) || (r.dia_leitura as number) < 1 || (r.dia_leitura as number) > 28 || typeof r.tarifa_social !== 'boolean') return undefined;
  if (r.condutores !== undefined && r.condutores !== 2 && r.condutores !== 3) return undefined;
  const holder = r.titular === undefined ? undefined : parseHolder(r.titular);
  if (r.titular !== undefined && holder === undefined) return undefined;
  const benefit = r.beneficio === undefined ? undefined : parseBenefit(r.beneficio);
  if (r.beneficio !== undefined && benefit === undefined) return undefined;
  const profile: BillingProfile = {
    matricula: r.matricula,
    connection: r.ligacao as BillingProfile['connection'],
    modality: r.modalidade as BillingProfile['modality'],
    readingDay: r.dia_leitura as number,
    socialTariff: r.tarifa_social,
    ...(r.condutores === undefined ? {} : { conductors: r.condutores }),
    ...(holder === undefined ? {} : { holder }),
    ...(benefit === undefined ? {} : { benefit }),
  };
  if (r.meta_kwh === undefined && r.meta_valor === undefined) return profile;
  const goal = parseGoal(r.meta_kwh, r.meta_valor);
  return goal === undefined ? undefined : { ...profile, goal };
}

/** A journalled goal (`meta_kwh` or `meta_valor`, decimal text), or undefined when malformed. */
function parseGoal(kwh: unknown, valor: unknown): ConsumptionGoal | undefined {
  if (typeof kwh === 'string' && valor === undefined) {
    const value = parseDecimal(kwh, { scale: 3, maxSignificantDigits: 15 });
    return value === undefined ? undefined : { kind: 'kwh', kwh: value };
  }
  if (typeof valor === 'string' && kwh === undefined) {
    const value = parseDecimal(valor, { scale: 2, maxSignificantDigits: 15 });
    return value === undefined ? undefined : { kind: 'valor', cents: value };
  }
  return undefined;
}

function goalJson(goal: ConsumptionGoal | undefined): Record<string, string> {
  if (goal === undefined) return {};
  return goal.kind === 'kwh' ? { meta_kwh: formatDecimal(goal.kwh, 3) } : { meta_valor: formatDecimal(goal.cents, 2) };
}

export class FileProfileStore implements ProfileStore {
  private readonly byMatricula = new Map<string, BillingProfile>();
  private constructor(
    private readonly journal: JournalWriter,
    private readonly customers: Pick<Store, 'findCustomers'>,
  ) {}

  static async open(dataDir: string, customers: Pick<Store, 'findCustomers'>, logger: Logger): Promise<FileProfileStore> {
    const store = new FileProfileStore(new JournalWriter(join(dataDir, PROFILES_FILE), PROFILES_FILE), customers);
    for (const profile of await readJournal(store.journal.path, parseProfile, logger)) store.byMatricula.set(profile.matricula, profile);
    return store;
  }

  async profile(matricula: string): Promise<BillingProfile> {
    return this.byMatricula.get(matricula) ?? { matricula, ...DEFAULT_PROFILE };
  }

  async profilesOf(matriculas: readonly string[]): Promise<BillingProfile[]> {
    return matriculas.map((matricula) => this.byMatricula.get(matricula) ?? { matricula, ...DEFAULT_PROFILE });
  }

  setProfile(profile: BillingProfile): Promise<boolean> {
    return this.journal.serially(async () => {
      if ((await this.customers.findCustomers({ matricula: profile.matricula, limit: 1 })).length === 0) return false;
      await this.journal.append([
        {
          matricula: profile.matricula,
          ligacao: profile.connection,
          modalidade: profile.modality,
          dia_leitura: profile.readingDay,
          tarifa_social: profile.socialTariff,
          ...(profile.conductors === undefined ? {} : { condutores: profile.conductors }),
          ...(profile.holder === undefined ? {} : { titular: holderJson(profile.holder) }),
          ...(profile.benefit === undefined ? {} : { beneficio: benefitJson(profile.benefit) }),
          ...goalJson(profile.goal),
        },
      ]);
      this.byMatricula.set(profile.matricula, profile);
      return true;
    });
  }

  async profiles(): Promise<BillingProfile[]> {
    return [...this.byMatricula.values()];
  }
}
