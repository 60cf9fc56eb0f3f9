/**
 * Answers of the dear analytic routes (`/recomendacoes`, `/previsao`,
 * `/simulacao-tarifa-branca`), kept per meter and question until what they
 * depend on changes: the meter's newest reading, any change of state made
 * through the API (parameters, bandeiras, profiles, goals...), or
 * CACHE_TTL_MS (time moves the cycle on; another server sharing the database
 * may have changed the rules). Concurrent requests for the same answer share
 * one computation, so a client asking the same thing four times at once
 * costs one. Bounded: MAX_ENTRIES answers, the least recently used dropped.
 */
export const CACHE_TTL_MS = 60_000;
export const MAX_ENTRIES = 10_000;

interface Entry<T> {
  readonly version: string;
  readonly at: number;
  readonly value: Promise<T>;
}

export class ResultCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Computations made (not served from the cache), for tests and metrics. */
  computed = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = MAX_ENTRIES,
    private readonly ttlMs = CACHE_TTL_MS,
  ) {}

  /** The answer for `key` at `version`: the kept one when it is of that version and young enough, else `compute()`'s. */
  get(key: string, version: string, compute: () => Promise<T>): Promise<T> {
    const now = this.now();
    const kept = this.entries.get(key);
    if (kept !== undefined && kept.version === version && now - kept.at < this.ttlMs) {
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept.value;
    }
    this.computed++;
    const value = compute();
    const entry: Entry<T> = { version, at: now, value };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    // A failure is not kept: the next request computes again.
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The version an analytic answer of a meter depends on: its newest reading and every change of state made through the API. */
export class AnswerVersions {
  private changes = 0;

  /** Told of every change of state the API made (Responder). */
  changed(): void {
    this.changes++;
  }

  of(newestReading: number | undefined): string {
    return `${newestReading ?? 'nenhuma'}|${this.changes}`;
  }
}

/** Per-meter answers of one kind of question, versioned by the meter's newest reading and the API's changes. */
export class MeterAnswers<T> {
  private readonly cache: ResultCache<T>;

  constructor(
    private readonly newest: (matricula: string) => Promise<number | undefined>,
    private readonly versions: AnswerVersions,
    now: () => number = Date.now,
  ) {
    this.cache = new ResultCache<T>(now);
  }

  /** The answer to `question` (its route and parameters) about `matricula`, computed when nothing kept is current. */
  async get(question: string, matricula: string, compute: () => Promise<T>): Promise<T> {
    const version = this.versions.of(await this.newest(matricula));
    return this.cache.get(`${question}|${matricula}`, version, compute);
  }

  get computed(): number {
    return this.cache.computed;
  }
}
