/**
 * The customer view: consumption bars of a range from /consumo, its table,
 * the latest reading and its electrical quantities, the 1.5x alert with a
 * log that stays for the session, and the CSV export.
 */
import { api, download, plainError, type Answer } from './api.js';
import { loadAlerts } from './alerts.js';
import { loadBilling, loadForecast, showBillingOff } from './billing.js';
import { drawBars } from './chart.js';
import { announce, button, byId, cell, DAY, diaHora, FUSO, isoDate, kwh, quando, reais, setRows, showError, soDia, soMes } from './dom.js';
import { QUANTITY_UNITS, state, type Consumption, type Grouping, type PeriodShown, type Range, type Reading } from './state.js';

const CHART_HEIGHT = 260;
const BILLING_REFRESH_MS = 30_000;
const MAX_LOGGED_ALERTS = 50;
const QUALITY_LABELS: Record<string, string> = { valida: 'válida', pico: 'pico', regressiva: 'registro regressivo', lacuna_antes: 'lacuna antes', consumo_zero_prolongado: 'consumo zero prolongado' };

/** The range a choice means now: /consumo's inicio, fim and grouping, and the chart's title. */
export function rangeOf(choice: string): Range {
  const now = Date.now();
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  if (choice === '24h') {
    const from = new Date(now - DAY);
    from.setMinutes(0, 0, 0);
    return { agrupar: 'hora', inicio: from.toISOString(), fim: new Date(now).toISOString(), title: 'Consumo por hora nas últimas 24 h (kWh)' };
  }
  if (choice === '7d' || choice === '30d') {
    const days = choice === '7d' ? 7 : 30;
    const from = new Date(today);
    from.setDate(from.getDate() - (days - 1));
    return { agrupar: 'dia', inicio: isoDate(from), fim: new Date(now).toISOString(), title: `Consumo por dia nos últimos ${days} dias (kWh)` };
  }
  if (choice === '12m' || state.custom === undefined) {
    const from = new Date(today.getFullYear(), today.getMonth() - 11, 1);
    return { agrupar: 'mes', inicio: isoDate(from), fim: new Date(now).toISOString(), title: 'Consumo por mês nos últimos 12 meses (kWh)' };
  }
  const { inicio, fim } = state.custom;
  const end = new Date(`${fim}T00:00`);
  end.setDate(end.getDate() + 1);
  const days = (end.getTime() - new Date(`${inicio}T00:00`).getTime()) / DAY;
  const agrupar: Grouping = days <= 3 ? 'hora' : days <= 93 ? 'dia' : 'mes';
  const unit = { hora: 'hora', dia: 'dia', mes: 'mês' }[agrupar];
  return { agrupar, inicio, fim: isoDate(end), title: `Consumo por ${unit} de ${inicio.split('-').reverse().join('/')} a ${fim.split('-').reverse().join('/')} (kWh)` };
}

function periodLabel(period: { start: number; end: number }, agrupar: Grouping): string {
  if (agrupar === 'hora') return `${diaHora.format(period.start)}–${String(new Date(period.end).getHours()).padStart(2, '0')}h`;
  if (agrupar === 'dia') return soDia.format(period.start);
  return soMes.format(period.start);
}

/** Reads the watched meter's range, latest reading and alert again, and (at most every BILLING_REFRESH_MS) its billing, forecast and alerts. */
export async function reload(): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const range = rangeOf(state.range);
  const query = new URLSearchParams({ matricula, agrupar: range.agrupar, inicio: range.inicio, fim: range.fim, fuso: FUSO });
  const [consumo, ultima, alerta] = await Promise.all([
    api<Consumption>(`/consumo?${query}`),
    api<Reading>(`/medicoes/ultima-medicao?matricula=${matricula}`),
    api<AlertRule>(`/alerta-consumo?matricula=${matricula}`),
  ]);
  if (matricula !== state.matricula) return;
  if (consumo.status !== 200) {
    showError(plainError(consumo));
    return;
  }
  showError(undefined);
  state.data = { ...consumo.body, range };
  button('exportar').disabled = false;
  byId('grafico-titulo').textContent = range.title;
  renderLatest(ultima.status === 200 ? ultima.body : undefined);
  renderTotals();
  renderChart();
  renderTable();
  await renderAlert(alerta);
  // The preview reads the whole cycle: on live readings, at most every BILLING_REFRESH_MS. Billing's routes only when billing is configured.
  if (state.billingFor !== matricula || Date.now() - state.billingAt > BILLING_REFRESH_MS) {
    state.billingFor = matricula;
    state.billingAt = Date.now();
    const billing = consumo.body.precificacao?.faturamento_configurado === true;
    await Promise.all([billing ? loadBilling() : showBillingOff(), loadForecast(), loadAlerts()]);
  }
}

