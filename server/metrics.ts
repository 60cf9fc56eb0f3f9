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
  private readonly requests = new Map<string, { route: string; status: number; count: number }>();
  private readonly latency = new Map<string, Histogram>();

  /** An answered request and how long it took. */
  record(route: string, status: number, seconds: number): void {
    this.count(route, status);
    let histogram = this.latency.get(route);
    if (histogram === undefined) this.latency.set(route, (histogram = new Histogram(LATENCY_BUCKETS)));
    histogram.observe(seconds);
  }

  /** An answer not timed (refused before routing). */
  count(route: string, status: number): void {
    const key = `${route} ${status}`;
    const entry = this.requests.get(key);
    if (entry === undefined) this.requests.set(key, { route, status, count: 1 });
    else entry.count++;
  }

  write(out: ExpositionWriter): void {
    out.family('consumo_http_requisicoes_total', 'counter', 'HTTP requests answered, by route and status.');
    for (const { route, status, count } of this.requests.values()) out.sample('consumo_http_requisicoes_total', count, { rota: route, status: String(status) });
    out.family('consumo_http_duracao_segundos', 'histogram', 'Time from a complete request to its answer, by route.');
    for (const [route, histogram] of this.latency) out.histogram('consumo_http_duracao_segundos', histogram, { rota: route });
  }
}
