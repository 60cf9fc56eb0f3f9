/**
 * Gathers what a cycle's invoice needs from the stores (the customer and
 * its profile, the registers at the cycle's boundaries, the readings for
 * Tarifa Branca, tariffs, parameters, bandeiras, the 13 previous cycles) and
 * has the billing domain compute it. Reads only; issuing is the invoice
 * store's. Errors are DomainErrors (domain/errors.ts).
 */
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import { parametersOn, type BillingParameters } from '../../database/billing-rules-store.js';
import type { BillingProfile, ProfileStore } from '../../database/profile-store.js';
import type { Customer, HistoryQuery, Reading, Store } from '../../database/store.js';
import type { InvoiceStore } from '../../database/invoice-store.js';
import { isUsable, VALID } from '../../domain/readings/quality.js';
import { parseRegister } from '../../protocol/decimal.js';
import type { TariffStore } from '../../database/tariff-store.js';
import { availabilityOnly, AVERAGE_CYCLES, averageEstimate, averagePostoEstimate, consumptionByPosto, cycleContaining, cycleEndingIn, cycleMonth, previousMonth, PostoAccumulator, registerAt, type BoundaryRegister, type Cycle, type RegisterPoint } from '../../domain/billing/cycle.js';
import { newestAtOrBefore, oldestAfter, registerPoints } from '../../domain/readings/rollups.js';
import { benefitOn, brDate, computeInvoice, type PisCofins, type TariffKey } from '../../domain/billing/invoice.js';
import { subclassOf } from '../../domain/billing/tariff.js';
import { postosOnWholeHours, zeroPostos, type PostoAmounts, type PostoHours } from '../../domain/billing/postos.js';
import type { DocumentInput, RecordedPrice } from '../../domain/billing/document.js';
import { DomainError } from '../../domain/errors.js';
import { DAY_MS, localDay, zoneOffset } from '../../protocol/timestamp.js';
import { co2eOverDays, daysByMonth } from '../../domain/co2e.js';
import type { EmissionFactors } from '../emission-factors.js';

const HOUR_MS = 3_600_000;
/** How far from a boundary readings are looked for: beyond, a register would be a guess, not an estimate. */
const BOUNDARY_SEARCH_MS = 35 * DAY_MS;
/** Cycles of consumption history an invoice shows (PRODIST Módulo 11: the 12 before the current, and one more for the same month of last year). */
export const HISTORY_CYCLES = 13;
/** A cycle with no reading after its end waits this long for one before it is billed by the mean of its last 12 cycles. */
export const MISSING_READING_GRACE_MS = 3 * DAY_MS;
/** Issued invoices looked through for the previous cycle's (newest issue first). */
const PREVIOUS_INVOICE_SEARCH = 24;

export interface BillingStores {
  readonly store: Store;
  readonly tariffs: TariffStore;
  readonly rules: BillingRulesStore;
  readonly profiles: ProfileStore;
  readonly invoices: InvoiceStore;
}

/** Closed cycles under both modalities (totals in cents). */
export interface ModalityComparison {
  readonly cycles: ReadonlyArray<{ readonly month: string; readonly conventional: CycleBill; readonly white: CycleBill } | { readonly month: string; readonly error: string }>;
  readonly conventional: bigint;
  readonly white: bigint;
  readonly compared: number;
}

/** A cycle computed: what its invoice document is made of (all but the distributor's name). */
export interface CycleBill extends Omit<DocumentInput, 'distributor' | 'customer' | 'profile'> {
  readonly customer: Customer;
  readonly profile: BillingProfile;
}

/** A cycle measured between two registers, not priced. */
export interface MeasuredCycle {
  readonly customer: Customer;
  readonly profile: BillingProfile;
  readonly cycle: Cycle;
  readonly start: BoundaryRegister;
  readonly end: BoundaryRegister;
}

/** A past cycle's consumption, and the boundaries it was measured between, when known. */
interface HistoryEntry {
  readonly month: string;
  readonly consumption: bigint | null;
  readonly boundaries?: { readonly start: BoundaryRegister; readonly end: BoundaryRegister };
}

