/**
 * Reports as PDF (pdfkit, its standard Helvetica): a meter's report with a
 * bar chart of consumption per period and a line chart of voltage and
 * power, its figures and events; the fleet's with its KPIs and a bar chart
 * of the top consumers. Drawn from the report's JSON (the numbers as the
 * API answers them, for display only).
 */

import { A4, ACCENT, INK, LINE, loadPdfKit, MARGIN, SOFT } from './invoice-pdf.js';

const SECOND = '#d9822b';
const WIDTH = A4.width - 2 * MARGIN;

/** What both reports' JSON start with. */
interface ReportHead {
  periodo: string;
  inicio: string;
  fim: string;
  fuso: string;
  consumo_kwh: number;
  co2e_kg: number;
  leituras: number;
  sinalizadas: number;
  completude: number | null;
}

export interface MeterReportJson extends ReportHead {
  matricula: string;
  periodos: Array<{ inicio: string; consumo_kwh: number | null; tensao_v?: { media: number } | undefined; potencia_kw?: { media: number } | undefined }>;
  ocorrencias: Array<{ data_hora: string; tipo: string; detalhe: string }>;
}

export interface FleetReportJson extends ReportHead {
  medidores: number;
  medidores_silenciosos: number;
  medidores_sem_energia: number;
  medidores_cortados: number;
  alertas_abertos: number;
  maiores_consumidores: Array<{ matricula: string; username: string; consumo_kwh: number }>;
}

const number = (value: number, places = 3): string => value.toLocaleString('pt-BR', { maximumFractionDigits: places });
const percent = (value: number | null): string => (value === null ? '—' : `${number(value * 100, 1)}%`);
const PERIOD_NAMES: Record<string, string> = { diario: 'diário', semanal: 'semanal', mensal: 'mensal' };

async function open(title: string, subject: string): Promise<{ pdf: PDFKit.PDFDocument; done: Promise<Buffer> }> {
  const PDFDocument = await loadPdfKit();
  const pdf = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: title, Author: 'consumo-inteligente', Subject: subject } });
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  return { pdf, done };
}

function header(pdf: PDFKit.PDFDocument, title: string, lines: string[]): number {
  pdf.fillColor(ACCENT).font('Helvetica-Bold').fontSize(16).text(title, MARGIN, MARGIN);
  pdf.font('Helvetica').fontSize(9).fillColor(SOFT);
  lines.forEach((line, i) => pdf.text(line, MARGIN, MARGIN + 22 + i * 12));
  const y = MARGIN + 26 + lines.length * 12;
  pdf.moveTo(MARGIN, y).lineTo(A4.width - MARGIN, y).strokeColor(LINE).stroke();
  return y + 12;
}

/** A row of KPI boxes. */
function kpis(pdf: PDFKit.PDFDocument, y: number, items: Array<[string, string]>): number {
  const w = WIDTH / items.length;
  items.forEach(([label, value], i) => {
    const x = MARGIN + i * w;
    pdf.roundedRect(x + 2, y, w - 4, 44, 4).strokeColor(LINE).stroke();
    pdf.font('Helvetica').fontSize(7.5).fillColor(SOFT).text(label, x + 8, y + 7, { width: w - 16 });
    pdf.font('Helvetica-Bold').fontSize(12).fillColor(INK).text(value, x + 8, y + 21, { width: w - 16 });
  });
  return y + 56;
}

/** Bars of `values` (null: no bar) with labels under some of them. */
function barChart(pdf: PDFKit.PDFDocument, y: number, title: string, unit: string, values: Array<number | null>, labels: string[], height = 150): number {
  pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text(title, MARGIN, y);
  const top = y + 18;
  const max = Math.max(...values.map((v) => v ?? 0), 0);
  pdf.font('Helvetica').fontSize(7).fillColor(SOFT).text(`${number(max)} ${unit}`, MARGIN, top - 2);
  const chartTop = top + 10;
  const step = WIDTH / Math.max(values.length, 1);
  values.forEach((value, i) => {
    if (value === null || max === 0) return;
    const h = (value / max) * height;
    pdf.rect(MARGIN + i * step + step * 0.15, chartTop + height - h, step * 0.7, h).fill(ACCENT);
  });
  pdf.moveTo(MARGIN, chartTop + height).lineTo(A4.width - MARGIN, chartTop + height).strokeColor(LINE).stroke();
  const every = Math.max(1, Math.ceil(values.length / 12));
  pdf.font('Helvetica').fontSize(6.5).fillColor(SOFT);
  labels.forEach((label, i) => {
    if (i % every === 0) pdf.text(label, MARGIN + i * step, chartTop + height + 3, { width: step * every, align: 'left' });
  });
  return chartTop + height + 18;
}

