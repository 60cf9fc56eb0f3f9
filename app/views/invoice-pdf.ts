/**
 * An issued invoice as a one-page PDF a Brazilian customer recognises and
 * can pay, with what PRODIST Módulo 11 and REN 1.000/2021 art. 327 ask a
 * bill to show: the distributor (name, CNPJ, address) and the customer
 * (name, masked CPF/CNPJ, installation address, installation and customer
 * numbers, class and subclass), the reference month, presentation date,
 * previous, current and next reading dates, daily average, the lines with
 * their taxes, bandeiras, CIP, 13 months of consumption as bars, the
 * approving acts, the total with its due date, and how to pay it: the
 * FEBRABAN barcode (Interleaved 2 of 5) under its linha digitável and the
 * PIX QR code with its copia e cola. Drawn with pdfkit (its standard
 * Helvetica, which covers Portuguese) and bwip-js (the codes), from the
 * invoice's own JSON; invoices issued before a field existed draw without it.
 */
import type PDFDocumentClass from 'pdfkit';
import type { IssuedInvoice } from '../../database/invoice-store.js';
import { maskedTaxpayer } from '../../domain/identity.js';

interface Document {
  matricula: string;
  cliente: string;
  distribuidora: string;
  distribuidora_dados?: { nome: string; cnpj: string; endereco: string };
  titular?: { nome: string; cpf_cnpj: string; endereco: string; numero_cliente: string };
  numero_instalacao?: string;
  classe?: string;
  condutores?: number;
  apresentacao?: string;
  proxima_leitura?: string;
  consumo_medio_diario_kwh?: number;
  observacao?: string;
  pagamento?: { codigo_barras: string; linha_digitavel: string; pix_copia_e_cola: string; pix_txid: string } | null;
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

  // Header: the distributor, the invoice's number and dates.
  const company = doc.distribuidora_dados;
  pdf.fillColor(ACCENT).font('Helvetica-Bold').fontSize(15).text(company?.nome ?? doc.distribuidora, MARGIN, MARGIN, { width: width * 0.62 });
  pdf.font('Helvetica').fontSize(7.5).fillColor(SOFT);
  if (company !== undefined) pdf.text(`CNPJ ${maskedTaxpayer(company.cnpj)} · ${company.endereco}`, MARGIN, MARGIN + 19, { width: width * 0.62, height: 18, ellipsis: true });
  pdf.fillColor(INK).font('Helvetica-Bold').fontSize(10).text(`Fatura de energia elétrica · Referente a ${referenceMonth(doc.ciclo.mes)}`, MARGIN, MARGIN + 38, { width: width * 0.62 });
  pdf.font('Helvetica').fontSize(8.5).fillColor(SOFT);
  pdf.text(`Nº ${invoice.numero}`, MARGIN, MARGIN, { width, align: 'right' });
  pdf.text(`Emitida em ${dateTime(invoice.emitidaEm, timeZone)}`, MARGIN, MARGIN + 11, { width, align: 'right' });
  if (doc.apresentacao !== undefined) pdf.text(`Data de apresentação ${date(doc.apresentacao)}`, MARGIN, MARGIN + 22, { width, align: 'right' });
  if (invoice.substitui !== null) pdf.text(`Substitui a fatura ${invoice.substitui}`, MARGIN, MARGIN + 33, { width, align: 'right' });
  let y = MARGIN + 54;
  if (invoice.estado === 'cancelada') {
    const cancelled = invoice.cancelamento;
    pdf.roundedRect(MARGIN, y, width, 20, 4).fillColor('#fbe9ea').fill();
    pdf.fillColor('#a3141f').font('Helvetica-Bold').fontSize(8.5).text(`FATURA CANCELADA em ${cancelled === null ? '' : dateTime(cancelled.em, timeZone)}: ${cancelled?.motivo ?? ''}. Não a pague.`, MARGIN + 8, y + 6, { width: width - 16, lineBreak: false, ellipsis: true });
    y += 26;
  }
  pdf.moveTo(MARGIN, y).lineTo(A4.width - MARGIN, y).strokeColor(LINE).stroke();
  y += 8;