/** The electrical quantities of the newest reading (from /medicoes/ultima-medicao or a live `medicao`), when the meter sends them. */
export function renderQuantities(reading: Reading | undefined): void {
  const present = reading !== undefined && Object.keys(QUANTITY_UNITS).some((name) => reading[name as keyof typeof QUANTITY_UNITS] !== undefined);
  byId('secao-grandezas').hidden = !present;
  if (!present) return;
  for (const [name, unit] of Object.entries(QUANTITY_UNITS)) {
    const value = reading[name as keyof typeof QUANTITY_UNITS];
    byId(`g-${name}`).textContent = value === undefined ? '—' : `${kwh.format(value)}${unit === '' ? '' : ` ${unit}`}`;
  }
  if (reading.qualidade !== undefined) byId('g-qualidade').textContent = `Qualidade da última medição: ${reading.qualidade.map((flag) => QUALITY_LABELS[flag] ?? flag).join(', ')}.`;
}

export function renderLatest(latest: Reading | undefined): void {
  renderQuantities(latest);
  const when = byId('ultima-data');
  if (latest === undefined) delete when.dataset.instante;
  else when.dataset.instante = latest.data_hora;
  byId('ultima-consumo').textContent = latest === undefined ? '—' : `${kwh.format(latest.consumo)} kWh`;
  when.textContent = latest === undefined ? 'nenhuma medição ainda' : quando.format(new Date(latest.data_hora));
}

/** A live reading, shown when newer than the one on screen. */
export function renderLatestIfNewer(reading: Reading): void {
  const shown = byId('ultima-data').dataset.instante;
  if (shown !== undefined && Date.parse(shown) >= Date.parse(reading.data_hora)) return;
  if (Object.keys(QUANTITY_UNITS).some((name) => reading[name as keyof typeof QUANTITY_UNITS] !== undefined)) renderQuantities({ ...reading, qualidade: undefined });
  renderLatest(reading);
}

function renderTotals(): void {
  const data = state.data;
  if (data === undefined) return;
  const gaps = data.lacunas === 0 ? 'sem lacunas' : data.lacunas === 1 ? '1 período sem medições' : `${data.lacunas} períodos sem medições`;
  byId('total-consumo').textContent = `${kwh.format(data.consumo_total)} kWh`;
  const pricing = data.precificacao;
  const priced = pricing?.origem === 'faturamento';
  byId('total-detalhe').textContent = priced
    ? `${reais.format(data.valor_total)} estimados pelas tarifas de ${pricing.distribuidora ?? ''} (energia, bandeira e tributos; sem CIP) · ${gaps}`
    : `${reais.format(data.valor_total)} a ${reais.format(data.tarifa)}/kWh (tarifa fixa: faturamento não configurado) · ${gaps}`;
  byId('custo-coluna').textContent = priced ? 'Custo estimado' : 'Custo (tarifa fixa)';
}

function periodsOf(data: Consumption): PeriodShown[] {
  return data.periodos.map((p) => ({ start: Date.parse(p.inicio), end: Date.parse(p.fim), value: p.consumo, cost: p.valor, readings: p.leituras, complete: p.completo }));
}

