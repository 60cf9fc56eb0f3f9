/**
 * An issued invoice as a one-page PDF a Brazilian customer recognises:
 * customer and meter, cycle and readings, the lines with quantity, unit
 * price and value, taxes, bandeiras, CIP, 13 months of consumption as bars,
 * and the total with its due date. Drawn with pdfkit (its standard
 * Helvetica, which covers Portuguese), from the invoice's own JSON.
 */
import type PDFDocumentClass from 'pdfkit';
import type { IssuedInvoice } from '../../database/invoice-store.js';

interface Document {
  matricula: string;
  cliente: string;
  distribuidora: string;
  ligacao: string;
  modalidade: string;
  tarifa_social: boolean;
  ciclo: { mes: string; inicio: string; fim: string; dias: number };
  leituras: { inicial: Boundary; final: Boundary };
  consumo_kwh: number;
  kwh_faturado: number;
  custo_disponibilidade_kwh: number;
  consumo_por_posto?: { ponta: number; intermediario: number; fora_ponta: number };
  /** The per-line taxes since invoices follow STF Tema 69 (absent on older ones). */
  itens: Array<{ descricao: string; quantidade: number; preco_unitario: number; valor: number; preco_unitario_com_tributos?: number; valor_sem_tributos?: number; pis?: number; cofins?: number; base_icms?: number; aliquota_icms?: number; icms?: number }>;
  subtotal: number;
  tributos: Array<{ nome: string; aliquota: number; base: number; valor: number }>;
  isencao_icms?: string;
  bandeiras: Array<{ mes: string; bandeira: string; dias: number; adicional_kwh: number }>;
  cip: number;
  total: number;
  vencimento: string;
  historico: Array<{ mes: string; consumo_kwh: number | null }>;
  /** `resolucao` since the invoices issued with ANEEL's act recorded. */
  tarifas: Array<{ resolucao?: string }>;
}

interface Boundary {
  data_hora: string;
  registro: number;
  situacao: string;
}

/** The page and colours every PDF of the server is drawn with (the invoice's and the reports'). */
export const A4 = { width: 595.28, height: 841.89 };
export const MARGIN = 40;
export const INK = '#1d2330';
export const SOFT = '#555e70';
export const LINE = '#d3d8e0';
export const ACCENT = '#1f62d0';
const CONNECTION_NAMES: Record<string, string> = { monofasica: 'monofásica', bifasica: 'bifásica', trifasica: 'trifásica' };
const FLAG_NAMES: Record<string, string> = { verde: 'verde', amarela: 'amarela', vermelha_1: 'vermelha patamar 1', vermelha_2: 'vermelha patamar 2', escassez_hidrica: 'escassez hídrica' };

