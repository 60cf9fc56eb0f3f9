/**
 * `npm run bench:agregados`: what the hourly rollups (issue 30) change for
 * reads that span a meter's history. A DATA_DIR of `--medidores` meters with
 * a year of 15-minute readings each (written straight in the log's format);
 * `/consumo` over that year by day, month and hour for one meter, requests
 * one at a time, this build's server against `--antes DIR` (another build,
 * e.g. a worktree's from before the rollups, reading the readings
 * themselves) on a copy of the same data, rounds interleaved. Also prints
 * each server's start-up on that data (this build's first start builds the
 * rollups from the log; its second does not). Fails only on a non-200 or on
 * answers that differ.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ackRoundTrips, meterMatricula, median, parseCli, percentile, SERVER_MAIN, startTarget, type RunningTarget } from './lib.js';

const values = parseCli('bench:agregados', '/consumo and /recomendacoes over a year of 15-minute readings, and the monthly fleet report: rollups against the readings themselves.', {
  medidores: { default: '20', help: 'meters, each with a year of 15-minute readings' },
  pedidos: { default: '20', help: 'requests per route and server in each round' },
  rodadas: { default: '3', help: 'rounds (interleaved)' },
  antes: { default: '', help: 'another build directory (e.g. ../antes/build) whose server runs on a copy of the same data' },
  frota: { default: '1000', help: 'meters of the fleet-report data set (a month of 15-minute readings each; 0 skips it)' },
  'limite-frota': { default: '300', help: 'seconds a fleet report may take before it is reported as longer' },
  'leituras-dia': { default: '96', help: 'readings a day of each meter of the fleet-report data set (96: every 15 minutes)' },
  fuso: { default: 'America/Sao_Paulo', help: "the servers' TZ_LEGADO and the fleet report's zone (its days are the daily rollups')" },
  faturamento: { default: 'nao', help: 'sim: billing configured (a made-up distributor with Convencional and Branca tariffs), so /recomendacoes forecasts prices and compares modalities over 6 cycles' },
});
const BILLING = values.faturamento === 'sim';
const FLEET_PER_DAY = Number(values['leituras-dia']);
const FLEET_ZONE = values.fuso;
const FLEET = Number(values.frota);
const FLEET_LIMIT_S = Number(values['limite-frota']);
const METERS = Number(values.medidores);
const REQUESTS = Number(values.pedidos);
const ROUNDS = Number(values.rodadas);
for (const [name, value] of [['medidores', METERS], ['pedidos', REQUESTS], ['rodadas', ROUNDS]] as const) {
  if (!Number.isSafeInteger(value) || value < 1) {
    process.stderr.write(`bench:agregados: --${name} must be a whole number from 1 (--help shows the options)\n`);
    process.exit(1);
  }
}
const beforeMain = values.antes === '' ? undefined : resolve(values.antes, 'server/main.js');
if (beforeMain !== undefined && !existsSync(beforeMain)) {
  process.stderr.write(`bench:agregados: invalid option --antes: ${beforeMain} does not exist\n`);
  process.exit(1);
}

const QUARTER_MS = 15 * 60_000;
const YEAR_READINGS = 365 * 96;
/** The year ends at the last whole hour before now. */
const END = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const START = END - YEAR_READINGS * QUARTER_MS;

/** The log of `METERS` meters, a reading each every 15 minutes for a year, interleaved as meters send them; registers grow 0.1-0.6 kWh a quarter. */
async function writeData(dataDir: string): Promise<number> {
  await mkdir(dataDir, { recursive: true });
  const customers = createWriteStream(join(dataDir, 'clientes.txt'));
  for (let m = 0; m < METERS; m++) customers.write(`cliente${m};${meterMatricula(m)}\n`);
  customers.end();
  await once(customers, 'finish');
  const log = createWriteStream(join(dataDir, 'medicoes.log'));
  const registers = new Array<number>(METERS).fill(0);
  for (let q = 0; q < YEAR_READINGS; q++) {
    let text = '';
    const iso = new Date(START + q * QUARTER_MS).toISOString();
    for (let m = 0; m < METERS; m++) {
      registers[m] = (registers[m] as number) + 100 + ((q * 7 + m * 13) % 500);
      text += `${iso};${meterMatricula(m)};${((registers[m] as number) / 1000).toFixed(3)}\n`;
    }
    if (!log.write(text)) await once(log, 'drain');
  }
  log.end();
  await once(log, 'finish');
  return YEAR_READINGS * METERS;
}