  // Customer, installation and cycle.
  const column = (x: number, label: string, value: string, yy: number): void => {
    pdf.font('Helvetica').fontSize(7.5).fillColor(SOFT).text(label, x, yy);
    pdf.font('Helvetica-Bold').fontSize(9).fillColor(INK).text(value, x, yy + 9, { width: width / 3 - 8, height: 22, ellipsis: true });
  };
  const holder = doc.titular;
  column(MARGIN, 'Cliente', holder === undefined ? doc.cliente : holder.nome, y);
  column(MARGIN + width / 3, 'Nº da instalação / Nº do cliente', `${doc.numero_instalacao ?? doc.matricula} / ${holder?.numero_cliente ?? doc.matricula}`, y);
  column(MARGIN + (2 * width) / 3, 'Classe / subclasse', doc.classe ?? 'B1 Residencial', y);
  y += 30;
  if (holder !== undefined) {
    pdf.font('Helvetica').fontSize(7.5).fillColor(SOFT).text('CPF/CNPJ · Endereço da instalação', MARGIN, y);
    pdf.font('Helvetica').fontSize(8.5).fillColor(INK).text(`${holder.cpf_cnpj} · ${holder.endereco}`, MARGIN, y + 9, { width, lineBreak: false, ellipsis: true });
    y += 24;
  }
  const connection = `${CONNECTION_NAMES[doc.ligacao] ?? doc.ligacao}${doc.condutores === undefined ? '' : ` (${doc.condutores} condutores)`}`;
  column(MARGIN, 'Ligação / modalidade', `${connection} / ${doc.modalidade}${doc.tarifa_social ? ' / tarifa social' : ''}`, y);
  column(MARGIN + width / 3, 'Leitura anterior', `${date(doc.leituras.inicial.data_hora)}: ${number(doc.leituras.inicial.registro)} kWh (${doc.leituras.inicial.situacao})`, y);
  column(MARGIN + (2 * width) / 3, 'Leitura atual', `${date(doc.leituras.final.data_hora)}: ${number(doc.leituras.final.registro)} kWh (${doc.leituras.final.situacao})`, y);
  y += 34;
  column(MARGIN, 'Período de consumo', `${date(doc.ciclo.inicio)} a ${date(doc.ciclo.fim)} (${doc.ciclo.dias} dias)`, y);
  column(MARGIN + width / 3, 'Próxima leitura prevista', doc.proxima_leitura === undefined ? '—' : date(doc.proxima_leitura), y);
  const average = doc.consumo_medio_diario_kwh === undefined ? '' : ` · média ${number(doc.consumo_medio_diario_kwh)} kWh/dia`;
  const consumption = `${number(doc.consumo_kwh)} kWh${average}` + (doc.kwh_faturado > doc.consumo_kwh ? ` (faturado: ${number(doc.kwh_faturado)} kWh, custo de disponibilidade)` : '');
  column(MARGIN + (2 * width) / 3, 'Consumo medido', consumption, y);
  y += 30;
  if (doc.consumo_por_posto !== undefined) {
    const p = doc.consumo_por_posto;
    pdf.font('Helvetica').fontSize(7.5).fillColor(SOFT).text('Consumo por posto (tarifa branca)', MARGIN, y);
    pdf.font('Helvetica-Bold').fontSize(9).fillColor(INK).text(`ponta ${number(p.ponta)} · interm. ${number(p.intermediario)} · fora ${number(p.fora_ponta)} kWh`, MARGIN, y + 9, { width, lineBreak: false });
    y += 26;
  }
  if (doc.observacao !== undefined) {
    pdf.font('Helvetica-Bold').fontSize(8).fillColor('#8a5a00').text(doc.observacao, MARGIN, y, { width });
    y += 14;
  }
  y += 4;

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
    const pisCofins = item.pis === undefined || item.cofins === undefined ? undefined : (Math.round(item.pis * 100) + Math.round(item.cofins * 100)) / 100;
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
  const chartHeight = 48;
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
  y += chartHeight + 16;
  const acts = [...new Set(doc.tarifas.map((x) => x.resolucao ?? '').filter((act) => act !== ''))];
  pdf.font('Helvetica').fontSize(6.5).fillColor(SOFT).text(
    `Valores calculados com tarifas homologadas pela ANEEL (TE + TUSD) em vigor no ciclo${acts.length > 0 ? ` (${acts.join('; ')})` : ''}, pro rata por dias. ` +
      'Tributos por dentro (STF, Tema 69): valor com PIS/COFINS = valor / (1 - PIS - COFINS); com ICMS = esse / (1 - ICMS); PIS e COFINS sobre o valor sem ICMS. ' +
      'Cálculos sem arredondamento; cada valor impresso arredondado pela ABNT NBR 5891 (REN ANEEL 1.000/2021, art. 657); o total é a soma dos valores impressos dos itens e da CIP. ' +
      'Vencimento: no mínimo 5 dias úteis após a apresentação (REN 1.000/2021, art. 337).',
    MARGIN,
    y,
    { width },
  );