const money = (value: number): string => value.toLocaleString('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const number = (value: number, places = 3): string => value.toLocaleString('pt-BR', { maximumFractionDigits: places });
const date = (iso: string): string => iso.slice(0, 10).split('-').reverse().join('/');
const dateTime = (iso: string, timeZone: string): string => new Date(iso).toLocaleString('pt-BR', { timeZone, dateStyle: 'short', timeStyle: 'short' });
const monthLabel = (month: string): string => {
  const [year, m] = month.split('-');
  return `${['jan', 'fev', 'mar', 'abr', 'mai', 'jun', 'jul', 'ago', 'set', 'out', 'nov', 'dez'][Number(m) - 1]}/${year?.slice(2)}`;
};

/** pdfkit, loaded when the first PDF is drawn: a process that draws none (every meter, most servers) does not pay for loading it. */
let pdfkit: Promise<typeof PDFDocumentClass> | undefined;
export const loadPdfKit = (): Promise<typeof PDFDocumentClass> => (pdfkit ??= import('pdfkit').then((module) => module.default));

export async function renderInvoicePdf(invoice: IssuedInvoice, timeZone: string): Promise<Buffer> {
  const PDFDocument = await loadPdfKit();
  const doc = JSON.parse(invoice.documento) as Document;
  const pdf = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: `Fatura ${invoice.numero}`, Author: doc.distribuidora, Subject: `Fatura de energia elétrica, ciclo ${doc.ciclo.mes}` } });
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const width = A4.width - 2 * MARGIN;

  // Header.
  pdf.fillColor(ACCENT).font('Helvetica-Bold').fontSize(16).text(doc.distribuidora, MARGIN, MARGIN);
  pdf.fillColor(INK).fontSize(11).text('Fatura de energia elétrica', MARGIN, MARGIN + 20);
  pdf.font('Helvetica').fontSize(9).fillColor(SOFT);
  pdf.text(`Nº ${invoice.numero}`, MARGIN, MARGIN, { width, align: 'right' });
  pdf.text(`Emitida em ${dateTime(invoice.emitidaEm, timeZone)}`, MARGIN, MARGIN + 12, { width, align: 'right' });
  if (invoice.substitui !== null) pdf.text(`Substitui a fatura ${invoice.substitui}`, MARGIN, MARGIN + 24, { width, align: 'right' });
  if (invoice.estado === 'cancelada') {
    pdf.save().rotate(-30, { origin: [A4.width / 2, A4.height / 2] }).fillColor('#c11f2b').opacity(0.18).font('Helvetica-Bold').fontSize(90).text('CANCELADA', 60, A4.height / 2 - 45, { width: A4.width - 120, align: 'center' }).restore();
    pdf.opacity(1);
  }
  let y = MARGIN + 44;
  pdf.moveTo(MARGIN, y).lineTo(A4.width - MARGIN, y).strokeColor(LINE).stroke();
  y += 10;

  // Customer and cycle.
  const column = (x: number, label: string, value: string, yy: number): void => {
    pdf.font('Helvetica').fontSize(8).fillColor(SOFT).text(label, x, yy);
    pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text(value, x, yy + 10, { width: width / 3 - 8 });
  };
  column(MARGIN, 'Cliente', doc.cliente, y);
  column(MARGIN + width / 3, 'Matrícula (unidade consumidora)', doc.matricula, y);
  column(MARGIN + (2 * width) / 3, 'Ligação / modalidade', `${CONNECTION_NAMES[doc.ligacao] ?? doc.ligacao} / ${doc.modalidade}${doc.tarifa_social ? ' / tarifa social' : ''}`, y);
  y += 34;
  column(MARGIN, 'Período de consumo', `${date(doc.ciclo.inicio)} a ${date(doc.ciclo.fim)} (${doc.ciclo.dias} dias)`, y);
  column(MARGIN + width / 3, 'Leitura anterior', `${number(doc.leituras.inicial.registro)} kWh (${doc.leituras.inicial.situacao})`, y);
  column(MARGIN + (2 * width) / 3, 'Leitura atual', `${number(doc.leituras.final.registro)} kWh (${doc.leituras.final.situacao})`, y);
  y += 34;
  const consumption = `${number(doc.consumo_kwh)} kWh` + (doc.kwh_faturado > doc.consumo_kwh ? ` (faturado: ${number(doc.kwh_faturado)} kWh, custo de disponibilidade)` : '');
  column(MARGIN, 'Consumo medido', consumption, y);
  if (doc.consumo_por_posto !== undefined) {
    const p = doc.consumo_por_posto;
    column(MARGIN + width / 3, 'Por posto (tarifa branca)', `ponta ${number(p.ponta)} · interm. ${number(p.intermediario)} · fora ${number(p.fora_ponta)} kWh`, y);
  }
  y += 40;

  // Items, each with its taxes, as a Brazilian bill shows them (older invoices carry no per-line taxes: those cells stay empty).
  const ITEM_COLUMNS = [0.25, 0.08, 0.1, 0.1, 0.09, 0.08, 0.09, 0.06, 0.07, 0.08].map((share) => share * width);
  const tableRow = (texts: readonly string[], yy: number, bold: boolean, size: number, colour: string): number => {
    let x = MARGIN;
    let height = 0;
    pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size).fillColor(colour);
    texts.forEach((text, i) => {
      const cellWidth = (ITEM_COLUMNS[i] ?? 0) - 3;
      pdf.text(text, x, yy, { width: cellWidth, align: i === 0 ? 'left' : 'right' });
      height = Math.max(height, pdf.heightOfString(text, { width: cellWidth }));
      x += ITEM_COLUMNS[i] ?? 0;
    });
    return yy + Math.max(11, Math.ceil(height) + 2);
  };
  pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text('Itens da fatura', MARGIN, y);
  y = tableRow(['Descrição', 'Quant. (kWh)', 'Tarifa s/ trib. (R$/kWh)', 'Tarifa c/ trib. (R$/kWh)', 'Valor s/ trib. (R$)', 'PIS/COFINS (R$)', 'Base ICMS (R$)', 'Alíq. ICMS', 'ICMS (R$)', 'Valor (R$)'], y + 15, false, 6.5, SOFT);
  const optional = (value: number | undefined, render: (v: number) => string): string => (value === undefined ? '' : render(value));
  for (const item of doc.itens) {
    const pisCofins = item.pis === undefined || item.cofins === undefined ? undefined : Math.round((item.pis + item.cofins) * 100) / 100;
    y = tableRow(
      [item.descricao, number(item.quantidade), number(item.preco_unitario, 8), optional(item.preco_unitario_com_tributos, (v) => number(v, 8)), optional(item.valor_sem_tributos, money), optional(pisCofins, money), optional(item.base_icms, money), optional(item.aliquota_icms, (v) => `${number(v * 100, 4)}%`), optional(item.icms, money), money(item.valor)],
      y,
      false,
      7.5,
      INK,
    );
  }
  pdf.moveTo(MARGIN, y).lineTo(A4.width - MARGIN, y).strokeColor(LINE).stroke();
  y += 4;
  const linesTotal = doc.itens.reduce((sum, item) => sum + Math.round(item.valor * 100), 0) / 100;
  y = tableRow(['Soma dos itens', '', '', '', money(doc.subtotal), '', '', '', '', money(linesTotal)], y, true, 7.5, INK) + 8;

  // Taxes, CIP, bandeiras.
  const cols = [MARGIN, MARGIN + width * 0.5, MARGIN + width * 0.66, MARGIN + width * 0.83];
  const row = (cells: string[], yy: number, bold = false): void => {
    pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8.5).fillColor(INK);
    pdf.text(cells[0] ?? '', cols[0], yy, { width: width * 0.5 - 6 });
    for (let i = 1; i < cells.length; i++) pdf.text(cells[i] ?? '', cols[i], yy, { width: width * (i === 3 ? 0.17 : 0.16) - 4, align: 'right' });
  };
  /** A table's title and column labels; returns where its rows start. */
  const tableHead = (title: string, labels: [string, string, string, string], yy: number): number => {
    pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text(title, MARGIN, yy);
    pdf.font('Helvetica').fontSize(7.5).fillColor(SOFT);
    pdf.text(labels[0], cols[0], yy + 15);
    for (let i = 1; i < 4; i++) pdf.text(labels[i] ?? '', cols[i], yy + 15, { width: width * (i === 3 ? 0.17 : 0.16) - 4, align: 'right' });
    return yy + 26;
  };
  y = tableHead('Tributos (incluídos nos valores dos itens)', ['Tributo', 'Base (R$)', 'Alíquota', 'Valor (R$)'], y);
  for (const tax of doc.tributos) {
    row([tax.nome, money(tax.base), `${number(tax.aliquota * 100, 4)}%`, money(tax.valor)], y);
    y += 12;
  }
  if (doc.isencao_icms !== undefined) {
    pdf.font('Helvetica').fontSize(7.5).fillColor(SOFT).text(doc.isencao_icms, MARGIN, y, { width });
    y += 11;
  }
  row(['Contribuição de iluminação pública (CIP/COSIP)', '', '', money(doc.cip)], y);
  y += 16;
  const flags = doc.bandeiras.map((f) => `${monthLabel(f.mes)}: ${FLAG_NAMES[f.bandeira] ?? f.bandeira} (${f.dias} dias${f.adicional_kwh > 0 ? `, + R$ ${number(f.adicional_kwh, 5)}/kWh` : ''})`).join(' · ');
  pdf.font('Helvetica').fontSize(8).fillColor(SOFT).text(`Bandeiras tarifárias: ${flags}`, MARGIN, y, { width });
  y += 22;

  // Total and due date.
  pdf.roundedRect(MARGIN, y, width, 46, 6).fillColor('#eef3fc').fill();
  pdf.fillColor(INK).font('Helvetica').fontSize(9).text('Total a pagar', MARGIN + 12, y + 8);
  pdf.font('Helvetica-Bold').fontSize(20).fillColor(ACCENT).text(`R$ ${money(doc.total)}`, MARGIN + 12, y + 19);
  pdf.font('Helvetica').fontSize(9).fillColor(INK).text('Vencimento', MARGIN, y + 8, { width: width - 12, align: 'right' });
  pdf.font('Helvetica-Bold').fontSize(16).text(date(doc.vencimento), MARGIN, y + 20, { width: width - 12, align: 'right' });
  y += 62;

  // 13 months of consumption.
  pdf.font('Helvetica-Bold').fontSize(10).fillColor(INK).text('Histórico de consumo (kWh)', MARGIN, y);
  y += 16;
  const months = [...doc.historico].reverse().concat([{ mes: doc.ciclo.mes, consumo_kwh: doc.consumo_kwh }]);
  const chartHeight = 90;
  const max = Math.max(1, ...months.map((m) => m.consumo_kwh ?? 0));
  const slot = width / months.length;
  months.forEach((m, i) => {
    const x = MARGIN + i * slot;
    const current = i === months.length - 1;
    if (m.consumo_kwh !== null) {
      const h = (m.consumo_kwh / max) * chartHeight;
      pdf.rect(x + slot * 0.15, y + chartHeight - h, slot * 0.7, h).fillColor(current ? ACCENT : '#9fc2f0').fill();
      pdf.font('Helvetica').fontSize(6.5).fillColor(INK).text(number(m.consumo_kwh, 0), x, y + chartHeight - h - 9, { width: slot, align: 'center' });
    } else {
      pdf.font('Helvetica').fontSize(6.5).fillColor(SOFT).text('—', x, y + chartHeight - 9, { width: slot, align: 'center' });
    }
    pdf.font('Helvetica').fontSize(6.5).fillColor(SOFT).text(monthLabel(m.mes), x, y + chartHeight + 3, { width: slot, align: 'center' });
  });
  y += chartHeight + 20;
  const acts = [...new Set(doc.tarifas.map((x) => x.resolucao ?? '').filter((act) => act !== ''))];
  pdf.font('Helvetica').fontSize(7).fillColor(SOFT).text(
    `Valores calculados com tarifas homologadas pela ANEEL (TE + TUSD) em vigor no ciclo${acts.length > 0 ? ` (${acts.join('; ')})` : ''}, pro rata por dias. ` +
      'Tributos por dentro (STF, Tema 69): valor com PIS/COFINS = valor / (1 - PIS - COFINS); com ICMS = esse / (1 - ICMS); PIS e COFINS sobre o valor sem ICMS. ' +
      'Cálculos sem arredondamento; cada valor impresso arredondado pela ABNT NBR 5891 (REN ANEEL 1.000/2021, art. 657); o total é a soma dos valores impressos dos itens e da CIP.',
    MARGIN,
    Math.min(y, A4.height - MARGIN - 24),
    { width },
  );
  pdf.end();
  return done;
}
