/**
 * Tariffs in `tarifas.jsonl` (see journal.ts), held in memory: a
 * distributor has a few dozen tariffs a year.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { formatDecimal, parseDecimal } from '../../protocol/decimal.js';
import { PRICE_SCALE } from '../../domain/billing/money.js';
import { MODALITIES } from '../../domain/billing/invoice.js';
import { compareTariffs, judgeTariff, TARIFF_POSTOS, TARIFF_SUBCLASSES, tariffKey, validitiesOverlap, type AddTariffsResult, type Tariff, type TariffStore } from '../tariff-store.js';
import { JournalWriter, readJournal } from './journal.js';
import { ISO_DAY } from '../../protocol/timestamp.js';

export const TARIFFS_FILE = 'tarifas.jsonl';
const PRICE_LIMITS = { scale: PRICE_SCALE, maxSignificantDigits: 20 };

/** A tariff as one journal line: prices as decimal text (R$/kWh), so the file reads as it means. */
export function tariffRecord(tariff: Tariff): Record<string, string | null> {
  return { ...tariff, te: formatDecimal(tariff.te, PRICE_SCALE), tusd: formatDecimal(tariff.tusd, PRICE_SCALE) };
}

export function parseTariffRecord(value: unknown): Tariff | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const te = typeof r.te === 'string' ? parseDecimal(r.te, PRICE_LIMITS) : undefined;
  const tusd = typeof r.tusd === 'string' ? parseDecimal(r.tusd, PRICE_LIMITS) : undefined;
  if (typeof r.distribuidora !== 'string' || r.distribuidora === '' || te === undefined || tusd === undefined) return undefined;
  if (!MODALITIES.includes(r.modalidade as never) || !TARIFF_POSTOS.includes(r.posto as never)) return undefined;
  if (typeof r.vigenciaInicio !== 'string' || !ISO_DAY.test(r.vigenciaInicio)) return undefined;
  if (r.vigenciaFim !== null && (typeof r.vigenciaFim !== 'string' || !ISO_DAY.test(r.vigenciaFim))) return undefined;
  if (r.subclasse !== undefined && (!TARIFF_SUBCLASSES.includes(r.subclasse as never) || r.subclasse === 'residencial')) return undefined;
  return {
    distribuidora: r.distribuidora,
    modalidade: r.modalidade as Tariff['modalidade'],
    posto: r.posto as Tariff['posto'],
    ...(r.subclasse === undefined ? {} : { subclasse: r.subclasse as Tariff['subclasse'] }),
    vigenciaInicio: r.vigenciaInicio,
    vigenciaFim: r.vigenciaFim as string | null,
    te,
    tusd,
    resolucao: typeof r.resolucao === 'string' ? r.resolucao : '',
  };
}

export class FileTariffStore implements TariffStore {
  private readonly byKey = new Map<string, Tariff[]>();
  private constructor(private readonly journal: JournalWriter) {}

  static async open(dataDir: string, logger: Logger): Promise<FileTariffStore> {
    const store = new FileTariffStore(new JournalWriter(join(dataDir, TARIFFS_FILE), TARIFFS_FILE));
    for (const tariff of await readJournal(store.journal.path, parseTariffRecord, logger)) {
      // The journal only ever holds tariffs admitted by the rule; replaying it keeps the first of any clash.
      const same = store.byKey.get(tariffKey(tariff)) ?? [];
      if (judgeTariff(same, tariff).outcome === 'added') store.byKey.set(tariffKey(tariff), [...same, tariff]);
    }
    return store;
  }

  addTariffs(tariffs: readonly Tariff[]): Promise<AddTariffsResult> {
    // One call at a time: each is judged against everything stored before it.
    return this.journal.serially(() => this.addNow(tariffs));
  }

  private async addNow(tariffs: readonly Tariff[]): Promise<AddTariffsResult> {
    const added: Tariff[] = [];
    const unchanged: Tariff[] = [];
    const refused: Array<{ tariff: Tariff; conflictsWith: Tariff }> = [];
    const pending = new Map<string, Tariff[]>();
    for (const tariff of tariffs) {
      const key = tariffKey(tariff);
      const same = pending.get(key) ?? this.byKey.get(key) ?? [];
      const judgement = judgeTariff(same, tariff);
      if (judgement.outcome === 'added') {
        added.push(tariff);
        pending.set(key, [...same, tariff]);
      } else if (judgement.outcome === 'unchanged') unchanged.push(tariff);
      else refused.push({ tariff, conflictsWith: judgement.conflictsWith });
    }
    await this.journal.append(added.map(tariffRecord));
    for (const [key, list] of pending) this.byKey.set(key, list);
    return { added, unchanged, refused };
  }

  async tariffsInForce(day: string): Promise<Tariff[]> {
    const probe = { vigenciaInicio: day, vigenciaFim: day } as Tariff;
    return [...this.byKey.values()].flat().filter((tariff) => validitiesOverlap(tariff, probe)).sort(compareTariffs);
  }

  async all(): Promise<Tariff[]> {
    return [...this.byKey.values()].flat().sort(compareTariffs);
  }

  async tariffsBetween(distribuidora: string, from: string, to: string): Promise<Tariff[]> {
    const probe = { vigenciaInicio: from, vigenciaFim: to } as Tariff;
    return [...this.byKey.values()].flat().filter((tariff) => tariff.distribuidora === distribuidora && validitiesOverlap(tariff, probe)).sort(compareTariffs);
  }
}