export function renderChart(): void {
  const data = state.data;
  if (data === undefined) return;
  const width = Math.max(Math.floor(byId('grafico-area').clientWidth), 200);
  const periods = periodsOf(data);
  state.geometry = drawBars(byId('grafico', SVGSVGElement), { periods, from: Date.parse(data.inicio), to: Date.parse(data.fim), width, height: CHART_HEIGHT, format: (v) => kwh.format(v) });
  state.periods = periods;
  let peak: (PeriodShown & { value: number }) | undefined;
  let withData = 0;
  for (const p of periods) {
    if (p.value === null) continue;
    withData++;
    if (peak === undefined || p.value > peak.value) peak = { ...p, value: p.value };
  }
  byId('grafico-resumo').textContent =
    peak === undefined ? 'Nenhuma medição neste intervalo.' : `${periods.length} períodos, ${withData} com medições; maior consumo ${kwh.format(peak.value)} kWh (${periodLabel(peak, data.agrupar)}).`;
  if (state.selected !== undefined) select(state.selected);
}

function renderTable(): void {
  const data = state.data;
  if (data === undefined) return;
  const rows = periodsOf(data).map((p) => {
    const tr = document.createElement('tr');
    const consumed = p.value === null ? 'sem medições' : `${kwh.format(p.value)} kWh${p.complete ? '' : ' (parcial)'}`;
    tr.append(cell(periodLabel(p, data.agrupar)), cell(consumed), cell(p.cost === null ? '—' : reais.format(p.cost)), cell(String(p.readings)));
    return tr;
  });
  setRows('tabela-periodos', rows);
}

/** Shows the tooltip of period `index` (pointer or keyboard); none with undefined. */
export function select(index: number | undefined): void {
  const tip = byId('dica');
  const chart = byId('grafico', SVGSVGElement);
  const period = index === undefined ? undefined : state.periods?.[index];
  for (const node of chart.querySelectorAll('.selecionada')) node.classList.remove('selecionada');
  state.selected = period === undefined ? undefined : index;
  if (period === undefined || state.data === undefined || state.geometry === undefined) {
    tip.hidden = true;
    return;
  }
  chart.querySelector(`[data-indice="${index}"]`)?.classList.add('selecionada');
  const label = periodLabel(period, state.data.agrupar);
  const estimated = state.data.precificacao?.origem === 'faturamento' ? ' estimados' : '';
  const lines =
    period.value === null
      ? [label, 'sem medições']
      : [label, `${kwh.format(period.value)} kWh · ${period.cost === null ? 'sem preço' : `${reais.format(period.cost)}${estimated}`}`, `${period.readings} leituras${period.complete ? '' : ' · parcial'}`];
  tip.replaceChildren();
  lines.forEach((line, i) => {
    if (i > 0) tip.append(document.createElement('br'));
    tip.append(i === 0 ? Object.assign(document.createElement('strong'), { textContent: line }) : document.createTextNode(line));
  });
  tip.hidden = false;
  const area = byId('grafico-area').clientWidth;
  const center = (state.geometry.x(period.start) + state.geometry.x(period.end)) / 2;
  const half = tip.offsetWidth / 2;
  tip.style.left = `${Math.min(Math.max(center, half), area - half)}px`;
  tip.style.top = `${state.geometry.top + 4}px`;
}

/** /alerta-consumo's answer (the original's 1.5x rule). */
interface AlertRule {
  readonly alerta: boolean;
  readonly consumo_ultimo_periodo: number;
  readonly media_periodos_anteriores: number;
  readonly limite: number;
}