  // How to pay: a stub at the foot of the page, cut along the dashed line.
  await drawPayment(pdf, doc, invoice.estado === 'cancelada', width);
  if (invoice.estado === 'cancelada') drawWatermark(pdf);
  pdf.end();
  return done;
}

/** Where the payment stub starts: the page's last 150 points. */
const STUB_TOP = A4.height - MARGIN - 150;

async function drawPayment(pdf: PDFKit.PDFDocument, doc: Document, cancelled: boolean, width: number): Promise<void> {
  const top = STUB_TOP;
  pdf.save().moveTo(MARGIN, top).lineTo(A4.width - MARGIN, top).dash(4, { space: 3 }).strokeColor(SOFT).stroke().restore();
  pdf.font('Helvetica-Bold').fontSize(9).fillColor(INK).text(`${doc.distribuidora_dados?.nome ?? doc.distribuidora} · Nº da instalação ${doc.numero_instalacao ?? doc.matricula}`, MARGIN, top + 8, { width: width * 0.6, lineBreak: false, ellipsis: true });
  pdf.font('Helvetica').fontSize(8.5).text(`Vencimento ${date(doc.vencimento)} · Total R$ ${money(doc.total)}`, MARGIN, top + 8, { width, align: 'right' });
  const payment = doc.pagamento;
  if (cancelled || payment === undefined || payment === null) {
    const why = cancelled ? 'Fatura cancelada: não há valor a pagar por ela.' : payment === null ? 'Nada a pagar nesta fatura.' : 'Esta fatura foi emitida sem código de pagamento.';
    pdf.font('Helvetica').fontSize(9).fillColor(SOFT).text(why, MARGIN, top + 30, { width });
    return;
  }
  const { toBuffer } = await loadBwip();
  const [bars, qr] = await Promise.all([
    toBuffer({ bcid: 'interleaved2of5', text: payment.codigo_barras, scale: 2, height: 13, includetext: false, paddingwidth: 10, paddingheight: 4, backgroundcolor: 'FFFFFF' }),
    toBuffer({ bcid: 'qrcode', text: payment.pix_copia_e_cola, scale: 3, paddingwidth: 4, paddingheight: 4, backgroundcolor: 'FFFFFF' }),
  ]);
  const barsWidth = width - 120;
  pdf.font('Courier-Bold').fontSize(10).fillColor(INK).text(payment.linha_digitavel, MARGIN, top + 26, { width: barsWidth, lineBreak: false });
  pdf.image(bars, MARGIN, top + 42, { width: barsWidth, height: 50 });
  pdf.font('Helvetica').fontSize(6.5).fillColor(SOFT).text('Código de barras (FEBRABAN, arrecadação, segmento energia elétrica)', MARGIN, top + 95, { width: barsWidth });
  pdf.image(qr, A4.width - MARGIN - 100, top + 24, { width: 100, height: 100 });
  pdf.font('Helvetica').fontSize(6.5).fillColor(SOFT).text('Pague com PIX', A4.width - MARGIN - 100, top + 126, { width: 100, align: 'center' });
  pdf.font('Helvetica').fontSize(5.5).fillColor(SOFT).text(`PIX copia e cola: ${payment.pix_copia_e_cola}`, MARGIN, top + 106, { width: barsWidth });
}

/** "CANCELADA" across the page, one piece: drawn without wrapping, centred on the page by its measured width. */
function drawWatermark(pdf: PDFKit.PDFDocument): void {
  const word = 'CANCELADA';
  pdf.save().rotate(-35, { origin: [A4.width / 2, A4.height / 2] }).font('Helvetica-Bold').fontSize(84).fillColor('#c11f2b').opacity(0.16);
  const wordWidth = pdf.widthOfString(word);
  pdf.text(word, A4.width / 2 - wordWidth / 2, A4.height / 2 - 42, { lineBreak: false });
  pdf.restore();
  pdf.opacity(1);
}

/** bwip-js, loaded when the first invoice is drawn, as pdfkit is. */
let bwip: Promise<typeof import('bwip-js')> | undefined;
const loadBwip = (): Promise<typeof import('bwip-js')> => (bwip ??= import('bwip-js'));

/** `2026-06` as `JUNHO/2026`. */
function referenceMonth(month: string): string {
  const names = ['JANEIRO', 'FEVEREIRO', 'MARÇO', 'ABRIL', 'MAIO', 'JUNHO', 'JULHO', 'AGOSTO', 'SETEMBRO', 'OUTUBRO', 'NOVEMBRO', 'DEZEMBRO'];
  return `${names[Number(month.slice(5, 7)) - 1] ?? month}/${month.slice(0, 4)}`;
}