const dayBefore = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);

export class BillingService {
  constructor(
    private readonly stores: BillingStores,
    private readonly distributor: string,
    readonly timeZone: string,
    private readonly factors: EmissionFactors,
  ) {}

  /**
   * The invoice of the cycle that ends in `month` (`YYYY-MM`); 409
   * `ciclo_aberto` until a reading after its end arrives. `modality`
   * overrides the customer's (to compare them); `history: false` leaves the
   * previous cycles' consumption out (empty), for a comparison that needs
   * only the totals.
   */
  async bill(matricula: string, month: string, now = Date.now(), options: { modality?: BillingProfile['modality']; history?: boolean } = {}): Promise<CycleBill> {
    const { modality, history = true } = options;
    const found = await this.customer(matricula);
    const customer = found.customer;
    const profile = modality === undefined ? found.profile : { ...found.profile, modality, socialTariff: modality === 'branca' ? false : found.profile.socialTariff, benefit: modality === 'branca' ? undefined : found.profile.benefit };
    const cycle = cycleEndingIn(month, profile.readingDay, this.timeZone);
    if (cycle.end > now) throw new DomainError('ciclo_aberto', `O ciclo ${month} da matrícula ${matricula} termina em ${cycle.endDay}: ainda está aberto.`);
    const start = (await this.estimatedEnd(matricula, previousMonth(month))) ?? (await this.boundary(matricula, cycle.start));
    if (start === undefined) throw new DomainError('medicoes_insuficientes', `Não há medições da matrícula ${matricula} em torno do início do ciclo (${cycle.startDay}).`);
    let end = await this.boundary(matricula, cycle.end);
    let estimatedPostos: PostoAmounts | undefined;
    // No reading after the end: after a grace, the cycle is billed as ANEEL bills one without a reading (Branca: each posto at its own mean).
    if (end === undefined && now >= cycle.end + MISSING_READING_GRACE_MS) {
      const past = await this.history(matricula, profile.readingDay, cycle);
      if (profile.modality === 'convencional') end = averageEstimate(start, cycle.end, past.map((entry) => entry.consumption));
      else {
        const estimate = averagePostoEstimate(start, cycle.end, await this.postoHistory(matricula, cycle, past));
        end = estimate?.end;
        estimatedPostos = estimate?.byPosto;
      }
      // No past cycle to average either: the custo de disponibilidade (REN 1.000/2021 art. 288 § 1º).
      if (end === undefined) {
        end = availabilityOnly(start, cycle.end);
        if (profile.modality === 'branca') estimatedPostos = zeroPostos();
      }
    }
    if (end === undefined) throw new DomainError('ciclo_aberto', `Ainda não há medição da matrícula ${matricula} depois do fim do ciclo (${cycle.endDay}).`);
    return this.compute(customer, profile, cycle, start, end, { closed: true, history, now, estimatedPostos });
  }

  /** What each posto consumed in the AVERAGE_CYCLES cycles of `past` (null where unknown), by the posto hours in force at the end of `cycle`. */
  private async postoHistory(matricula: string, cycle: Cycle, past: readonly HistoryEntry[]): Promise<(PostoAmounts | null)[]> {
    const hours = (await this.parametersFor(cycle)).postoHours;
    const amounts: (PostoAmounts | null)[] = [];
    for (const entry of past.slice(0, AVERAGE_CYCLES)) amounts.push(entry.boundaries === undefined ? null : await this.byPosto(matricula, entry.boundaries.start, entry.boundaries.end, hours));
    return amounts;
  }

  /**
   * The open cycle so far: its end is the newest usable reading (not stored,
   * not issued). `asOf` looks at the cycle as it stood then (readings
   * stamped up to it): what a forecast made at that moment saw.
   */
  async preview(matricula: string, now = Date.now(), asOf = now): Promise<CycleBill> {
    this.assertConfigured();
    const { customer, profile, cycle, start, end } = await this.measureOpen(matricula, now, asOf);
    return this.compute(customer, profile, cycle, start, end, { closed: false, history: true, now });
  }

