/**
 * Reports: a meter's day (per hour), week or month (per day) — consumption,
 * CO2e, readings, validation flags, electrical quantities, events — and the
 * fleet's for the operator — completeness, flags, meters silent, without
 * power or cut, open alerts, consumption totals and top consumers — as
 * values the routes serialise as JSON, CSV or PDF.
 */
import type { AlertStore } from '../../database/alert-store.js';
import type { EventStore, MeterEvent } from '../../database/event-store.js';
import type { Store } from '../../database/store.js';
import { usable } from '../../database/usable-readings.js';
import { wallClockInstant } from '../../protocol/timestamp.js';
import { boundariesOf, periodStart, type PeriodUnit } from '../../domain/readings/periods.js';
import { co2eGrams, co2eOfPeriods } from '../../domain/co2e.js';
import { QualityAccumulator, rollupQuality } from '../../domain/readings/data-quality.js';
import { periodsOfRollups, rollupsFor, type Rollup } from '../../domain/readings/rollups.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ReportAccumulator, type ReportPeriod } from '../../domain/report.js';
import type { EmissionFactors } from '../emission-factors.js';
import type { FleetTracker } from '../fleet.js';
import { localMonth } from '../../protocol/timestamp.js';
import { silentAfter } from '../fleet.js';

export const REPORT_KINDS = ['diario', 'semanal', 'mensal'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
/** Events a meter report lists, newest first. */
export const REPORT_EVENTS = 100;
/** Meters a fleet report covers (registered customers, in registration order): a month of 100,000 from daily rollups takes a few seconds (bench/RESULTS.md section 19). */
export const FLEET_REPORT_MAX_METERS = 200_000;
/** Meters' lines composed between two turns of the event loop: ingest's acknowledgements wait no longer than that. */
const FLEET_SLICE_METERS = 50;
/** Top consumers a fleet report names. */
export const TOP_CONSUMERS = 10;
/** Alerts read at a time when counting the open ones. */
const OPEN_ALERTS_PAGE = 1000;

export interface ReportSpan {
  readonly kind: ReportKind;
  readonly from: number;
  readonly to: number;
  readonly unit: PeriodUnit;
  readonly timeZone: string;
}

/** The span of a report starting on local day `day` (`YYYY-MM-DD`): that day per hour, 7 days per day, or its calendar month per day. */
export function reportSpan(kind: ReportKind, day: string, timeZone: string): ReportSpan {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  if (kind === 'mensal') return { kind, from: wallClockInstant(Date.UTC(year, month - 1, 1), timeZone), to: wallClockInstant(Date.UTC(year, month, 1), timeZone), unit: 'dia', timeZone };
  const days = kind === 'diario' ? 1 : 7;
  return { kind, from: wallClockInstant(Date.UTC(year, month - 1, date), timeZone), to: wallClockInstant(Date.UTC(year, month - 1, date + days), timeZone), unit: kind === 'diario' ? 'hora' : 'dia', timeZone };
}

export interface MeterReport {
  readonly matricula: string;
  readonly span: ReportSpan;
  readonly periods: readonly (ReportPeriod & { readonly co2eGrams: bigint | undefined })[];
  readonly consumption: bigint;
  readonly co2eGrams: bigint;
  readonly readings: number;
  readonly flagged: number;
  readonly completeness: number | null;
  readonly events: readonly MeterEvent[];
}

export interface FleetMeterLine {
  readonly matricula: string;
  readonly username: string;
  readonly consumption: bigint;
  readonly co2eGrams: bigint;
  readonly readings: number;
  readonly flagged: number;
  readonly completeness: number | null;
}

export interface FleetReport {
  readonly span: ReportSpan;
  readonly meters: readonly FleetMeterLine[];
  readonly consumption: bigint;
  readonly co2eGrams: bigint;
  readonly readings: number;
  readonly flagged: number;
  readonly completeness: number | null;
  readonly silent: number;
  readonly withoutPower: number;
  readonly cut: number;
  readonly openAlerts: number;
  readonly top: readonly FleetMeterLine[];
  /** More customers than FLEET_REPORT_MAX_METERS: the report covers the first ones. */
  readonly truncated: boolean;
}

export class Reporting {
  constructor(
    private readonly parts: { readonly store: Store; readonly events: EventStore; readonly alerts: AlertStore; readonly fleet: FleetTracker; readonly factors: EmissionFactors },
  ) {}

  async meter(matricula: string, span: ReportSpan): Promise<MeterReport> {
    const measured = await this.measure(matricula, span, await this.factorsOf(span));
    return { ...measured, events: await this.parts.events.list({ matricula, from: span.from, to: span.to - 1 }, 0, REPORT_EVENTS) };
  }

  /** The span's emission factors, read once per report (a fleet report measures thousands of meters with them). */
  private factorsOf(span: ReportSpan): Promise<(month: string) => bigint> {
    return this.parts.factors.between(localMonth(span.from, span.timeZone), localMonth(span.to - 1, span.timeZone));
  }

  /** A meter's periods and totals over the span, from one pass over its history (its events are the meter report's alone). */
  private async measure(matricula: string, span: ReportSpan, factorOf: (month: string) => bigint): Promise<Omit<MeterReport, 'events'>> {
    const boundaries = [...boundariesOf(span.from, span.to, span.unit, span.timeZone)];
    const accumulator = new ReportAccumulator(boundaries, periodStart(span.from - 1, span.unit, span.timeZone));
    const quality = new QualityAccumulator(span.from, span.to, span.timeZone);
    for await (const batch of this.parts.store.history({ matricula, ...accumulator.range })) {
      accumulator.add(batch, usable);
      quality.add(batch.filter((reading) => reading.timestamp >= span.from));
    }
    const periods = accumulator.periods().map((period) => ({ ...period, co2eGrams: period.consumption === undefined ? undefined : co2eGrams(period.consumption, factorOf(localMonth(period.start, span.timeZone))) }));
    const total = quality.report().total;
    return {
      matricula,
      span,
      periods,
      consumption: periods.reduce((sum, period) => sum + (period.consumption ?? 0n), 0n),
      co2eGrams: co2eOfPeriods(periods.map((period) => ({ month: localMonth(period.start, span.timeZone), consumption: period.consumption })), factorOf),
      readings: total.received,
      flagged: total.received - total.valid,
      completeness: total.completeness,
    };
  }

  /**
   * A meter's line of the fleet report from its rollups (daily ones for days
   * of the store's day zone, else hourly): consumption per period as
   * /consumo gives it, readings and flags counted per rollup, completeness
   * against the cadence the rollups show (domain/readings/data-quality.ts
   * rollupQuality). One read of the meter's days or hours, whatever its
   * readings.
   */
  private async fleetLine(matricula: string, span: ReportSpan, boundaries: readonly number[], previousStart: number, daily: boolean, factorOf: (month: string) => bigint): Promise<Omit<MeterReport, 'events' | 'periods' | 'matricula' | 'span'>> {
    const query = { matricula, from: previousStart, to: span.to };
    const rollups: Rollup[] = daily ? await this.parts.store.daily(query) : await this.parts.store.hourly(query);
    const periods = periodsOfRollups(boundaries, previousStart, rollups);
    const quality = rollupQuality(rollups, span.from, span.to, span.timeZone);
    return {
      consumption: periods.reduce((sum, period) => sum + (period.consumption ?? 0n), 0n),
      co2eGrams: co2eOfPeriods(periods.map((period) => ({ month: localMonth(period.start, span.timeZone), consumption: period.consumption })), factorOf),
      readings: quality.received,
      flagged: quality.received - quality.valid,
      completeness: quality.completeness,
    };
  }

  async fleet(span: ReportSpan, signal?: AbortSignal): Promise<FleetReport> {
    const customers = await this.parts.store.findCustomers({ limit: FLEET_REPORT_MAX_METERS + 1 });
    const factorOf = await this.factorsOf(span);
    const meters: FleetMeterLine[] = [];
    const boundaries = [...boundariesOf(span.from, span.to, span.unit, span.timeZone)];
    const previousStart = periodStart(span.from - 1, span.unit, span.timeZone);
    const rollups = rollupsFor([previousStart, ...boundaries], this.parts.store.dayZone);
    let index = 0;
    for (const customer of customers.slice(0, FLEET_REPORT_MAX_METERS)) {
      if (++index % FLEET_SLICE_METERS === 0) await yieldToEventLoop();
      if (signal?.aborted === true) break;
      const report = rollups !== undefined ? await this.fleetLine(customer.matricula, span, boundaries, previousStart, rollups === 'dia', factorOf) : await this.measure(customer.matricula, span, factorOf);
      meters.push({ matricula: customer.matricula, username: customer.username, consumption: report.consumption, co2eGrams: report.co2eGrams, readings: report.readings, flagged: report.flagged, completeness: report.completeness });
    }
    // Silent as /frota's default tells it: nothing for three of the meters' default send intervals.
    const summary = this.parts.fleet.summary(silentAfter({}));
    const known = meters.filter((m) => m.completeness !== null);
    return {
      span,
      meters,
      consumption: meters.reduce((sum, m) => sum + m.consumption, 0n),
      co2eGrams: meters.reduce((sum, m) => sum + m.co2eGrams, 0n),
      readings: meters.reduce((sum, m) => sum + m.readings, 0),
      flagged: meters.reduce((sum, m) => sum + m.flagged, 0),
      completeness: known.length === 0 ? null : Math.round(known.reduce((sum, m) => sum + (m.completeness as number), 0) / known.length),
      silent: summary.medidores_silenciosos,
      withoutPower: summary.medidores_sem_energia,
      cut: summary.medidores_cortados,
      openAlerts: await this.openAlerts(),
      top: topConsumers(meters, TOP_CONSUMERS),
      truncated: customers.length > FLEET_REPORT_MAX_METERS,
    };
  }

  /** Alerts not yet closed (active or acknowledged), counted a page at a time. */
  private async openAlerts(): Promise<number> {
    let count = 0;
    for (const state of ['ativo', 'reconhecido'] as const) {
      for (let offset = 0; ; offset += OPEN_ALERTS_PAGE) {
        const page = await this.parts.alerts.list({ state }, offset, OPEN_ALERTS_PAGE);
        count += page.length;
        if (page.length < OPEN_ALERTS_PAGE) break;
      }
    }
    return count;
  }
}

/**
 * The `count` lines of most consumption, most first, ties in their order in
 * `meters` (what a stable sort gives), in one pass: a fleet of 100,000 is
 * not sorted to name ten.
 */
export function topConsumers(meters: readonly FleetMeterLine[], count: number): FleetMeterLine[] {
  const top: FleetMeterLine[] = [];
  if (count <= 0) return top;
  for (const meter of meters) {
    if (top.length === count && meter.consumption <= (top[top.length - 1] as FleetMeterLine).consumption) continue;
    // After every line of at least its consumption: earlier lines keep their place among equals.
    let at = top.length;
    while (at > 0 && (top[at - 1] as FleetMeterLine).consumption < meter.consumption) at--;
    top.splice(at, 0, meter);
    if (top.length > count) top.pop();
  }
  return top;
}
