/** Reports (app/reports/reporting.ts) as the API answers them: JSON with exact decimals, and CSV. */
import { csvText } from '../../protocol/csv.js';
import { formatDecimal, REGISTER_SCALE } from '../../protocol/decimal.js';
import { QUANTITIES } from '../../protocol/quantities.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { FleetReport, MeterReport } from '../reports/reporting.js';
import { consumoJson, decimalJson } from './decimals.js';

const completenessJson = (value: number | null) => (value === null ? null : decimalJson(BigInt(value), 3));
const grams = (value: bigint) => decimalJson(value, 3);

export function meterReportJson(report: MeterReport) {
  return {
    matricula: report.matricula,
    periodo: report.span.kind,
    inicio: formatIsoTimestamp(report.span.from),
    fim: formatIsoTimestamp(report.span.to),
    fuso: report.span.timeZone,
    consumo_kwh: consumoJson(report.consumption),
    co2e_kg: grams(report.co2eGrams),
    leituras: report.readings,
    sinalizadas: report.flagged,
    completude: completenessJson(report.completeness),
    periodos: report.periods.map((period) => ({
      inicio: formatIsoTimestamp(period.start),
      fim: formatIsoTimestamp(period.end),
      leituras: period.readings,
      sinalizadas: period.flagged,
      consumo_kwh: period.consumption === undefined ? null : consumoJson(period.consumption),
      co2e_kg: period.co2eGrams === undefined ? null : grams(period.co2eGrams),
      ...Object.fromEntries(
        QUANTITIES.flatMap((spec) => {
          const stats = period.quantities[spec.name];
          return stats === undefined ? [] : [[spec.json, { media: decimalJson(stats.mean, 3), min: decimalJson(BigInt(stats.min), 3), max: decimalJson(BigInt(stats.max), 3), amostras: stats.samples }]];
        }),
      ),
    })),
    ocorrencias: report.events.map((event) => ({ data_hora: formatIsoTimestamp(event.timestamp), tipo: event.type, detalhe: event.detail })),
  };
}

export function fleetReportJson(report: FleetReport) {
  const line = (m: FleetReport['meters'][number]) => ({ matricula: m.matricula, username: m.username, consumo_kwh: consumoJson(m.consumption), co2e_kg: grams(m.co2eGrams), leituras: m.readings, sinalizadas: m.flagged, completude: completenessJson(m.completeness) });
  return {
    periodo: report.span.kind,
    inicio: formatIsoTimestamp(report.span.from),
    fim: formatIsoTimestamp(report.span.to),
    fuso: report.span.timeZone,
    medidores: report.meters.length,
    consumo_kwh: consumoJson(report.consumption),
    co2e_kg: grams(report.co2eGrams),
    leituras: report.readings,
    sinalizadas: report.flagged,
    completude: completenessJson(report.completeness),
    medidores_silenciosos: report.silent,
    medidores_sem_energia: report.withoutPower,
    medidores_cortados: report.cut,
    alertas_abertos: report.openAlerts,
    maiores_consumidores: report.top.map(line),
    truncado: report.truncated,
    por_medidor: report.meters.map(line),
  };
}

const cell = (value: bigint | undefined, scale = REGISTER_SCALE) => (value === undefined ? '' : formatDecimal(value, scale));

export function meterCsv(report: MeterReport): string {
  const header = ['inicio', 'fim', 'leituras', 'sinalizadas', 'consumo_kwh', 'co2e_kg', ...QUANTITIES.map((spec) => `${spec.json}_media`)];
  const rows = report.periods.map((p) => [formatIsoTimestamp(p.start), formatIsoTimestamp(p.end), String(p.readings), String(p.flagged), cell(p.consumption), cell(p.co2eGrams), ...QUANTITIES.map((spec) => cell(p.quantities[spec.name]?.mean))].join(','));
  return [header.join(','), ...rows].join('\r\n') + '\r\n';
}

/** Meters' lines in a part of the fleet CSV: a few milliseconds of work. */
export const FLEET_CSV_PART_LINES = 1000;

/** The fleet CSV in parts (the header, then FLEET_CSV_PART_LINES lines at a time), for a route to write each as it is made. */
export function* fleetCsvParts(report: FleetReport): Generator<string> {
  yield 'matricula,username,consumo_kwh,co2e_kg,leituras,sinalizadas,completude\r\n';
  const line = (m: FleetReport['meters'][number]) => [m.matricula, csvText(m.username), cell(m.consumption), cell(m.co2eGrams), String(m.readings), String(m.flagged), m.completeness === null ? '' : formatDecimal(BigInt(m.completeness), 3)].join(',');
  for (let at = 0; at < report.meters.length; at += FLEET_CSV_PART_LINES) yield report.meters.slice(at, at + FLEET_CSV_PART_LINES).map(line).join('\r\n') + '\r\n';
}