/** The fleet-report data set: `FLEET` meters, `FLEET_PER_DAY` readings a day each over the last whole UTC month (and the day before it). */
async function writeFleetData(dataDir: string): Promise<{ readings: number; month: string }> {
  await mkdir(dataDir, { recursive: true });
  const customers = createWriteStream(join(dataDir, 'clientes.txt'));
  for (let m = 0; m < FLEET; m++) customers.write(`cliente${m};${meterMatricula(m)}\n`);
  customers.end();
  await once(customers, 'finish');
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const log = createWriteStream(join(dataDir, 'medicoes.log'));
  let readings = 0;
  const step = Math.floor(86_400_000 / FLEET_PER_DAY);
  for (let at = monthStart - 86_400_000; at < monthEnd; at += step) {
    let text = '';
    const stamp = new Date(at).toISOString();
    const round = (at - monthStart + 86_400_000) / QUARTER_MS;
    for (let m = 0; m < FLEET; m++) text += `${stamp};${meterMatricula(m)};${((round * (100 + (m % 400))) / 1000).toFixed(3)}\n`;
    readings += FLEET;
    if (!log.write(text)) await once(log, 'drain');
  }
  log.end();
  await once(log, 'finish');
  return { readings, month: new Date(monthStart).toISOString().slice(0, 10) };
}

/** One monthly fleet report as CSV, timed; undefined past the limit (the server is then stopped by the caller). */
async function timeFleetReport(target: RunningTarget, day: string): Promise<{ ms: number; body: string } | undefined> {
  const started = process.hrtime.bigint();
  try {
    const response = await fetch(`http://127.0.0.1:${target.httpPort}/relatorios?periodo=mensal&inicio=${day}&fuso=${encodeURIComponent(FLEET_ZONE)}&formato=csv`, { headers: { authorization: `Bearer ${FLEET_TOKEN}` }, signal: AbortSignal.timeout(FLEET_LIMIT_S * 1000) });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`the fleet report answered ${response.status}: ${body.slice(0, 200)}`);
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, body };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return undefined;
    throw error;
  }
}

const ACK_SECONDS = 5;

/** ACK round trips of a fleet meter idle, then while fleet reports run one after another; `p50 / p99 / max` of each. */
async function ackWhile(target: RunningTarget, day: string): Promise<string> {
  const summary = (ms: number[]): string => `${percentile(ms, 50).toFixed(1)} / ${percentile(ms, 99).toFixed(1)} / ${(ms[ms.length - 1] as number).toFixed(1)}`;
  const idle = await ackRoundTrips(target.udpPort, meterMatricula(0), ACK_SECONDS, Date.now());
  let reports = 0;
  let running = true;
  const load = (async () => {
    while (running) {
      await timeFleetReport(target, day);
      reports++;
    }
  })();
  const busy = await ackRoundTrips(target.udpPort, meterMatricula(0), ACK_SECONDS, Date.now() + 60_000);
  running = false;
  await load;
  return `${summary(idle)} | ${summary(busy)} (${reports})`;
}

/** The operator's token both servers are given for the fleet report. */
const FLEET_TOKEN = 'bench-agregados-operador-0123456789abcdef';

