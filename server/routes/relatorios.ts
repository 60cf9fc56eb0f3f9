/**
 * `GET /relatorios?matricula=&periodo=diario|semanal|mensal&inicio=AAAA-MM-DD`:
 * a meter's report (a customer's own, or any for the operator), or the
 * fleet's without matricula (operator), as JSON, CSV (`formato=csv` or
 * `Accept: text/csv`) or PDF (`formato=pdf` or `Accept: application/pdf`).
 * `GET /relatorios/arquivos` lists the fleet reports written on schedule
 * (RELATORIOS_INTERVALO_H) and `GET /relatorios/arquivos/{nome}` downloads one.
 */
import { z } from 'zod';
import { QUANTITIES } from '../../protocol/quantities.js';
import { stringifyJson, type JsonValue } from '../../protocol/json.js';
import { formatIsoTimestamp, isValidTimeZone, zoneOffset } from '../../protocol/timestamp.js';
import { formatDecimal, REGISTER_SCALE } from '../../protocol/decimal.js';
import type { ApiAccess } from '../http/api-access.js';
import { HttpError } from '../http/http-error.js';
import { renderFleetReportPdf, renderMeterReportPdf, type FleetReportJson, type MeterReportJson } from '../../app/views/report-pdf.js';
import type { ReportArchive } from '../../app/reports/report-job.js';
import { REPORT_KINDS, reportSpan, type FleetReport, type MeterReport, type Reporting } from '../../app/reports/reporting.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { consumoJson, decimalJson } from './decimals.js';
import { authorizeMeterOrFleet, invalidField, matriculaSchema, readFields } from './fields.js';
import { CSV_CONTENT_TYPE, wantsCsv } from './medicoes.js';
import { csvText } from '../../protocol/csv.js';
import { PDF_TYPE } from './faturas.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const reportSchema = z.object({
  matricula: matriculaSchema.optional(),
  periodo: z.enum(REPORT_KINDS, { error: `deve ser ${REPORT_KINDS.join(', ')}` }).optional(),
  inicio: z.string().regex(DAY, 'deve ser uma data AAAA-MM-DD').refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day), 'deve ser uma data que existe').optional(),
  fuso: z.string().refine(isValidTimeZone, 'deve ser um fuso IANA, como America/Sao_Paulo ou UTC').optional(),
  formato: z.enum(['json', 'csv', 'pdf'], { error: 'deve ser json, csv ou pdf' }).optional(),
  access_token: z.string().optional(),
});

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

function meterCsv(report: MeterReport): string {
  const header = ['inicio', 'fim', 'leituras', 'sinalizadas', 'consumo_kwh', 'co2e_kg', ...QUANTITIES.map((spec) => `${spec.json}_media`)];
  const rows = report.periods.map((p) => [formatIsoTimestamp(p.start), formatIsoTimestamp(p.end), String(p.readings), String(p.flagged), cell(p.consumption), cell(p.co2eGrams), ...QUANTITIES.map((spec) => cell(p.quantities[spec.name]?.mean))].join(','));
  return [header.join(','), ...rows].join('\r\n') + '\r\n';
}

function fleetCsv(report: FleetReport): string {
  const rows = report.meters.map((m) => [m.matricula, csvText(m.username), cell(m.consumption), cell(m.co2eGrams), String(m.readings), String(m.flagged), m.completeness === null ? '' : formatDecimal(BigInt(m.completeness), 3)].join(','));
  return ['matricula,username,consumo_kwh,co2e_kg,leituras,sinalizadas,completude', ...rows].join('\r\n') + '\r\n';
}

/** The JSON as plain values (numbers), as a client would read it: what the PDF is drawn from. */
const plain = <T>(json: JsonValue): T => JSON.parse(stringifyJson(json)) as T;

function wantsPdf(formato: string | undefined, input: RouteInput): boolean {
  if (formato !== undefined) return formato === 'pdf';
  const accept = input.request.head.headers.get('accept') ?? '';
  return accept.includes(PDF_TYPE) && !accept.includes('application/json');
}

const bytesAnswer = (contentType: string, filename: string, bytes: Buffer | string): Answer => ({
  status: 200,
  contentType,
  headers: [['Content-Disposition', `attachment; filename="${filename}"`]],
  stream: async function* () {
    yield bytes;
  },
});

export function relatoriosRoutes(reporting: Reporting, archive: ReportArchive, defaultTimeZone: string, access: ApiAccess): Route[] {
  const report = async (input: RouteInput): Promise<Answer> => {
    const fields = readFields(input, reportSchema);
    await authorizeMeterOrFleet(access, input, fields.matricula);
    const timeZone = fields.fuso ?? defaultTimeZone;
    const kind = fields.periodo ?? 'diario';
    const now = Date.now();
    const today = new Date(now + zoneOffset(now, timeZone)).toISOString().slice(0, 10);
    const span = reportSpan(kind, fields.inicio ?? today, timeZone);
    if (span.from > now) throw invalidField('inicio', 'o período ainda não começou');
    const name = `${fields.matricula === undefined ? 'frota' : fields.matricula}-${kind}-${fields.inicio ?? today}`;
    if (fields.matricula !== undefined) {
      const found = await reporting.meter(fields.matricula, span);
      const json = meterReportJson(found);
      if (wantsPdf(fields.formato, input)) return bytesAnswer(PDF_TYPE, `relatorio-${name}.pdf`, await renderMeterReportPdf(plain<MeterReportJson>(json)));
      if (wantsCsv(fields.formato === 'pdf' ? undefined : fields.formato, input)) return bytesAnswer(CSV_CONTENT_TYPE, `relatorio-${name}.csv`, meterCsv(found));
      return { status: 200, body: json };
    }
    const found = await reporting.fleet(span, input.signal);
    const json = fleetReportJson(found);
    if (wantsPdf(fields.formato, input)) return bytesAnswer(PDF_TYPE, `relatorio-${name}.pdf`, await renderFleetReportPdf(plain<FleetReportJson>(json)));
    if (wantsCsv(fields.formato === 'pdf' ? undefined : fields.formato, input)) return bytesAnswer(CSV_CONTENT_TYPE, `relatorio-${name}.csv`, fleetCsv(found));
    return { status: 200, body: json };
  };
  const files = async (input: RouteInput): Promise<Answer> => {
    await access.authenticateOperator(input.request, input.query.get('access_token') ?? undefined);
    return { status: 200, body: { arquivos: (await archive.list()).map((file) => ({ nome: file.name, tamanho: file.size, criado_em: formatIsoTimestamp(file.createdAt), url: `/relatorios/arquivos/${file.name}` })) } };
  };
  const download = async (input: RouteInput): Promise<Answer> => {
    await access.authenticateOperator(input.request, input.query.get('access_token') ?? undefined);
    const file = await archive.read(input.params.nome ?? '');
    if (file === undefined) throw new HttpError('rota_nao_encontrada', 'Não há relatório com esse nome.');
    return bytesAnswer(file.name.endsWith('.pdf') ? PDF_TYPE : 'application/json; charset=utf-8', file.name, file.bytes);
  };
  return [
    { path: '/relatorios', handlers: { GET: report }, traits: { heavy: true } },
    { path: '/relatorios/arquivos', handlers: { GET: files } },
    { path: '/relatorios/arquivos/{nome}', handlers: { GET: download } },
  ];
}
