/**
 * PROCESSOS=N (issue 18): a primary process that runs N workers with
 * node:cluster. Each worker is a whole server with its own pool on the
 * same PostgreSQL; they share the HTTP port (the primary hands connections
 * out in turn) and the UDP socket (each worker holds a copy of it, and the
 * kernel gives each datagram to one). The primary opens no store and
 * serves nothing: it starts the workers, replaces one that dies, stops
 * them all on SIGINT/SIGTERM, and gathers every worker's /metricas into
 * one answer, each sample labelled with its `processo`.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** The environment variable that tells a worker its number (1..N). */
export const WORKER_ENV = 'CONSUMO_PROCESSO';
/** A worker that dies this soon after starting counts as a crash loop. */
const EARLY_DEATH_MS = 10_000;
/** Early deaths in a row after which the primary gives up (and stops the others). */
const MAX_EARLY_DEATHS = 3;
const RESTART_DELAY_MS = 1000;
/** How long a metrics gathering waits for the workers' answers. */
const GATHER_TIMEOUT_MS = 2000;

type Message =
  | { readonly tipo: 'metricas?'; readonly pedido: number }
  | { readonly tipo: 'metricas!'; readonly pedido: number }
  | { readonly tipo: 'metricas'; readonly pedido: number; readonly texto: string }
  | { readonly tipo: 'metricas-todas'; readonly pedido: number; readonly texto: string };

const isMessage = (value: unknown): value is Message => typeof value === 'object' && value !== null && typeof (value as { tipo?: unknown }).tipo === 'string' && typeof (value as { pedido?: unknown }).pedido === 'number';

/** This process's worker number, or undefined when it is not a worker of PROCESSOS. */
export function workerNumber(): string | undefined {
  return cluster.isWorker ? process.env[WORKER_ENV] : undefined;
}

/**
 * Several Prometheus expositions as one: each family's HELP and TYPE once,
 * then its samples from every part, each with `processo="<n>"` as its first
 * label. Families keep the order they first appear in.
 */
export function mergeExpositions(parts: ReadonlyArray<{ readonly processo: string; readonly text: string }>): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  const familyOf = (name: string) => {
    let family = families.get(name);
    if (family === undefined) families.set(name, (family = { head: [], samples: [] }));
    return family;
  };
  for (const { processo, text } of parts) {
    let current = '';
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+) /.exec(line);
      if (meta !== null) {
        current = meta[2] as string;
        const family = familyOf(current);
        if (family.head.length < 2 && !family.head.some((existing) => existing.startsWith(`# ${meta[1]} `))) family.head.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      const nameEnd = line.search(/[{ ]/);
      const name = line.slice(0, nameEnd);
      const rest = line.slice(nameEnd);
      const labelled = rest.startsWith('{}') ? `${name}{processo="${processo}"}${rest.slice(2)}` : rest.startsWith('{') ? `${name}{processo="${processo}",${rest.slice(1)}` : `${name}{processo="${processo}"}${rest}`;
      familyOf(current === '' ? name : current).samples.push(labelled);
    }
  }
  const lines: string[] = [];
  for (const family of families.values()) lines.push(...family.head, ...family.samples);
  return `${lines.join('\n')}\n`;
}

/** In a worker: /metricas of every worker, gathered by the primary; `local` renders this worker's. Elsewhere: `local` alone. */
export function clusterMetrics(local: () => string): () => Promise<string> {
  const processo = workerNumber();
  if (processo === undefined) return async () => local();
  const waiting = new Map<number, (text: string) => void>();
  let sequence = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.tipo === 'metricas!') process.send?.({ tipo: 'metricas', pedido: message.pedido, texto: local() } satisfies Message);
    else if (message.tipo === 'metricas-todas') {
      waiting.get(message.pedido)?.(message.texto);
      waiting.delete(message.pedido);
    }
  });
  return () =>
    new Promise<string>((resolve) => {
      const pedido = ++sequence;
      // Should the primary not answer (it is stopping), this worker's own figures, labelled all the same.
      const timer = setTimeout(() => {
        waiting.delete(pedido);
        resolve(mergeExpositions([{ processo, text: local() }]));
      }, GATHER_TIMEOUT_MS + 500);
      waiting.set(pedido, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      process.send?.({ tipo: 'metricas?', pedido } satisfies Message);
    });
}

/** Runs the primary of PROCESSOS=`count`: resolves with the exit code once every worker has stopped. */
export function runPrimary(count: number, logger: Logger): Promise<number> {
  const numbers = new Map<Worker, string>();
  const startedAt = new Map<Worker, number>();
  let stopping = false;
  let earlyDeaths = 0;
  let exitCode = 0;
  let gatherSequence = 0;
  const gatherings = new Map<number, { readonly from: Worker; readonly pedido: number; readonly parts: Array<{ processo: string; text: string }>; readonly expected: number; readonly timer: NodeJS.Timeout }>();

  const finishGathering = (id: number): void => {
    const gathering = gatherings.get(id);
    if (gathering === undefined) return;
    gatherings.delete(id);
    clearTimeout(gathering.timer);
    const parts = [...gathering.parts].sort((a, b) => Number(a.processo) - Number(b.processo));
    if (gathering.from.isConnected()) gathering.from.send({ tipo: 'metricas-todas', pedido: gathering.pedido, texto: mergeExpositions(parts) } satisfies Message);
  };

  const start = (processo: string): void => {
    const worker = cluster.fork({ [WORKER_ENV]: processo });
    numbers.set(worker, processo);
    startedAt.set(worker, Date.now());
    worker.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.tipo === 'metricas?') {
        const id = ++gatherSequence;
        const alive = [...numbers.keys()].filter((w) => w.isConnected());
        gatherings.set(id, { from: worker, pedido: message.pedido, parts: [], expected: alive.length, timer: setTimeout(() => finishGathering(id), GATHER_TIMEOUT_MS) });
        for (const w of alive) w.send({ tipo: 'metricas!', pedido: id } satisfies Message);
      } else if (message.tipo === 'metricas') {
        const gathering = gatherings.get(message.pedido);
        if (gathering === undefined) return;
        gathering.parts.push({ processo, text: message.texto });
        if (gathering.parts.length >= gathering.expected) finishGathering(message.pedido);
      }
    });
  };

  return new Promise<number>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      const processo = numbers.get(worker) ?? '?';
      const lived = Date.now() - (startedAt.get(worker) ?? 0);
      numbers.delete(worker);
      startedAt.delete(worker);
      if (stopping) {
        if (code !== 0 && code !== null) exitCode = 1;
        if (numbers.size === 0) resolve(exitCode);
        return;
      }
      earlyDeaths = lived < EARLY_DEATH_MS ? earlyDeaths + 1 : 0;
      if (earlyDeaths >= MAX_EARLY_DEATHS) {
        logger.fatal({ processo, code, signal }, `workers keep dying at start (${MAX_EARLY_DEATHS} in a row); stopping`);
        exitCode = 1;
        stop();
        if (numbers.size === 0) resolve(exitCode);
        return;
      }
      logger.error({ processo, code, signal }, 'a worker died; starting another');
      setTimeout(() => {
        if (!stopping) start(processo);
      }, RESTART_DELAY_MS).unref();
    });
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      // Each worker stops gracefully on SIGTERM: finishes requests, stores and acknowledges what it holds.
      for (const worker of numbers.keys()) worker.process.kill('SIGTERM');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    logger.info({ processos: count }, 'starting worker processes');
    for (let i = 1; i <= count; i++) start(String(i));
  });
}