/** Lines of two series on their own scales (left and right), points without a value skipped. */
function lineChart(pdf: PDFKit.PDFDocument, y: number, title: string, series: Array<{ name: string; color: string; values: Array<number | null> }>, height = 110): number {
  pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text(title, MARGIN, y);
  const chartTop = y + 30;
  series.forEach((s, k) => {
    const known = s.values.filter((v): v is number => v !== null);
    if (known.length === 0) return;
    const min = Math.min(...known);
    const max = Math.max(...known);
    const span = max - min || 1;
    const step = WIDTH / Math.max(s.values.length - 1, 1);
    let started = false;
    s.values.forEach((value, i) => {
      if (value === null) return;
      const px = MARGIN + i * step;
      const py = max === min ? chartTop + height / 2 : chartTop + height - ((value - min) / span) * height;
      if (started) pdf.lineTo(px, py);
      else pdf.moveTo(px, py);
      started = true;
    });
    pdf.strokeColor(s.color).lineWidth(1.2).stroke().lineWidth(1);
    pdf.font('Helvetica').fontSize(7).fillColor(s.color).text(`${s.name}: ${number(min)} a ${number(max)}`, MARGIN + k * (WIDTH / 2), y + 15);
  });
  pdf.moveTo(MARGIN, chartTop + height).lineTo(A4.width - MARGIN, chartTop + height).strokeColor(LINE).stroke();
  return chartTop + height + 14;
}

const label = (iso: string, kind: string): string => (kind === 'diario' ? iso.slice(11, 16) : iso.slice(8, 10) + '/' + iso.slice(5, 7));

export async function renderMeterReportPdf(report: MeterReportJson): Promise<Buffer> {
  const { pdf, done } = await open(`Relatório ${PERIOD_NAMES[report.periodo]} ${report.matricula}`, `Consumo e grandezas da matrícula ${report.matricula}`);
  let y = header(pdf, `Relatório ${PERIOD_NAMES[report.periodo] ?? report.periodo} · matrícula ${report.matricula}`, [
    `De ${report.inicio} a ${report.fim} (fuso ${report.fuso})`,
    `Gerado em ${new Date().toISOString()}`,
  ]);
  y = kpis(pdf, y, [
    ['Consumo', `${number(report.consumo_kwh)} kWh`],
    ['CO2e', `${number(report.co2e_kg)} kg`],
    ['Leituras', number(report.leituras, 0)],
    ['Sinalizadas (VEE)', number(report.sinalizadas, 0)],
    ['Completude', percent(report.completude)],
  ]);
  const labels = report.periodos.map((p) => label(p.inicio, report.periodo));
  y = barChart(pdf, y, 'Consumo por período', 'kWh', report.periodos.map((p) => p.consumo_kwh), labels);
  y = lineChart(pdf, y, 'Grandezas elétricas (média por período)', [
    { name: 'Tensão (V)', color: ACCENT, values: report.periodos.map((p) => p.tensao_v?.media ?? null) },
    { name: 'Potência (kW)', color: SECOND, values: report.periodos.map((p) => p.potencia_kw?.media ?? null) },
  ]);
  pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text('Ocorrências', MARGIN, y);
  y += 16;
  pdf.font('Helvetica').fontSize(8).fillColor(INK);
  if (report.ocorrencias.length === 0) pdf.fillColor(SOFT).text('Nenhuma ocorrência no período.', MARGIN, y);
  for (const event of report.ocorrencias.slice(0, 20)) {
    pdf.text(`${event.data_hora}  ${event.tipo}  ${event.detalhe}`, MARGIN, y, { width: WIDTH });
    y += 11;
  }
  pdf.end();
  return done;
}

export async function renderFleetReportPdf(report: FleetReportJson): Promise<Buffer> {
  const { pdf, done } = await open(`Relatório ${PERIOD_NAMES[report.periodo]} da frota`, 'Qualidade, situação e consumo da frota');
  let y = header(pdf, `Relatório ${PERIOD_NAMES[report.periodo] ?? report.periodo} da frota`, [`De ${report.inicio} a ${report.fim} (fuso ${report.fuso})`, `Gerado em ${new Date().toISOString()}`]);
  y = kpis(pdf, y, [
    ['Medidores', number(report.medidores, 0)],
    ['Consumo', `${number(report.consumo_kwh)} kWh`],
    ['CO2e', `${number(report.co2e_kg)} kg`],
    ['Completude média', percent(report.completude)],
  ]);
  y = kpis(pdf, y, [
    ['Silenciosos', number(report.medidores_silenciosos, 0)],
    ['Sem energia', number(report.medidores_sem_energia, 0)],
    ['Cortados', number(report.medidores_cortados, 0)],
    ['Leituras sinalizadas', number(report.sinalizadas, 0)],
    ['Alertas abertos', number(report.alertas_abertos, 0)],
  ]);
  y = barChart(pdf, y, 'Maiores consumidores', 'kWh', report.maiores_consumidores.map((m) => m.consumo_kwh), report.maiores_consumidores.map((m) => m.matricula));
  pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text('Maiores consumidores', MARGIN, y);
  y += 16;
  pdf.font('Helvetica').fontSize(8.5).fillColor(INK);
  for (const meter of report.maiores_consumidores) {
    pdf.text(`${meter.matricula}  ${meter.username}`, MARGIN, y, { width: WIDTH * 0.7 });
    pdf.text(`${number(meter.consumo_kwh)} kWh`, MARGIN, y, { width: WIDTH, align: 'right' });
    y += 12;
  }
  pdf.end();
  return done;
}