  /** Whether a distributor is set: without one nothing can be priced (the other rules are checked per cycle). */
  get configured(): boolean {
    return this.distributor !== '';
  }

  /**
   * The open cycle measured so far (the cycle of the newest usable reading,
   * from its start register up to that reading), without pricing it: what
   * a forecast in kWh needs, billing configured or not.
   */
  async measureOpen(matricula: string, now = Date.now(), asOf = now): Promise<MeasuredCycle> {
    const { customer, profile } = await this.customerOf(matricula);
    const newest = await this.newestUsable(matricula, asOf);
    if (newest === undefined) throw new DomainError('sem_medicoes', `A matrícula ${matricula} não tem medições.`);
    // The cycle open at `asOf` (now, unless looking back), measured up to its newest reading; a meter not read since it began has none to show.
    const cycle = cycleContaining(Math.min(now, asOf), profile.readingDay, this.timeZone);
    if (newest.timestamp < cycle.start) {
      throw new DomainError('medicoes_insuficientes', `Não há medições da matrícula ${matricula} no ciclo aberto, desde ${brDate(cycle.startDay)}: a mais recente é de ${brDate(localDay(newest.timestamp, this.timeZone))}.`);
    }
    const start = await this.boundary(matricula, cycle.start);
    if (start === undefined) throw new DomainError('medicoes_insuficientes', `Não há medições da matrícula ${matricula} neste ciclo.`);
    const end: BoundaryRegister = { timestamp: newest.timestamp, register: newest.consumo, flag: 'medida', readings: [newest] };
    return { customer, profile, cycle, start, end };
  }

  /**
   * A closed cycle's consumption measured between readings around its
   * boundaries (no estimate by past cycles), and its length; undefined when
   * the readings cannot tell. Needs no billing rules.
   */
  async measuredConsumption(matricula: string, month: string, now = Date.now()): Promise<{ consumption: bigint; durationMs: number } | undefined> {
    const { profile } = await this.customerOf(matricula);
    const cycle = cycleEndingIn(month, profile.readingDay, this.timeZone);
    if (cycle.end > now) return undefined;
    const start = (await this.estimatedEnd(matricula, previousMonth(month))) ?? (await this.boundary(matricula, cycle.start));
    const end = await this.boundary(matricula, cycle.end);
    if (start === undefined || end === undefined || start.flag === 'primeira_leitura' || end.register < start.register) return undefined;
    return { consumption: end.register - start.register, durationMs: cycle.end - cycle.start };
  }

  private assertConfigured(): void {
    if (this.distributor === '') throw new DomainError('faturamento_nao_configurado', 'O faturamento não está configurado: defina DISTRIBUIDORA (a distribuidora das tarifas importadas).');
  }

  private async customer(matricula: string): Promise<{ customer: Customer; profile: BillingProfile }> {
    this.assertConfigured();
    return this.customerOf(matricula);
  }

  private async customerOf(matricula: string): Promise<{ customer: Customer; profile: BillingProfile }> {
    const [customer] = await this.stores.store.findCustomers({ matricula, limit: 1 });
    if (customer === undefined) throw new DomainError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    return { customer, profile: await this.stores.profiles.profile(matricula) };
  }

  /** The billing parameters in force on the cycle's last day. */
  private async parametersFor(cycle: Cycle): Promise<BillingParameters> {
    const lastDay = dayBefore(cycle.endDay);
    const parameters = parametersOn(await this.stores.rules.listParameters(), lastDay);
    if (parameters === undefined) throw new DomainError('faturamento_nao_configurado', `Não há parâmetros de faturamento em vigor em ${lastDay}: defina-os em PUT /faturamento/parametros.`);
    return parameters;
  }