const iso = (instant: number): string => new Date(instant).toISOString().slice(0, 16);
const YEAR_METER = meterMatricula(Math.floor(METERS / 2));
const ROUTES = [
  ...['dia', 'mes', 'hora'].map((unit) => ({ unit: `/consumo agrupar=${unit}`, path: `/consumo?matricula=${YEAR_METER}&inicio=${iso(START)}&fim=${iso(END)}&fuso=${encodeURIComponent(FLEET_ZONE)}&agrupar=${unit}` })),
];
/**
 * Without billing configured (`--faturamento nao`): the baseload of the last two weeks' nights (the rules that need
 * only readings); with it, also the forecast priced and the modality comparison over 6 cycles. Its
 * answers are kept a minute per meter (server/http/result-cache.ts): each meter is asked once per server, in the
 * first round only, so every request computes.
 */
const RECOMMENDATIONS = Array.from({ length: METERS }, (_, m) => `/recomendacoes?matricula=${meterMatricula(m)}`);

/** Each path asked once, timed; `body` is every answer, in order (compared between the builds). */
async function timeRequests(target: RunningTarget, paths: readonly string[]): Promise<{ ms: number[]; body: string }> {
  const ms: number[] = [];
  const bodies: string[] = [];
  for (const path of paths) {
    const started = process.hrtime.bigint();
    const response = await fetch(`http://127.0.0.1:${target.httpPort}${path}`);
    const body = await response.text();
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${body.slice(0, 200)}`);
    bodies.push(body);
  }
  return { ms, body: bodies.join('\n') };
}

/** The made-up TESTE-D's tariffs in ANEEL's format, both modalities, in force over the bench's year (R$/MWh). */
const BILLING_TARIFFS = [
  '"DatGeracaoConjuntoDados";"DscREH";"SigAgente";"NumCNPJDistribuidora";"DatInicioVigencia";"DatFimVigencia";"DscBaseTarifaria";"DscSubGrupo";"DscModalidadeTarifaria";"DscClasse";"DscSubClasse";"DscDetalhe";"NomPostoTarifario";"DscUnidadeTerciaria";"SigAgenteAcessante";"VlrTUSD";"VlrTE"',
  ...[
    ['Convencional', 'Não se aplica', '412,38', '294,59'],
    ['Branca', 'Ponta', '1400,00', '480,00'],
    ['Branca', 'Intermediário', '900,00', '300,00'],
    ['Branca', 'Fora ponta', '350,00', '270,00'],
  ].map(([modality, posto, tusd, te]) => `"2025-01-01";"bench";"TESTE-D";"00000000000000";"2020-01-01";"2099-12-31";"Tarifa de Aplicação";"B1";"${modality}";"Residencial";"Residencial";"Não se aplica";"${posto}";"MWh";"Não se aplica";"${tusd}";"${te}"`),
].join('\n');

/** Imports BILLING_TARIFFS into `dataDir` (the import CLI, as an operator would). */
async function importTariffs(dataDir: string): Promise<void> {
  const file = join(dataDir, '..', 'tarifas-bench.csv');
  await writeFile(file, BILLING_TARIFFS + '\n');
  const run = spawnSync(process.execPath, [resolve(SERVER_MAIN, '../../cli/import.js'), '--tarifas', file, '--distribuidora', 'TESTE-D'], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`importing the tariffs failed: ${run.stderr}`);
}

/** The billing parameters, PIS/COFINS of every month of the year and the distributor, through the API (README, "Billing"). */
async function configureBilling(target: RunningTarget): Promise<void> {
  const put = async (path: string, body: unknown): Promise<void> => {
    const response = await fetch(`http://127.0.0.1:${target.httpPort}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${FLEET_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status >= 300) throw new Error(`PUT ${path} answered ${response.status}: ${await response.text()}`);
  };
  await put('/faturamento/parametros', {
    vigencia_inicio: '2020-01-01',
    tributos: { icms: { faixas: [{ ate_kwh: null, aliquota: '0.18' }], isencao_tarifa_social: { media_diaria_ate_kwh: 3 } } },
    custo_disponibilidade_kwh: { monofasica: 30, bifasica: 50, trifasica: 100 },
    cip: [{ ate_kwh: 100, valor: '5.00' }, { ate_kwh: null, valor: '12.50' }],
    vencimento_dias: 10,
    postos_tarifa_branca: { ponta: ['18:00-21:00'], intermediario: ['17:00-18:00', '21:00-22:00'] },
    tarifa_social: [{ ate_kwh: 30, desconto: '0.65' }, { ate_kwh: 100, desconto: '0.4' }, { ate_kwh: 220, desconto: '0.1' }],
  });
  for (let at = START - 40 * 86_400_000; at < END + 40 * 86_400_000; at += 28 * 86_400_000) await put(`/faturamento/pis-cofins/${new Date(at).toISOString().slice(0, 7)}`, { pis: '0.0112', cofins: '0.0516' });
  await put('/faturamento/distribuidora', { nome: 'Distribuidora Teste S.A.', cnpj: '11.222.333/0001-81', endereco: 'Av. das Linhas, 1000, Belo Horizonte - MG, 30000-000', codigo_febraban: '0123', chave_pix: '11222333000181', cidade: 'Belo Horizonte' });
}

