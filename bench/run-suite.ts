/**
 * `npm run bench`: the benchmark suite. Every figure is a median with its
 * min-max over at least 3 runs, and every comparison is taken side by side
 * in the same run. Writes bench/RESULTS.md. Fails only on lost data or
 * wrong answers, never on a timing.
 *
 * PostgreSQL: DATABASE_URL if set, else a throwaway embedded PostgreSQL.
 * BENCH_QUICK=1 runs shorter and smaller (a smoke test of the suite itself).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../database/postgres/embedded.js';
import { existsSync } from 'node:fs';
import { median, parseCli, preloadFiles, preloadPostgres, routeTarget, runAutocannon, runHttpLoad, spread, startTarget, WRK, type HttpLoadResult, type LoadGenerator, type TargetKind } from './lib.js';
import { runUdpLoad, type UdpLoadResult } from './udp-load.js';

// No options: `--help` says so, and what the suite does; a stray argument is one line, not a run.
parseCli('bench', 'The whole benchmark suite (about 15 minutes): HTTP against node:http, UDP ingest, growth with history, fleet; writes bench/RESULTS.md.\nVariables: BENCH_QUICK=1 for a short, small run; DATABASE_URL for PostgreSQL (else an embedded one).', {});
const QUICK = process.env.BENCH_QUICK === '1';
/** wrk (C, one thread) takes less of the 2 cores than autocannon (Node), so it shows more of the servers' own cost. */
const GENERATORS: LoadGenerator[] = existsSync(WRK) ? ['wrk', 'autocannon'] : ['autocannon'];
const RUNS = 3;
const HTTP_SECONDS = QUICK ? 2 : 5;
const UDP_SECONDS = QUICK ? 2 : 5;
const WARM_UP_S = QUICK ? 1 : 2;
const BIG_FILE_READINGS = QUICK ? 200_000 : 10_000_000;
const BIG_PG_READINGS = QUICK ? 100_000 : 1_000_000;
const RECEIVE_BUFFER = 8 * 1024 * 1024;
/** The bare receiver's load: well past any rate the server is tried at, so the ceiling is the receiver's (or the sender's, if it is the lower). */
const CEILING_BLAST_RATE = QUICK ? 40_000 : 300_000;
const RESULTS = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
/** Where bench/RESULTS.md's hand-written sections start: `npm run bench` rewrites what is above it and keeps the rest. */
const KEPT_MARKER = '<!-- npm run bench rewrites the sections above this line and keeps the ones below -->';
const SENDER = fileURLToPath(new URL('./udp-sender.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-receiver.js', import.meta.url));

const lines: string[] = [];
const say = (line = ''): void => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
let failures = 0;
const workDir = await mkdtemp(join(tmpdir(), 'consumo-bench-'));
// The embedded PostgreSQL runs as an unprivileged user when this runs as root: let it in.
await chmod(workDir, 0o755);
/** Numbers the data directories and schemas this run creates. */
let schemaCounter = 0;