  /**
   * The PIS/COFINS rates of the cycle's reference month (the month it ends
   * in, the one the invoice is "referente a"): distributors publish their
   * effective rates per billing month. A closed cycle needs its month's; an
   * open one (a preview, a forecast) takes the newest month set up to its
   * own, since the month's rates may not be published yet (an estimate).
   */
  private async pisCofinsFor(cycle: Cycle, closed: boolean): Promise<PisCofins> {
    const month = cycleMonth(cycle);
    const rates = closed ? (await this.stores.rules.listPisCofins(month, month))[0] : (await this.stores.rules.listPisCofins('0000-01', month)).pop();
    if (rates === undefined) throw new DomainError('tributos_indisponiveis', `Não há alíquotas de PIS/COFINS de ${month}: defina-as em PUT /faturamento/pis-cofins/${month}.`);
    return rates;
  }

  /** `closed`: a cycle billed for issue (its month's PIS/COFINS required), not a preview or forecast. */
  private async compute(customer: Customer, profile: BillingProfile, cycle: Cycle, start: BoundaryRegister, end: BoundaryRegister, options: { closed: boolean; history: boolean; now: number; estimatedPostos?: PostoAmounts | undefined }): Promise<CycleBill> {
    const { history: withHistory, estimatedPostos } = options;
    const lastDay = dayBefore(cycle.endDay);
    const parameters = await this.parametersFor(cycle);
    const consumption = end.register - start.register;
    if (consumption < 0n) throw new DomainError('leituras_inconsistentes', `O registro da matrícula ${customer.matricula} diminuiu no ciclo.`);
    let byPosto: PostoAmounts | undefined;
    if (profile.modality === 'branca') byPosto = estimatedPostos ?? (await this.byPosto(customer.matricula, start, end, parameters.postoHours));
    const prices: Partial<Record<TariffKey, RecordedPrice[]>> = {};
    const benefit = benefitOn(profile.benefit, profile.socialTariff, lastDay);
    for (const tariff of await this.stores.tariffs.tariffsBetween(this.distributor, cycle.startDay, lastDay)) {
      const subclass = subclassOf(tariff);
      // A benefit's rows only for the household that holds it (the invoice lists the tariffs it applied).
      if (subclass !== 'residencial' && (benefit === null || !subclass.startsWith(benefit) || tariff.modalidade !== 'convencional' || tariff.posto !== 'nao_se_aplica')) continue;
      const key: TariffKey = subclass !== 'residencial' ? subclass : tariff.posto === 'nao_se_aplica' ? 'convencional' : tariff.posto;
      if (subclass === 'residencial' && (tariff.modalidade === 'convencional') !== (key === 'convencional')) continue;
      (prices[key] ??= []).push({ from: tariff.vigenciaInicio, to: tariff.vigenciaFim, te: tariff.te, tusd: tariff.tusd, resolution: tariff.resolucao });
    }
    const flags = new Map((await this.stores.rules.listFlags(cycle.startDay.slice(0, 7), lastDay.slice(0, 7))).map((f) => [f.month, { flag: f.flag, additional: f.additional }]));
    const pisCofins = await this.pisCofinsFor(cycle, options.closed);
    const invoice = computeInvoice({
      startDay: cycle.startDay,
      endDay: cycle.endDay,
      consumption,
      byPosto,
      modality: profile.modality,
      connection: profile.connection,
      conductors: profile.conductors,
      socialTariff: profile.socialTariff,
      benefit,
      prices,
      flags,
      rules: { ...parameters, pisCofins },
      presentationDay: localDay(options.now, this.timeZone),
    });
    const months = daysByMonth(cycle.startDay, cycle.endDay);
    const factorOf = await this.factors.between(cycle.startDay.slice(0, 7), lastDay.slice(0, 7));
    const co2e = co2eOverDays(consumption, months, factorOf);
    return { customer, profile, cycle, start, end, byPosto, prices, parametersFrom: parameters.vigenciaInicio, invoice, co2eGrams: co2e, history: withHistory ? await this.history(customer.matricula, profile.readingDay, cycle) : [] };
  }

