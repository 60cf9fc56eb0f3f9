/**
 * The server's measurements, rendered in the Prometheus text exposition
 * format (version 0.0.4) for `GET /metricas`. Counters and histograms are
 * plain numbers updated in place: recording costs a few additions on the
 * hot paths, rendering happens only when scraped.
 */

/** Upper bounds of a histogram's buckets, ascending; `+Inf` is implied. */
export class Histogram {
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last is `+Inf`. */
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts per upper bound, `+Inf` last, as the exposition format wants them. */
  cumulative(): Array<[string, number]> {
    let running = 0;
    return this.counts.map((count, i) => {
      running += count;
      return [i < this.bounds.length ? String(this.bounds[i]) : '+Inf', running];
    });
  }
}

/** Request latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Readings per store call. */
export const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export type Labels = Readonly<Record<string, string>>;

/** A label value escaped as the format requires (backslash, double quote, line feed). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
}

/** Writes metric families in the text format. */
export class ExpositionWriter {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, value: number, labels: Labels = {}): this {
    this.lines.push(`${name}${labelText(labels)} ${Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN'}`);
    return this;
  }

  histogram(name: string, histogram: Histogram, labels: Labels = {}): this {
    for (const [le, count] of histogram.cumulative()) this.sample(`${name}_bucket`, count, { ...labels, le });
    this.sample(`${name}_sum`, histogram.sum, labels);
    return this.sample(`${name}_count`, histogram.count, labels);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** HTTP requests by route and status, and their latency by route. */
export class HttpMetrics {
  /** Per route label: answers by status, and the latency of timed ones. One lookup per request, no key built. */
  private readonly routes = new Map<string, { readonly byStatus: Map<number, number>; readonly latency: Histogram }>();

  /** An answered request and how long it took. */
  record(route: string, status: number, seconds: number): void {
    this.entry(route, status).latency.observe(seconds);
  }

  /** An answer not timed (refused before routing). */
  count(route: string, status: number): void {
    this.entry(route, status);
  }

  write(out: ExpositionWriter): void {
    out.family('consumo_http_requisicoes_total', 'counter', 'HTTP requests answered, by route and status.');
    for (const [route, { byStatus }] of this.routes) {
      for (const [status, count] of byStatus) out.sample('consumo_http_requisicoes_total', count, { rota: route, status: String(status) });
    }
    out.family('consumo_http_duracao_segundos', 'histogram', 'Time from a complete request to its answer, by route.');
    for (const [route, { latency }] of this.routes) if (latency.count > 0) out.histogram('consumo_http_duracao_segundos', latency, { rota: route });
  }

  /** Counts one answer of `route` with `status`; returns the route's entry. */
  private entry(route: string, status: number): { readonly byStatus: Map<number, number>; readonly latency: Histogram } {
    let entry = this.routes.get(route);
    if (entry === undefined) this.routes.set(route, (entry = { byStatus: new Map(), latency: new Histogram(LATENCY_BUCKETS) }));
    entry.byStatus.set(status, (entry.byStatus.get(status) ?? 0) + 1);
    return entry;
  }
}

/** Writes one component's families into the exposition. */
export type Collector = (out: ExpositionWriter) => void;

/**
 * What `/metricas` shows: each component registers the families it owns
 * (its counters beside its code), in the order they are shown; the route
 * only renders the registry.
 */
export class MetricsRegistry {
  private readonly collectors: Collector[] = [];

  register(collect: Collector): void {
    this.collectors.push(collect);
  }

  /** The Prometheus text exposition of every registered family. */
  render(): string {
    const out = new ExpositionWriter();
    for (const collect of this.collectors) collect(out);
    return out.text();
  }
}

/** A counter family of one sample. */
export function counter(out: ExpositionWriter, name: string, help: string, value: number): void {
  out.family(name, 'counter', help).sample(name, value);
}