async function withPostgres<T>(run: (url: string) => Promise<T>): Promise<T> {
  if (process.env.DATABASE_URL !== undefined) return run(process.env.DATABASE_URL);
  const dir = join(workDir, `pg-${++schemaCounter}`);
  const server = await startEmbeddedPostgres(dir);
  try {
    return await run(server.url);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Settings of a server over a preloaded store. */
async function preloaded(storage: 'arquivos' | 'postgres', url: string | undefined, readings: number): Promise<Record<string, string>> {
  // At least 10 readings a meter, so every route has what it needs (the alert needs 5).
  const shape = { customers: 1000, readings, meters: Math.max(1, Math.min(1000, Math.floor(readings / 10))) };
  if (storage === 'postgres') {
    const schema = `bench_${process.pid}_${++schemaCounter}`;
    await preloadPostgres(url as string, schema, shape);
    return { STORAGE: 'postgres', DATABASE_URL: url as string, PG_SCHEMA: schema };
  }
  const dataDir = join(workDir, `data-${++schemaCounter}`);
  await preloadFiles(dataDir, shape);
  return { DATA_DIR: dataDir };
}

/** Runs the load generator RUNS times against each target, interleaved so drift hits both alike. */
async function httpSeries(
  targets: Record<string, Record<string, string>>,
  route: string,
  pipelining: number,
  generator: LoadGenerator = 'autocannon',
): Promise<Record<string, HttpLoadResult[]>> {
  const results: Record<string, HttpLoadResult[]> = {};
  const kindOf = (name: string): TargetKind => (name === 'node-http' || name === 'sketch' ? name : 'projeto');
  const running = await Promise.all(Object.entries(targets).map(async ([name, env]) => [name, await startTarget(kindOf(name), env)] as const));
  try {
    // One unrecorded run each first: JIT, caches and pools warm, so the first recorded run is not an outlier.
    for (const [, target] of running) {
      await runHttpLoad(generator, { url: `http://127.0.0.1:${target.httpPort}${routeTarget(route)}`, connections: 50, durationS: WARM_UP_S, pipelining });
    }
    for (let run = 0; run < RUNS; run++) {
      for (const [name, target] of running) {
        const result = await runHttpLoad(generator, { url: `http://127.0.0.1:${target.httpPort}${routeTarget(route)}`, connections: 50, durationS: HTTP_SECONDS, pipelining });
        if (result.non2xx > 0 || result.errors > 0) {
          failures++;
          say(`FAIL: ${name} ${route} answered ${result.non2xx} non-2xx and ${result.errors} errors`);
        }
        (results[name] ??= []).push(result);
      }
    }
  } finally {
    await Promise.all(running.map(([, target]) => target.stop()));
  }
  return results;
}

const rps = (results: readonly HttpLoadResult[]): number[] => results.map((r) => r.requestsPerSecond);
const p99 = (results: readonly HttpLoadResult[]): number[] => results.map((r) => r.p99Ms);
const latency = (values: readonly number[]): string => (values.some(Number.isNaN) ? 'n/a' : spread(values, 1));

// ---------------------------------------------------------------------------
say('# Benchmark results');
say();
say(`- Date: ${new Date().toISOString()}`);
say(`- Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; Node ${process.version}`);
say(`- Every figure: median (min-max) over ${RUNS} runs. HTTP load: 50 keep-alive connections, ${HTTP_SECONDS} s a run after an unrecorded ${WARM_UP_S} s warm-up run, from ${GENERATORS.join(' and ')} in its own process.`);
say('- The load generators run on the same 2 cores as the server, as users of this machine would: figures are for the pair.');
if (QUICK) say('- QUICK run (BENCH_QUICK=1): shorter and smaller than the real suite; not for comparison.');
say();

// 1. HTTP versus node:http -----------------------------------------------------
say('## 1. HTTP: the project versus node:http (same routes, same store, same responder)');
say();
say('Two ratios: against node:http at the same pipelining, and against node:http\'s figure without pipelining (how the project brief states its targets: 2x without, 5x with 10-deep pipelining).');
say('Beside them, the brief\'s bare sketch (bench/sketch-responder.ts: a node:net responder that parses nothing but where a request ends and sends one fixed answer, the route\'s own bytes) under the same generator: how fast that generator can go here at all.');
say();
say('| generator | route | pipelining | node:http req/s | project req/s | ratio, same pipelining | ratio to node:http without pipelining | node:http p99 ms | project p99 ms | bare sketch req/s | project / sketch |');
say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
{
  // Each server owns its data directory: two copies of the same data.
  const baselineEnv = await preloaded('arquivos', undefined, 100_000);
  const projectEnv = await preloaded('arquivos', undefined, 100_000);
  const routes = ['/medicoes/ultima-medicao', '/alerta-consumo'];
  const sketchEnvs = new Map<string, Record<string, string>>();
  const project = await startTarget('projeto', projectEnv);
  for (const route of routes) {
    const answer = await fetch(`http://127.0.0.1:${project.httpPort}${routeTarget(route)}`);
    sketchEnvs.set(route, { SKETCH_BODY: await answer.text() });
  }
  await project.stop();
  for (const generator of GENERATORS) {
    for (const route of routes) {
      let unpipelinedBaseline = 0;
      for (const pipelining of [1, 10]) {
        const series = await httpSeries({ 'node-http': baselineEnv, projeto: projectEnv, sketch: sketchEnvs.get(route) as Record<string, string> }, route, pipelining, generator);
        const baseline = rps(series['node-http'] as HttpLoadResult[]);
        const ours = rps(series.projeto as HttpLoadResult[]);
        const sketch = rps(series.sketch as HttpLoadResult[]);
        if (pipelining === 1) unpipelinedBaseline = median(baseline);
        say(
          `| ${generator} | ${route} | ${pipelining} | ${spread(baseline)} | ${spread(ours)} | ${(median(ours) / median(baseline)).toFixed(2)}x | ${(median(ours) / unpipelinedBaseline).toFixed(2)}x | ${latency(p99(series['node-http'] as HttpLoadResult[]))} | ${latency(p99(series.projeto as HttpLoadResult[]))} | ${spread(sketch)} | ${(median(ours) / median(sketch)).toFixed(2)} |`,
        );
      }
    }
  }
}
say();

// 2. UDP ingest --------------------------------------------------------------
async function bareCeiling(rate: number): Promise<{ received: number; granted: number }> {
  const receiver = spawn(process.execPath, [BARE, String(RECEIVE_BUFFER)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = (await once(receiver.stdout, 'data')) as [Buffer];
  const { port, receiveBufferBytes } = JSON.parse(first.toString()) as { port: number; receiveBufferBytes: number };
  const sender = spawn(process.execPath, [SENDER, '127.0.0.1', String(port), '0', '10000', String(rate), String(UDP_SECONDS), '0', 'blast'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await once(sender, 'message');
  await new Promise((resolve) => setTimeout(resolve, 300));
  let output = '';
  receiver.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  receiver.kill('SIGTERM');
  await once(receiver, 'exit');
  return { received: (JSON.parse(output.trim().split('\n').pop() as string) as { datagrams: number }).datagrams / UDP_SECONDS, granted: receiveBufferBytes };
}

async function udpRun(storage: 'arquivos' | 'postgres', rate: number, meters = 10_000, databaseUrl?: string): Promise<UdpLoadResult> {
  const result = await runUdpLoad({ dataDir: join(workDir, `udp-${++schemaCounter}`), storage, databaseUrl, meters, rate, durationS: UDP_SECONDS, drainS: 20, senders: 1, receiveBuffer: RECEIVE_BUFFER });
  if (result.acknowledgedMissing > 0) {
    failures++;
    say(`FAIL: ${storage} at ${rate}/s lost ${result.acknowledgedMissing} acknowledged readings`);
  }
  return result;
}

/** Kept up: acknowledged during the sending phase, nothing lost after the resend phase. */
const keptUp = (result: UdpLoadResult): boolean => result.acknowledgedWhileSending >= 0.99 * result.sent && result.lost === 0;

/**
 * The search steps up until a rate is not kept up; the highest that was is
 * then run RUNS more times, and must be kept up in most of them, else the
 * rate below it is tried: a rate kept up only once by luck is not reported.
 */
async function highestKeptUpRate(storage: 'arquivos' | 'postgres', rates: readonly number[], databaseUrl?: string): Promise<{ rate: number; runs: UdpLoadResult[]; kept: number }> {
  const passed: number[] = [];
  for (const rate of rates) {
    const result = await udpRun(storage, rate, 10_000, databaseUrl);
    say(`  - ${storage} at ${rate}/s target: sent ${Math.round(result.sentRate)}/s, acknowledged while sending ${Math.round(result.keptUpRate)}/s, lost ${result.lost}, acknowledged but missing ${result.acknowledgedMissing}`);
    if (!keptUp(result)) break;
    passed.push(rate);
  }
  for (let i = passed.length - 1; i >= 0; i--) {
    const rate = passed[i] as number;
    const runs: UdpLoadResult[] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await udpRun(storage, rate, 10_000, databaseUrl));
    const kept = runs.filter(keptUp).length;
    if (kept * 2 > RUNS) return { rate, runs, kept };
    say(`  - ${storage} at ${rate}/s kept up in only ${kept} of ${RUNS} repeat runs (acknowledged while sending ${spread(runs.map((r) => r.keptUpRate))}/s): trying the rate below`);
  }
  return { rate: 0, runs: [], kept: 0 };
}

say('## 2. UDP ingest: highest rate stored with zero loss (one reading per datagram while the server keeps up)');
say();
say('Search (one run per rate, stopping at the first rate not kept up):');
say();
const fileRates = QUICK ? [10_000, 20_000] : [20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 140_000, 160_000];
const fileIngest = await highestKeptUpRate('arquivos', fileRates);
const pgRates = QUICK ? [5_000, 10_000] : [10_000, 20_000, 30_000, 40_000, 60_000];
const pgIngest = await withPostgres((url) => highestKeptUpRate('postgres', pgRates, url));
const ceilings: number[] = [];
let granted = 0;
for (let run = 0; run < RUNS; run++) {
  const ceiling = await bareCeiling(CEILING_BLAST_RATE);
  ceilings.push(ceiling.received);
  granted = ceiling.granted;
}
say();
say(`Raw ceiling, a bare node:dgram receiver that only counts datagrams, blasted at ${CEILING_BLAST_RATE}/s by the same sender: ${spread(ceilings)} datagrams/s (receive buffer asked ${RECEIVE_BUFFER}, granted ${granted} as the kernel reports it; net.core.rmem_max caps it).`);
say();
say('| storage | highest rate kept up (target) | repeat runs kept up | acknowledged while sending, readings/s | fraction of the raw ceiling | server RSS peak MiB |');
say('| --- | --- | --- | --- | --- | --- |');
for (const [name, ingest] of [
  ['arquivos', fileIngest],
  ['postgres', pgIngest],
] as const) {
  const rates = ingest.runs.map((r) => r.keptUpRate);
  say(
    `| ${name} | ${ingest.rate} | ${ingest.kept} of ${RUNS} | ${rates.length > 0 ? spread(rates) : 'none kept up'} | ${rates.length > 0 ? (median(rates) / median(ceilings)).toFixed(2) : '-'} | ${rates.length > 0 ? spread(ingest.runs.map((r) => r.serverRssBytes / 2 ** 20)) : '-'} |`,
  );
}
say();

// 2b. Ingest under abuse -------------------------------------------------------
const FLOOD_VALID_RATE = QUICK ? 5_000 : 40_000;
const FLOOD_GARBAGE_RATE = QUICK ? 5_000 : 40_000;
say(`### Ingest while flooded with hostile datagrams`);
say();
say(`Meters at ${FLOOD_VALID_RATE}/s (file store) while another process sends ${FLOOD_GARBAGE_RATE} hostile datagrams/s (random bytes; negative, NaN, oversized and impossible readings; malformed MAC fields).`);
say();
say('| valid readings acknowledged while sending /s | lost | acknowledged but missing | hostile datagrams sent /s | malformed lines counted by the server | server RSS peak MiB |');
say('| --- | --- | --- | --- | --- | --- |');
{
  const runs: UdpLoadResult[] = [];
  for (let run = 0; run < RUNS; run++) {
    const result = await runUdpLoad({ dataDir: join(workDir, `flood-${++schemaCounter}`), storage: 'arquivos', meters: 10_000, rate: FLOOD_VALID_RATE, durationS: UDP_SECONDS, drainS: 20, senders: 1, receiveBuffer: RECEIVE_BUFFER, garbageRate: FLOOD_GARBAGE_RATE });
    if (result.acknowledgedMissing > 0) {
      failures++;
      say(`FAIL: under a flood, ${result.acknowledgedMissing} acknowledged readings lost`);
    }
    runs.push(result);
  }
  say(
    `| ${spread(runs.map((r) => r.keptUpRate))} | ${spread(runs.map((r) => r.lost))} | ${spread(runs.map((r) => r.acknowledgedMissing))} | ${spread(runs.map((r) => r.garbageSent / r.durationS))} | ${spread(runs.map((r) => r.serverCounters?.malformed ?? Number.NaN))} | ${spread(runs.map((r) => r.serverRssBytes / 2 ** 20))} |`,
  );
}
say();

// 3. Growth ------------------------------------------------------------------
say('## 3. Growth: cost with a small versus a large history');
say();
say('| storage | measure | 1,000 readings | large history | ratio (large / small) |');
say('| --- | --- | --- | --- | --- |');
/** Route and ingest cost with 1,000 readings versus `bigReadings`, side by side; rows of the growth table. */
async function growth(storage: 'arquivos' | 'postgres', bigReadings: number, ingestRate: number, url?: string): Promise<void> {
  const label = `${storage} (${bigReadings.toLocaleString('en-US')})`;
  const envs = { small: await preloaded(storage, url, 1000), big: await preloaded(storage, url, bigReadings) };
  const row = (measure: string, small: number[], big: number[], ratio = true): void =>
    say(`| ${label} | ${measure} | ${spread(small)} | ${spread(big)} | ${ratio ? (median(big) / median(small)).toFixed(2) : '-'} |`);
  const series = await httpSeries(envs, '/alerta-consumo', 1);
  row('/alerta-consumo req/s', rps(series.small as HttpLoadResult[]), rps(series.big as HttpLoadResult[]));
  const ingest: Record<string, number[]> = { small: [], big: [] };
  const startups: Record<string, number[]> = { small: [], big: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const [name, env] of Object.entries(envs)) {
      const result = await runUdpLoad({
        dataDir: env.DATA_DIR ?? join(workDir, `pg-ingest-${++schemaCounter}`),
        storage,
        databaseUrl: url,
        schema: env.PG_SCHEMA,
        meters: 10_000,
        rate: ingestRate,
        durationS: UDP_SECONDS,
        drainS: 20,
        senders: 1,
        receiveBuffer: RECEIVE_BUFFER,
      });
      if (result.acknowledgedMissing > 0) failures++;
      (ingest[name] as number[]).push(result.keptUpRate);
      if (storage === 'arquivos') {
        const target = await startTarget('projeto', env);
        (startups[name] as number[]).push(target.startupMs);
        await target.stop();
      }
    }
  }
  row(`ingest at ${ingestRate}/s, readings/s acknowledged while sending`, ingest.small as number[], ingest.big as number[]);
  if (storage === 'arquivos') row('start-up ms, spawn to listening (reads the log once: grows with it by design)', startups.small as number[], startups.big as number[], false);
}

await growth('arquivos', BIG_FILE_READINGS, QUICK ? 10_000 : 40_000);
await withPostgres((url) => growth('postgres', BIG_PG_READINGS, QUICK ? 5_000 : 15_000, url));
say();
say('The Python original, measured on this machine (from the project brief): about 2,500 -> 30 requests/s and 300 -> 25 stored readings/s between 20 and 100,000 stored readings.');
say();

// 4. Fleet -------------------------------------------------------------------
say('## 4. Fleet: meters sending every second while HTTP load runs');
say();
say('| meters (1 reading/s each) | kept up | acknowledged while sending /s | lost | HTTP req/s meanwhile |');
say('| --- | --- | --- | --- | --- |');
for (const meters of QUICK ? [2000] : [10_000, 20_000, 40_000, 80_000]) {
  const env = await preloaded('arquivos', undefined, 100_000);
  const api = await startTarget('projeto', env);
  const http = runAutocannon({ url: `http://127.0.0.1:${api.httpPort}${routeTarget('/alerta-consumo')}`, connections: 10, durationS: UDP_SECONDS, pipelining: 1 });
  const result = await udpRun('arquivos', meters, meters);
  const load = await http;
  await api.stop();
  say(`| ${meters} | ${keptUp(result) ? 'yes' : 'no'} | ${Math.round(result.keptUpRate)} | ${result.lost} | ${Math.round(load.requestsPerSecond)} |`);
}
say();
say('The HTTP load above goes to a second server process on the same machine (same data shape), so both compete for the 2 cores.');
say();
{
  const meters = QUICK ? 10_000 : 100_000;
  const idle = await startTarget('projeto', { DATA_DIR: join(workDir, 'idle') });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idleRss = await idle.rssBytes();
  await idle.stop();
  const result = await udpRun('arquivos', Math.min(meters, 40_000), meters);
  say(
    `Memory: ${meters.toLocaleString('en-US')} distinct meters (one reading or more each, under load): server RSS peak ${(result.serverRssBytes / 2 ** 20).toFixed(0)} MiB ` +
      `against ${(idleRss / 2 ** 20).toFixed(0)} MiB idle: ${((result.serverRssBytes - idleRss) / meters).toFixed(0)} bytes per meter (this includes buffers of the load itself).`,
  );
}
say();
if (failures > 0) say(`**${failures} failure(s): lost data or wrong answers (see above).**`);

// Sections after the generated ones (measurements of particular changes, written by hand) are kept.
const previous = await readFile(RESULTS, 'utf8').catch(() => '');
const kept = previous.indexOf(KEPT_MARKER);
await writeFile(RESULTS, `${lines.join('\n')}\n${kept === -1 ? `\n${KEPT_MARKER}\n` : `\n${previous.slice(kept)}`}`);
await rm(workDir, { recursive: true, force: true });
process.stdout.write(`wrote ${RESULTS}\n`);
// Explicit: the embedded PostgreSQL's exit hooks would otherwise decide the code.
process.exit(failures > 0 ? 1 : 0);
