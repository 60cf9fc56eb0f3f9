/**
 * `GET /relatorios?matricula=&periodo=diario|semanal|mensal&inicio=AAAA-MM-DD`:
 * a meter's report (a customer's own, or any for the operator), or the
 * fleet's without matricula (operator), as JSON, CSV (`formato=csv` or
 * `Accept: text/csv`) or PDF (`formato=pdf` or `Accept: application/pdf`).
 * `GET /relatorios/arquivos` lists the fleet reports written on schedule
 * (RELATORIOS_INTERVALO_H) and `GET /relatorios/arquivos/{nome}` downloads one.
 */
import { z } from 'zod';
import { stringifyJson, type JsonValue } from '../../protocol/json.js';
import { formatIsoTimestamp, ISO_DAY, isValidTimeZone, zoneOffset } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import { HttpError } from '../http/http-error.js';
import { fleetCsvParts, fleetReportJson, meterCsv, meterReportJson } from '../../app/views/reports.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { renderFleetReportPdf, renderMeterReportPdf, type FleetReportJson, type MeterReportJson } from '../../app/views/report-pdf.js';
import type { ReportArchive } from '../../app/reports/report-job.js';
import { REPORT_KINDS, reportSpan, type Reporting } from '../../app/reports/reporting.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { authorizeMeterOrFleet, invalidField, matriculaSchema, withFields } from './fields.js';
import { CSV_CONTENT_TYPE, wantsCsv } from './medicoes.js';
import { PDF_TYPE } from './faturas.js';

const reportSchema = z.object({
  matricula: matriculaSchema.optional(),
  periodo: z.enum(REPORT_KINDS, { error: `deve ser ${REPORT_KINDS.join(', ')}` }).optional(),
  inicio: z.string().regex(ISO_DAY, 'deve ser uma data AAAA-MM-DD').refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day), 'deve ser uma data que existe').optional(),
  fuso: z.string().refine(isValidTimeZone, 'deve ser um fuso IANA, como America/Sao_Paulo ou UTC').optional(),
  formato: z.enum(['json', 'csv', 'pdf'], { error: 'deve ser json, csv ou pdf' }).optional(),
  access_token: z.string().optional(),
});

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
  const report = withFields(reportSchema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
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
    // The CSV is written from the report itself: a line object per meter for JSON is not made for it.
    if (wantsPdf(fields.formato, input)) return bytesAnswer(PDF_TYPE, `relatorio-${name}.pdf`, await renderFleetReportPdf(plain<FleetReportJson>(fleetReportJson(found))));
    if (wantsCsv(fields.formato === 'pdf' ? undefined : fields.formato, input)) {
      return {
        status: 200,
        contentType: CSV_CONTENT_TYPE,
        headers: [['Content-Disposition', `attachment; filename="relatorio-${name}.csv"`]],
        // A part at a time, the event loop let run between them (ingest's acknowledgements): 100,000 lines are ~7 MB.
        stream: async function* () {
          for (const part of fleetCsvParts(found)) {
            yield part;
            await yieldToEventLoop();
          }
        },
      };
    }
    return { status: 200, body: fleetReportJson(found) };
  });
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