async function renderAlert(answer: Answer<AlertRule>): Promise<void> {
  const card = byId('alerta');
  if (answer.status !== 200) {
    card.dataset.alerta = 'desconhecido';
    byId('alerta-estado').textContent = '—';
    byId('alerta-detalhe').textContent = answer.body.erro?.codigo === 'medicoes_insuficientes' ? 'são precisas 5 medições para o alerta' : plainError(answer);
    return;
  }
  const body = answer.body;
  const firing = body.alerta;
  card.dataset.alerta = firing ? 'sim' : 'nao';
  byId('alerta-estado').textContent = firing ? 'ALERTA' : 'normal';
  const factor = body.media_periodos_anteriores > 0 ? body.consumo_ultimo_periodo / body.media_periodos_anteriores : undefined;
  byId('alerta-detalhe').textContent =
    `último período ${kwh.format(body.consumo_ultimo_periodo)} kWh` +
    (factor === undefined ? '' : ` (${kwh.format(Math.round(factor * 10) / 10)}× a média de ${kwh.format(body.media_periodos_anteriores)} kWh)`) +
    `; alerta a partir de ${kwh.format(body.limite)} kWh`;
  const wasFiring = state.alert === true;
  state.alert = firing;
  if (firing && !wasFiring) await logAlert(body, factor);
}

/** An alert as the session's log keeps it. */
interface LoggedAlert {
  readonly disparado: string;
  readonly inicio: string | undefined;
  readonly fim: string | undefined;
  readonly consumo: number;
  readonly media: number;
  readonly fator: number | undefined | null;
}

const alertLogKey = (): string => `consumo.alertas.${state.matricula ?? ''}`;

function loggedAlerts(): LoggedAlert[] {
  try {
    return JSON.parse(sessionStorage.getItem(alertLogKey()) ?? '[]') as LoggedAlert[];
  } catch {
    return [];
  }
}

async function logAlert(body: AlertRule, factor: number | undefined): Promise<void> {
  const matricula = state.matricula;
  // The period that fired: between the two newest readings.
  const newest = await api<{ medicoes: Reading[] }>(`/medicoes?matricula=${matricula ?? ''}&limite=2`);
  if (matricula !== state.matricula) return;
  const [current, previous] = newest.status === 200 ? newest.body.medicoes : [];
  const entry: LoggedAlert = { disparado: new Date().toISOString(), inicio: previous?.data_hora, fim: current?.data_hora, consumo: body.consumo_ultimo_periodo, media: body.media_periodos_anteriores, fator: factor };
  const log = loggedAlerts();
  // The same period is logged once, however often the page looks at it.
  if (log.some((e) => e.fim === entry.fim && e.fim !== undefined)) return renderAlertLog();
  log.unshift(entry);
  sessionStorage.setItem(alertLogKey(), JSON.stringify(log.slice(0, MAX_LOGGED_ALERTS)));
  renderAlertLog();
  announce(
    `Alerta de consumo na matrícula ${matricula ?? ''}: o último período consumiu ${kwh.format(entry.consumo)} kWh` +
      (factor === undefined ? '.' : `, ${kwh.format(Math.round(factor * 10) / 10)} vezes a média dos três anteriores.`),
  );
}

export function renderAlertLog(): void {
  const log = state.matricula === undefined ? [] : loggedAlerts();
  byId('registro-alertas').replaceChildren(
    ...log.map((entry) => {
      const li = document.createElement('li');
      li.append(Object.assign(document.createElement('strong'), { textContent: 'ALERTA' }));
      const period = entry.inicio === undefined || entry.fim === undefined ? '' : ` · período ${diaHora.format(new Date(entry.inicio))} a ${diaHora.format(new Date(entry.fim))}`;
      const factor = entry.fator === undefined || entry.fator === null ? '' : ` · ${kwh.format(Math.round(entry.fator * 10) / 10)}× a média (${kwh.format(entry.media)} kWh)`;
      li.append(` disparado ${quando.format(new Date(entry.disparado))}${period} · ${kwh.format(entry.consumo)} kWh${factor}`);
      return li;
    }),
  );
  byId('registro-vazio').hidden = log.length > 0;
}

export async function exportCsv(): Promise<void> {
  const data = state.data;
  if (data === undefined) return;
  const query = new URLSearchParams({ matricula: data.matricula, inicio: data.inicio, fim: data.fim, formato: 'csv' });
  await download(`/medicoes?${query}`, `medicoes-${data.matricula}-${data.inicio.slice(0, 10)}-a-${data.fim.slice(0, 10)}.csv`);
}
