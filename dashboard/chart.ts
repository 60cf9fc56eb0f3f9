/**
 * Bars on a real time axis, drawn as SVG at the size they are shown (so
 * text stays 12 CSS px on a phone): each bar spans its period's start to
 * end, an empty period is a gap (a mark on the baseline, no bar), round
 * time ticks and value gridlines. No library: what we need is small and
 * this keeps the page free of anything fetched from elsewhere.
 */
import { DAY, HOUR } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
export const FONT_PX = 12;
const FONT = `${FONT_PX}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;

/** A period as the chart draws it (instants in ms; `value` null for a period without readings). */
export interface Bar {
  readonly start: number;
  readonly end: number;
  readonly value: number | null;
  readonly complete: boolean;
}

export interface Geometry {
  /** The index of the period under a horizontal position: -1 for none there, undefined outside the plot. */
  periodAt(px: number): number | undefined;
  /** The horizontal position of an instant. */
  x(t: number): number;
  /** The plot's top edge. */
  readonly top: number;
}

const measure = document.createElement('canvas').getContext('2d');
/** Width a label takes on screen, so the value axis never clips its digits. */
export function textWidth(text: string): number {
  if (measure === null) return text.length * FONT_PX * 0.6;
  measure.font = FONT;
  return measure.measureText(text).width;
}

export function el(name: string, attributes: Record<string, string | number> = {}, text?: string): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** 1, 2, 2.5 or 5 times a power of ten: gridline steps a person reads at a glance. */
export function niceStep(range: number, maxTicks: number): number {
  const rough = range / Math.max(maxTicks, 1);
  const power = 10 ** Math.floor(Math.log10(rough || 1));
  for (const factor of [1, 2, 2.5, 5, 10]) if (factor * power >= rough) return factor * power;
  return 10 * power;
}

type TickUnit = 'hour' | 'day' | 'month';

/** Candidate time steps: whole hours, days, weeks, months, years of the browser's clock. */
const TIME_STEPS: readonly { readonly ms: number; readonly unit: TickUnit; readonly n: number }[] = [
  { ms: HOUR, unit: 'hour', n: 1 },
  { ms: 2 * HOUR, unit: 'hour', n: 2 },
  { ms: 3 * HOUR, unit: 'hour', n: 3 },
  { ms: 6 * HOUR, unit: 'hour', n: 6 },
  { ms: 12 * HOUR, unit: 'hour', n: 12 },
  { ms: DAY, unit: 'day', n: 1 },
  { ms: 2 * DAY, unit: 'day', n: 2 },
  { ms: 7 * DAY, unit: 'day', n: 7 },
  { ms: 14 * DAY, unit: 'day', n: 14 },
  { ms: 30 * DAY, unit: 'month', n: 1 },
  { ms: 91 * DAY, unit: 'month', n: 3 },
  { ms: 182 * DAY, unit: 'month', n: 6 },
  { ms: 365 * DAY, unit: 'month', n: 12 },
];
const LONGEST_STEP = { ms: 365 * DAY, unit: 'month', n: 12 } as const;

/** Round instants between `from` and `to` (ms), at most `maxTicks`, and how to label them. */
export function timeTicks(from: number, to: number, maxTicks: number): { ticks: number[]; unit: TickUnit } {
  const step = TIME_STEPS.find((candidate) => (to - from) / candidate.ms <= maxTicks) ?? LONGEST_STEP;
  const start = new Date(from);
  start.setMinutes(0, 0, 0);
  if (step.unit !== 'hour') start.setHours(0);
  if (step.unit === 'month') start.setDate(1);
  const ticks: number[] = [];
  for (let d = start; d.getTime() <= to; ) {
    const t = d.getTime();
    const aligned = step.unit === 'hour' ? d.getHours() % step.n === 0 : step.unit === 'day' ? (step.n === 7 || step.n === 14 ? d.getDay() === 1 : true) : d.getMonth() % step.n === 0;
    if (t >= from && aligned) ticks.push(t);
    d = new Date(d);
    if (step.unit === 'hour') d.setHours(d.getHours() + 1);
    else if (step.unit === 'day') d.setDate(d.getDate() + 1);
    else d.setMonth(d.getMonth() + 1);
    if (ticks.length > maxTicks * 4) break;
  }
  return { ticks, unit: step.unit };
}

const tickFormats: Record<TickUnit, Intl.DateTimeFormat> = {
  hour: new Intl.DateTimeFormat('pt-BR', { hour: '2-digit', minute: '2-digit' }),
  day: new Intl.DateTimeFormat('pt-BR', { day: '2-digit', month: '2-digit' }),
  month: new Intl.DateTimeFormat('pt-BR', { month: 'short', year: '2-digit' }),
};
const dayOfTick = new Intl.DateTimeFormat('pt-BR', { day: '2-digit', month: '2-digit' });

function tickLabel(t: number, unit: TickUnit): string {
  const d = new Date(t);
  // Midnight on an hourly axis names the day, so a 24 h range reads across its two dates.
  if (unit === 'hour' && d.getHours() === 0) return dayOfTick.format(d);
  return tickFormats[unit].format(d);
}

export interface BarsOptions {
  readonly periods: readonly Bar[];
  readonly from: number;
  readonly to: number;
  readonly width: number;
  readonly height: number;
  /** Labels the value axis. */
  readonly format: (value: number) => string;
  readonly highlight?: (period: Bar) => boolean;
}

/** Draws `periods` into `svg`, sized `width` x `height` CSS px; returns the geometry, for hit-testing a pointer. */
export function drawBars(svg: SVGSVGElement, { periods, from, to, width, height, format, highlight }: BarsOptions): Geometry {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  const values = periods.flatMap((p) => (p.value === null ? [] : [p.value]));
  const maxValue = Math.max(0, ...values);
  const rows = Math.max(2, Math.floor(height / 50));
  const step = niceStep(maxValue || 1, rows);
  const top = Math.ceil((maxValue || 1) / step) * step;
  const labels: { v: number; text: string }[] = [];
  for (let v = 0; v <= top + step / 2; v += step) labels.push({ v, text: format(v) });
  const left = Math.ceil(Math.max(...labels.map((l) => textWidth(l.text)))) + 12;
  const margin = { left, right: 12, top: 10, bottom: 28 };
  const plotWidth = Math.max(width - margin.left - margin.right, 10);
  const plotHeight = Math.max(height - margin.top - margin.bottom, 10);
  const x = (t: number): number => margin.left + ((t - from) / (to - from || 1)) * plotWidth;
  const y = (v: number): number => margin.top + plotHeight - (v / top) * plotHeight;

  const grid = el('g', { class: 'grade' });
  for (const label of labels) {
    grid.append(el('line', { x1: margin.left, x2: margin.left + plotWidth, y1: y(label.v), y2: y(label.v) }));
    grid.append(el('text', { class: 'rotulo', x: margin.left - 8, y: y(label.v) + FONT_PX / 3, 'text-anchor': 'end' }, label.text));
  }
  svg.append(grid);

  const maxTicks = Math.max(2, Math.floor(plotWidth / 64));
  const { ticks, unit } = timeTicks(from, to, maxTicks);
  const axis = el('g', { class: 'eixo-tempo' });
  for (const t of ticks) {
    const tx = x(t);
    axis.append(el('line', { x1: tx, x2: tx, y1: margin.top + plotHeight, y2: margin.top + plotHeight + 4 }));
    const text = tickLabel(t, unit);
    // Keep the first and last labels inside the drawing.
    const half = textWidth(text) / 2;
    const cx = Math.min(Math.max(tx, half + 1), width - half - 1);
    axis.append(el('text', { class: 'rotulo', x: cx, y: height - 8, 'text-anchor': 'middle' }, text));
  }
  axis.append(el('line', { class: 'base', x1: margin.left, x2: margin.left + plotWidth, y1: margin.top + plotHeight, y2: margin.top + plotHeight }));
  svg.append(axis);

  const bars = el('g', { class: 'barras' });
  let drawn = 0;
  let gaps = 0;
  for (const [index, period] of periods.entries()) {
    const x0 = x(Math.max(period.start, from));
    const x1 = x(Math.min(period.end, to));
    const gap = Math.min(2, (x1 - x0) * 0.15);
    if (period.value === null) {
      gaps++;
      bars.append(el('rect', { class: 'lacuna', x: x0 + gap / 2, y: margin.top + plotHeight - 3, width: Math.max(x1 - x0 - gap, 1), height: 3, 'data-indice': index }));
      continue;
    }
    drawn++;
    // A period read but with no consumption still shows, as a sliver on the baseline: it is not a gap.
    const barTop = Math.min(y(period.value), margin.top + plotHeight - 2);
    const classes = ['barra'];
    if (!period.complete) classes.push('parcial');
    if (highlight?.(period) === true) classes.push('destaque');
    bars.append(el('rect', { class: classes.join(' '), x: x0 + gap / 2, y: barTop, width: Math.max(x1 - x0 - gap, 1), height: margin.top + plotHeight - barTop, 'data-indice': index }));
  }
  svg.append(bars);
  svg.dataset.barras = String(drawn);
  svg.dataset.lacunas = String(gaps);
  return {
    periodAt(px) {
      if (px < margin.left || px > margin.left + plotWidth) return undefined;
      const t = from + ((px - margin.left) / plotWidth) * (to - from);
      return periods.findIndex((p) => p.start <= t && t < p.end);
    },
    x,
    top: margin.top,
  };
}