  /**
   * A meter's history without the readings validation made unusable
   * (`pico`, `regressiva`): a forged or faulty reading never sets a bill.
   * Batches as the store gives them, newest first, never empty.
   */
  private async *usableHistory(query: HistoryQuery): AsyncGenerator<Reading[]> {
    for await (const batch of this.stores.store.history(query)) {
      const usable = batch.filter((reading) => isUsable(reading.quality ?? VALID));
      if (usable.length > 0) yield usable;
    }
  }

  /** The newest usable reading stamped at or before `asOf`. */
  private async newestUsable(matricula: string, asOf: number): Promise<Reading | undefined> {
    const [newest] = await this.stores.store.recentReadings(matricula, 1);
    if (newest === undefined || (newest.timestamp <= asOf && isUsable(newest.quality ?? VALID))) return newest;
    for await (const batch of this.usableHistory({ matricula, from: 0, to: Math.min(asOf, newest.timestamp) + 1 })) return batch[0];
    return undefined;
  }

  /**
   * The closed cycles from `newestMonth` back, `count` of them: each billed
   * under both modalities from the same readings (only totals: no history
   * read), or the billing error that kept it from being compared.
   */
  async compareModalities(matricula: string, newestMonth: string, count: number, now = Date.now()): Promise<ModalityComparison> {
    const cycles: ModalityComparison['cycles'][number][] = [];
    let conventional = 0n;
    let white = 0n;
    let compared = 0;
    let month = newestMonth;
    for (let i = 0; i < count; i++, month = previousMonth(month)) {
      try {
        const a = await this.bill(matricula, month, now, { modality: 'convencional', history: false });
        const b = await this.bill(matricula, month, now, { modality: 'branca', history: false });
        conventional += a.invoice.total;
        white += b.invoice.total;
        compared++;
        cycles.push({ month, conventional: a, white: b });
      } catch (error) {
        if (!(error instanceof DomainError) || error.code === 'faturamento_nao_configurado' || error.code === 'usuario_nao_cadastrado') throw error;
        cycles.push({ month, error: error.code });
      }
    }
    return { cycles, conventional, white, compared };
  }

  /** A cycle's invoice as if `consumption` were read at its end (a forecast's invoice; never issued). */
  async projected(bill: MeasuredCycle, consumption: bigint): Promise<CycleBill> {
    this.assertConfigured();
    const end: BoundaryRegister = { timestamp: bill.cycle.end, register: bill.start.register + consumption, flag: 'estimada', readings: [] };
    return this.compute(bill.customer, bill.profile, bill.cycle, bill.start, end, { closed: false, history: false, now: Date.now() });
  }

  /**
   * The consumption of each complete local day from `from` to `to`, from
   * the register at each midnight (the newest usable reading before it),
   * oldest first; days without a reading on either side are left out.
   */
  async completeDays(matricula: string, from: number, to: number): Promise<bigint[]> {
    const lastOfDay = new Map<string, bigint>();
    // Whole hours from the rollups (an hour of a zone a whole number of hours off UTC is in one local day), the
    // newest usable reading of each day being its last hour's newest; the part hour at the end from the readings.
    const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
    if (from % HOUR_MS === 0 && zoneOffset(from, this.timeZone) % HOUR_MS === 0 && zoneOffset(to, this.timeZone) % HOUR_MS === 0 && from < lastHour) {
      const hours = await this.stores.store.hourly({ matricula, from, to: lastHour + HOUR_MS });
      const last = hours.at(-1);
      // The part hour at the end too, when it has no usable reading at or after `to` (as when `to` is just past the
      // newest reading): then every usable reading of that hour is in the range.
      const partDone = last?.start !== lastHour || last.newest === undefined || last.newest.timestamp < to;
      for (const rollup of hours) if (rollup.newest !== undefined && (rollup.start < lastHour || partDone)) lastOfDay.set(localDay(rollup.start, this.timeZone), rollup.newest.register);
      from = partDone ? to : lastHour;
    }
    // The readings newest first: each day's first seen is its newest, ahead of what the rollups said of it.
    const newestOfDay = new Map<string, bigint>();
    for await (const batch of this.usableHistory({ matricula, from, to })) {
      for (const reading of batch) {
        const day = localDay(reading.timestamp, this.timeZone);
        if (!newestOfDay.has(day)) newestOfDay.set(day, reading.consumo);
      }
    }
    for (const [day, register] of newestOfDay) lastOfDay.set(day, register);
    const days = [...lastOfDay.entries()].sort(([a], [b]) => a.localeCompare(b));
    const consumption: bigint[] = [];
    for (let i = 1; i < days.length; i++) {
      const [day, register] = days[i] as [string, bigint];
      const [previousDay, previous] = days[i - 1] as [string, bigint];
      if (Date.parse(`${day}T00:00:00Z`) - Date.parse(`${previousDay}T00:00:00Z`) === DAY_MS && register >= previous) consumption.push(register - previous);
    }
    return consumption;
  }