const dir = await mkdtemp(join(tmpdir(), 'bench-agregados-'));
let failed = false;
try {
  const readings = await writeData(join(dir, 'projeto'));
  if (beforeMain !== undefined) await cp(join(dir, 'projeto'), join(dir, 'antes'), { recursive: true });
  process.stdout.write(`bench:agregados: ${METERS} meters x a year of 15-minute readings = ${readings.toLocaleString('en-US')} readings (file store); ${REQUESTS} requests a route, one at a time, ${ROUNDS} rounds\n\n`);
  const yearEnv = (dataDir: string) => ({ DATA_DIR: dataDir, TZ_LEGADO: FLEET_ZONE, API_TOKEN_ADMIN: FLEET_TOKEN, ...(BILLING ? { DISTRIBUIDORA: 'TESTE-D' } : {}) });
  if (BILLING) for (const name of beforeMain === undefined ? ['projeto'] : ['projeto', 'antes']) await importTariffs(join(dir, name));
  const first = await startTarget('projeto', yearEnv(join(dir, 'projeto')));
  await first.stop();
  const targets: Array<[string, RunningTarget]> = [['projeto', await startTarget('projeto', yearEnv(join(dir, 'projeto')), [], SERVER_MAIN)]];
  if (beforeMain !== undefined) targets.push(['antes', await startTarget('projeto', yearEnv(join(dir, 'antes')), [], beforeMain)]);
  if (BILLING) for (const [, target] of targets) await configureBilling(target);
  process.stdout.write(`start-up: this build ${first.startupMs} ms building the rollups from the log, ${(targets[0] as [string, RunningTarget])[1].startupMs} ms again`);
  process.stdout.write(beforeMain === undefined ? '\n\n' : `; before ${(targets[1] as [string, RunningTarget])[1].startupMs} ms\n\n`);
  try {
    const results = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const routes = [...ROUTES.map((route) => ({ unit: route.unit, paths: Array.from({ length: REQUESTS }, () => route.path) })), ...(round === 0 ? [{ unit: '/recomendacoes (each meter once)', paths: RECOMMENDATIONS }] : [])];
      for (const route of routes) {
        const bodies = new Map<string, string>();
        for (const [name, target] of targets) {
          const { ms, body } = await timeRequests(target, route.paths);
          bodies.set(name, body);
          const key = `${route.unit} ${name}`;
          results.set(key, [...(results.get(key) ?? []), ...ms]);
        }
        if (bodies.size > 1 && new Set(bodies.values()).size > 1) {
          failed = true;
          process.stdout.write(`FAIL: ${route.unit}: the answers differ\n`);
        }
        if (route.unit.startsWith('/recomendacoes')) process.stdout.write(`${route.unit}, one answer: ${(bodies.get('projeto') ?? '').split('\n')[0]?.slice(0, 600)}\n`);
      }
    }
    process.stdout.write('| one meter with a year of readings | this build median ms (p99) |' + (beforeMain === undefined ? '' : ' before median ms (p99) | before / this build |') + '\n');
    process.stdout.write('| --- | --- |' + (beforeMain === undefined ? '' : ' --- | --- |') + '\n');
    for (const route of [...ROUTES, { unit: '/recomendacoes (each meter once)' }]) {
      const cell = (name: string): { text: string; median: number } => {
        const ms = [...(results.get(`${route.unit} ${name}`) ?? [])].sort((a, b) => a - b);
        return { text: `${median(ms).toFixed(1)} (${percentile(ms, 99).toFixed(1)})`, median: median(ms) };
      };
      const now = cell('projeto');
      const before = beforeMain === undefined ? undefined : cell('antes');
      process.stdout.write(`| ${route.unit} | ${now.text} |${before === undefined ? '' : ` ${before.text} | ${(before.median / now.median).toFixed(1)}x |`}\n`);
    }
  } finally {
    for (const [, target] of targets) await target.stop();
  }
  if (FLEET > 0) {
    const fleet = await writeFleetData(join(dir, 'frota'));
    if (beforeMain !== undefined) await cp(join(dir, 'frota'), join(dir, 'frota-antes'), { recursive: true });
    // The data just written is on its way to the disk: wait for it, or the servers' first fdatasyncs queue behind it.
    spawnSync('sync');
    process.stdout.write(`\nfleet report: ${FLEET} meters x a month of ${FLEET_PER_DAY} readings a day = ${fleet.readings.toLocaleString('en-US')} readings; GET /relatorios?periodo=mensal&formato=csv (the month from ${fleet.month}, ${FLEET_ZONE}, the servers' TZ_LEGADO)\n\n`);
    const env = (dataDir: string) => ({ DATA_DIR: dataDir, API_TOKEN_ADMIN: FLEET_TOKEN, TZ_LEGADO: FLEET_ZONE });
    const runs: Array<[string, string, string]> = [['this build', join(dir, 'frota'), SERVER_MAIN]];
    if (beforeMain !== undefined) runs.push(['before', join(dir, 'frota-antes'), beforeMain]);
    const bodies: string[] = [];
    const acks: string[] = [];
    process.stdout.write('| server | start-up ms | monthly fleet CSV, ms (one request after one warm-up) |\n| --- | --- | --- |\n');
    for (const [name, dataDir, main] of runs) {
      const target = await startTarget('projeto', env(dataDir), [], main);
      try {
        // A second request when the first was quick (caches warm); a slow first one is the figure.
        const first = await timeFleetReport(target, fleet.month);
        const timed = first !== undefined && first.ms < 30_000 ? await timeFleetReport(target, fleet.month) : first;
        if (timed !== undefined) bodies.push(timed.body);
        process.stdout.write(`| ${name} | ${target.startupMs} | ${timed === undefined ? `more than ${FLEET_LIMIT_S} s` : timed.ms.toFixed(0)} |\n`);
        // What a fleet report costs ingest: one meter's reading-to-ACK times while reports run back to back, and without.
        if (timed !== undefined && timed.ms < 30_000) acks.push(`| ${name} | ${await ackWhile(target, fleet.month)} |`);
      } finally {
        await target.stop();
      }
    }
    if (acks.length > 0) process.stdout.write(`\nOne meter's reading-to-ACK ms (a reading every 20 ms for ${ACK_SECONDS} s), idle and while monthly fleet reports run back to back:\n\n| server | idle p50 / p99 / max | during reports p50 / p99 / max (reports done) |\n| --- | --- | --- |\n${acks.join('\n')}\n`);
    if (bodies.length > 1 && new Set(bodies).size > 1) {
      failed = true;
      process.stdout.write('FAIL: the fleet reports differ\n');
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
