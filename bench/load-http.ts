/**
 * `npm run load:http -- --rota /alerta-consumo --conexoes 50 --duracao 10`
 * Drives one route with keep-alive connections (autocannon, in its own
 * process) against a server preloaded with customers and readings, and
 * prints requests/s, latency percentiles and the non-2xx count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli, preloadFiles, preloadPostgres, routeTarget, runAutocannon, startTarget } from './lib.js';

const ROUTES = ['/validacao-usuario', '/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo'];
const values = parseCli('load:http', 'Drives one route with keep-alive connections (autocannon) against a server preloaded with customers and readings.', {
  rota: { default: '/alerta-consumo', help: `the route: ${ROUTES.join(', ')}` },
  conexoes: { default: '50', help: 'keep-alive connections' },
  duracao: { default: '10', help: 'seconds of load' },
  pipelining: { default: '1', help: 'requests in flight per connection' },
  clientes: { default: '1000', help: 'customers preloaded' },
  leituras: { default: '100000', help: 'readings preloaded' },
  alvo: { default: 'projeto', help: 'projeto, or node-http (the baseline on node:http)' },
  storage: { default: 'arquivos', help: 'arquivos or postgres (DATABASE_URL)' },
  processos: { default: '1', help: 'the server\'s PROCESSOS (more than 1 needs --storage postgres)' },
});
function whole(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`load:http: invalid option --${name}: must be a whole number of at least ${min} (got ${JSON.stringify(text)})\n`);
    process.exit(1);
  }
  return n;
}
if (!ROUTES.includes(values.rota)) {
  process.stderr.write(`load:http: invalid option --rota: one of ${ROUTES.join(', ')}\n`);
  process.exit(1);
}
if (values.alvo !== 'projeto' && values.alvo !== 'node-http') {
  process.stderr.write('load:http: invalid option --alvo: projeto or node-http\n');
  process.exit(1);
}
const customers = whole('clientes', values.clientes, 1);
const readings = whole('leituras', values.leituras, 0);
const shape = { customers, readings, meters: customers };

const dir = await mkdtemp(join(tmpdir(), 'consumo-load-'));
try {
  const env: Record<string, string> = { DATA_DIR: join(dir, 'data'), PROCESSOS: String(whole('processos', values.processos, 1)) };
  if (values.storage === 'postgres') {
    const url = process.env.DATABASE_URL;
    if (url === undefined) throw new Error('--storage postgres needs DATABASE_URL');
    const schema = `carga_${process.pid}`;
    await preloadPostgres(url, schema, shape);
    Object.assign(env, { STORAGE: 'postgres', DATABASE_URL: url, PG_SCHEMA: schema });
  } else {
    await preloadFiles(env.DATA_DIR as string, shape);
  }
  const target = await startTarget(values.alvo, env);
  try {
    const url = `http://127.0.0.1:${target.httpPort}${routeTarget(values.rota)}`;
    process.stdout.write(
      `load:http ${values.alvo} ${values.rota}: ${values.conexoes} connections, pipelining ${values.pipelining}, ${values.duracao} s; ` +
        `${customers} customers, ${readings} readings (${values.storage}); started in ${target.startupMs} ms\n`,
    );
    const result = await runAutocannon({
      url,
      connections: whole('conexoes', values.conexoes, 1),
      durationS: whole('duracao', values.duracao, 1),
      pipelining: whole('pipelining', values.pipelining, 1),
    });
    process.stdout.write(
      `requests/s ${Math.round(result.requestsPerSecond)} | latency p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms | ` +
        `${result.total} requests, non-2xx ${result.non2xx}, errors ${result.errors}\n`,
    );
    if (result.non2xx > 0 || result.errors > 0) process.exitCode = 1;
  } finally {
    await target.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