  /**
   * The end register of the previous cycle when its invoice in force billed
   * it by the mean of 12 cycles: the next cycle starts there, so what the
   * estimate over- or under-billed is settled by the next reading.
   */
  private async estimatedEnd(matricula: string, month: string): Promise<BoundaryRegister | undefined> {
    const invoices = await this.stores.invoices.list(matricula, 0, PREVIOUS_INVOICE_SEARCH);
    const previous = invoices.find((invoice) => invoice.ciclo === month && invoice.estado === 'emitida');
    if (previous === undefined) return undefined;
    const final = (JSON.parse(previous.documento) as { leituras?: { final?: { registro?: unknown; situacao?: unknown; data_hora?: unknown } } }).leituras?.final;
    if (final?.situacao !== 'media_ciclos') return undefined;
    const register = parseRegister(String(final.registro));
    const timestamp = Date.parse(String(final.data_hora));
    return register === undefined || Number.isNaN(timestamp) ? undefined : { timestamp, register, flag: 'media_ciclos', readings: [] };
  }

  /** The register at a boundary, from the newest usable reading at or before it and the first after it. */
  private async boundary(matricula: string, at: number): Promise<BoundaryRegister | undefined> {
    // A boundary on a whole UTC hour (a local midnight of every zone of Brazil's) is found in the hourly rollups.
    if (at % HOUR_MS === 0) return this.boundaryFromRollups(matricula, at);
    let before: Reading | undefined;
    for await (const batch of this.usableHistory({ matricula, from: at - BOUNDARY_SEARCH_MS, to: at + 1 })) {
      before = batch[0];
      break;
    }
    if (before !== undefined && at - before.timestamp <= HOUR_MS) return registerAt(at, before, undefined);
    return registerAt(at, before, await this.firstAfter(matricula, at));
  }

  /**
   * The same register from the hourly rollups, `at` being a whole hour: the
   * newest usable reading at or before it is the hour starting at `at`'s
   * oldest when stamped at `at`, else the newest of the last hour before it
   * with one; the first after it (needed only when no reading is at `at`)
   * is the oldest of the first hour from `at` with one. Both looked for in
   * widening windows, as the readings are.
   */
  private async boundaryFromRollups(matricula: string, at: number): Promise<BoundaryRegister | undefined> {
    const reading = (point: RegisterPoint | undefined): Reading | undefined => (point === undefined ? undefined : { matricula, timestamp: point.timestamp, consumo: point.register });
    const hours = (from: number, to: number) => this.stores.store.hourly({ matricula, from, to });
    const before = reading(newestAtOrBefore(await hours(at - DAY_MS, at + HOUR_MS), at)) ?? reading(newestAtOrBefore(await hours(at - BOUNDARY_SEARCH_MS, at - DAY_MS), at));
    if (before !== undefined && at - before.timestamp <= HOUR_MS) return registerAt(at, before, undefined);
    let after: Reading | undefined;
    for (const width of [HOUR_MS, DAY_MS, BOUNDARY_SEARCH_MS]) {
      // As firstAfter: readings in (at, at + width].
      after = reading(oldestAfter(await hours(at, at + width + HOUR_MS), at, at + width));
      if (after !== undefined) break;
    }
    return registerAt(at, before, after);
  }

  /** The oldest reading after `at`, looked for in widening windows so a meter that reads every second costs an hour of readings, not a month. */
  private async firstAfter(matricula: string, at: number): Promise<Reading | undefined> {
    for (const width of [HOUR_MS, DAY_MS, BOUNDARY_SEARCH_MS]) {
      let oldest: Reading | undefined;
      for await (const batch of this.usableHistory({ matricula, from: at + 1, to: at + 1 + width })) oldest = batch[batch.length - 1];
      if (oldest !== undefined) return oldest;
    }
    return undefined;
  }

  /** Tarifa Branca: the cycle's intervals between readings, allocated to postos as the history streams by. */
  private async byPosto(matricula: string, start: BoundaryRegister, end: BoundaryRegister, hours: PostoHours): Promise<PostoAmounts> {
    // The whole hours of the cycle come from the rollups when postos change on whole UTC hours only (no posto changes
    // inside an hour: allocating between an hour's oldest and newest readings is allocating between all of them); a
    // part hour at either end (a boundary off the hour, as a preview's newest reading) from the readings. A boundary
    // on the hour (a cycle's, always) starts the rollups' hours, less a reading stamped at it, as the readings after it.
    const startOnHour = start.timestamp % HOUR_MS === 0;
    const inside = { from: startOnHour ? start.timestamp : Math.floor(start.timestamp / HOUR_MS) * HOUR_MS + HOUR_MS, to: Math.floor(end.timestamp / HOUR_MS) * HOUR_MS };
    if (inside.from < inside.to && postosOnWholeHours(hours, this.timeZone, start.timestamp, end.timestamp)) {
      const points: RegisterPoint[] = [{ timestamp: start.timestamp, register: start.register }];
      const readingsIn = async (from: number, to: number): Promise<void> => {
        const newestFirst: RegisterPoint[] = [];
        for await (const batch of this.usableHistory({ matricula, from, to })) for (const reading of batch) newestFirst.push({ timestamp: reading.timestamp, register: reading.consumo });
        for (let i = newestFirst.length - 1; i >= 0; i--) points.push(newestFirst[i] as RegisterPoint);
      };
      if (!startOnHour) await readingsIn(start.timestamp + 1, inside.from);
      points.push(...registerPoints(await this.stores.store.hourly({ matricula, ...inside })).filter((point) => point.timestamp > start.timestamp));
      await readingsIn(inside.to, end.timestamp);
      points.push({ timestamp: end.timestamp, register: end.register });
      return consumptionByPosto(points, this.timeZone, hours);
    }
    const accumulator = new PostoAccumulator(this.timeZone, hours);
    let later = { timestamp: end.timestamp, register: end.register };
    for await (const batch of this.usableHistory({ matricula, from: start.timestamp + 1, to: end.timestamp })) {
      for (const reading of batch) {
        const point = { timestamp: reading.timestamp, register: reading.consumo };
        accumulator.add(point, later);
        later = point;
      }
    }
    accumulator.add({ timestamp: start.timestamp, register: start.register }, later);
    return accumulator.total;
  }

  /** The consumption of the HISTORY_CYCLES cycles before `cycle`, newest first. */
  private async history(matricula: string, readingDay: number, cycle: Cycle): Promise<HistoryEntry[]> {
    const history: HistoryEntry[] = [];
    let end = await this.boundary(matricula, cycle.start);
    let month = cycleMonth(cycle);
    for (let i = 0; i < HISTORY_CYCLES; i++) {
      month = previousMonth(month);
      const previous = cycleEndingIn(month, readingDay, this.timeZone);
      const start = end === undefined ? undefined : await this.boundary(matricula, previous.start);
      if (start !== undefined && end !== undefined && end.register >= start.register && start.flag !== 'primeira_leitura') history.push({ month, consumption: end.register - start.register, boundaries: { start, end } });
      else history.push({ month, consumption: null });
      end = start;
    }
    return history;
  }
}
