/**
 * Moving a whole installation between backends (issue 27 §1): flat files →
 * PostgreSQL → flat files, on an installation with every aggregate; every
 * route answers identically on all three, the report's counts and
 * checksums agree, a target with data is refused unless merging, and what
 * differs is named with exit code 1.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { run } from '../../cli/import.js';
import { AGGREGATES, canonical, digests } from '../../database/migration.js';
import { openStore } from '../../database/open-store.js';
import { loadConfig } from '../../server/config.js';
import { silentLogger, startTestServer, tempDir, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { testPostgres } from '../postgres.js';
import { billingReadyServer, send } from '../server/billing-fixtures.js';
import { answers, everyRouteAnswered, populate } from './installation-fixture.js';

const postgres = await testPostgres(t);

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { PATH: process.env.PATH, ...env }, { out: (text) => (out += text), err: (text) => (err += text) });
  return { code, out, err };
}

const REPORT = 'frota-2026-11-01T03-00-00Z.json';

/** The cycle still open (reading day 1): the one that ends in next month. */
function openCycle(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
}

t.test('canonical: the same text for the same record whatever the key order; bigints as text; undefined left out', async (t) => {
  t.equal(canonical({ b: 1n, a: [undefined, { d: undefined, c: 'x' }] }), '{"a":[null,{"c":"x"}],"b":"1"}');
  t.equal(canonical({ a: 1, b: 2 }), canonical({ b: 2, a: 1 }));
});

t.test('files → PostgreSQL → files: every aggregate moves, and every route answers as on the original', async (t) => {
  const original = await billingReadyServer(t, { TZ_LEGADO: 'UTC' });
  const dataDir = (original.stores.description as { dataDir: string }).dataDir;
  const port = original.http.port;
  const { numero, commandId } = await populate(original);
  const op = { token: TEST_OPERATOR_TOKEN };
  // A customer's password, a token of theirs revoked, an operator account, a bandeira, an emission factor.
  t.equal((await send(port, 'POST', '/clientes/13456789/senha', { senha: 'senha-de-exemplo-123' }, op)).status, 200);
  const login = await send(port, 'POST', '/validacao-usuario', { matricula: '13456789', senha: 'senha-de-exemplo-123' });
  const revoked = (login.json as { token: string }).token;
  t.equal((await send(port, 'POST', '/sessao/encerrar', undefined, { token: revoked })).status, 200);
  t.equal((await send(port, 'POST', '/operadores', { nome: 'maria.souza', senha: 'cavalo-bateria-grampo' }, op)).status, 201);
  t.equal((await send(port, 'PUT', '/faturamento/bandeiras/2026-05', { bandeira: 'amarela', adicional_kwh: '0.01885' }, op)).status, 201);
  t.equal((await send(port, 'PUT', '/co2e/fatores/2026-06', { kg_co2e_kwh: '0.0412' }, op)).status, 201);
  // Events, alerts (one acknowledged, one closed), a forecast record settled and one not.
  const at = Date.now() - 3 * 86_400_000;
  await original.stores.events.append([
    { matricula: '13456789', timestamp: at, type: 'violacao_tampa', detail: 'tampa aberta', receivedAt: at + 5, delivery: 'desativada', deliveryAttempts: 0 },
    { matricula: '13456789', timestamp: at + 60_000, type: 'falta_energia', detail: 'último suspiro', receivedAt: at + 60_010, delivery: 'falhou', deliveryAttempts: 3 },
  ]);
  const alert = { matricula: '13456789', kind: 'violacao_tampa' as const, key: 'violacao_tampa', detail: 'Tampa aberta', acknowledgedBy: null, acknowledgedAt: null, closedAt: null, delivery: 'entregue' as const, deliveryAttempts: 1, state: 'ativo' as const };
  await original.stores.alerts.raise({ ...alert, id: 'a-1', raisedAt: at });
  await original.stores.alerts.acknowledge('a-1', 'operador:maria.souza', at + 1000);
  await original.stores.alerts.raise({ ...alert, id: 'a-2', kind: 'falta_energia', key: 'falta_energia', raisedAt: at + 2000 });
  await original.stores.alerts.close('13456789', 'falta_energia', at + 3000);
  await original.stores.forecasts.record({ matricula: '13456789', month: '2026-10', madeAt: at, measuredUpTo: at - 1, projected: 150_000n, low: 140_000n, high: 160_000n, actual: null, error: null, settledAt: null });
  await original.stores.forecasts.settle('13456789', '2026-10', 155_000n, 3_225n, at + 10);
  await original.stores.forecasts.record({ matricula: '13456789', month: openCycle(), madeAt: at + 20, measuredUpTo: at + 19, projected: 151_500n, low: 141_000n, high: 162_000n, actual: null, error: null, settledAt: null });
  // A reading flagged at admission keeps its flag: a register that goes down.
  await original.stores.store.append([{ matricula: '13456789', timestamp: Date.now() - 60_000, consumo: 1_000n }]);
  t.equal((await send(port, 'DELETE', `/comandos/${commandId}`, undefined, op)).status, 200, 'the command cancelled: it stops changing');

  const extra: Array<[string, string, unknown?]> = [
    ['GET', '/auditoria?limite=100'],
    ['GET', '/operadores'],
    ['GET', '/faturamento/bandeiras?de=2026-01&ate=2026-12'],
    ['GET', '/co2e/fatores?de=2026-01&ate=2026-12'],
    ['GET', '/previsao/precisao?matricula=13456789'],
    ['GET', '/alertas?estado=encerrado'],
    ['GET', '/relatorios/arquivos'],
  ];
  await mkdir(join(dataDir, 'relatorios'), { recursive: true });
  await writeFile(join(dataDir, 'relatorios', REPORT), '{"relatorio":"frota"}\n');
  const before = await answers(port, numero, commandId, extra);
  everyRouteAnswered(t, before);
  t.equal((await send(port, 'GET', '/sessao', undefined, { token: revoked })).status, 401, 'the signed-out token is refused before');
  await original.close();
  // What the server does not hold open: a keyed meter's counter, a meter key, an archived report.
  const config = loadConfig({ DATA_DIR: dataDir }, []);
  const files = await openStore(config, silentLogger);
  await files.meterCounters.advance('13456789', 41n);
  await files.store.close();
  await writeFile(join(dataDir, 'chaves-medidores.txt'), `13456789;${'ab'.repeat(32)}\n`, { mode: 0o600 });

  const schema = postgres.schema(t);
  const pgDataDir = await tempDir(t);
  const pgEnv = { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: schema, DATA_DIR: pgDataDir };
  const moved = await cli(['--dados', dataDir], pgEnv);
  t.equal(moved.code, 0, moved.err + moved.out);
  t.match(moved.out, /whole: every aggregate of the source is in the target, with the same count and checksum/);
  for (const aggregate of ['customers', 'passwords (hashes)', 'profiles', 'operator accounts', 'token generations', 'tariffs', 'billing parameters', 'bandeiras', 'emission factors', 'invoices', 'commands', 'alerts', 'meter events', 'forecast records', 'meter counters', 'audit entries', 'readings']) {
    t.match(moved.out, new RegExp(`\\n  ${aggregate.replace(/[()]/g, '\\$&')} +[1-9]\\d* [0-9a-f]{16} +[1-9]\\d* [0-9a-f]{16}`), `${aggregate}: moved, none empty`);
  }
  t.notMatch(moved.out, /DIFFERS/);
  t.equal(await readFile(join(pgDataDir, 'relatorios', REPORT), 'utf8'), '{"relatorio":"frota"}\n', 'the report archive moves beside the store');
  t.equal(await readFile(join(pgDataDir, 'segredo-api'), 'utf8'), await readFile(join(dataDir, 'segredo-api'), 'utf8'), "the API's signing secret moves: customers' tokens stay valid");

  // Once in, moving again is refused: nothing is written twice.
  const again = await cli(['--dados', dataDir], pgEnv);
  t.equal(again.code, 1);
  t.match(again.err, /already holds data \(clientes: 5, .*nothing was written \(give --mesclar/);
  const merged = await cli(['--dados', dataDir, '--mesclar'], pgEnv);
  t.equal(merged.code, 0, merged.out);
  t.match(merged.out, /whole: every aggregate of the source is in the target\n/);

  const onPostgres = await startTestServer(t, { env: { ...pgEnv, DISTRIBUIDORA: 'TESTE-D', TZ_LEGADO: 'UTC' } });
  const middle = await answers(onPostgres.http.port, numero, commandId, extra);
  for (const route of Object.keys(before)) t.equal(middle[route], before[route], `PostgreSQL: ${route}`);
  t.equal((await send(onPostgres.http.port, 'GET', '/sessao', undefined, { token: revoked })).status, 401, 'the signed-out token stays refused');
  const relogin = await send(onPostgres.http.port, 'POST', '/validacao-usuario', { matricula: '13456789', senha: 'senha-de-exemplo-123' });
  t.equal(relogin.status, 200, 'the password hash moved');
  const operatorLogin = await send(onPostgres.http.port, 'POST', '/sessao/operador', { nome: 'maria.souza', senha: 'cavalo-bateria-grampo' });
  t.equal(operatorLogin.status, 200, 'the operator account moved');
  const next = await send(onPostgres.http.port, 'POST', '/faturas', { matricula: '13456789', ciclo: '2026-11' }, op);
  const sequence = (n: string): number => Number(n.slice(5));
  if (next.status === 201) t.ok(sequence((next.json as { numero: string }).numero) > sequence(numero), 'invoice numbers go on after the moved ones');
  await onPostgres.close();

  // And back: PostgreSQL → flat files in a new DATA_DIR.
  const backDir = await tempDir(t);
  const back = await cli(['--de-postgres', postgres.url, '--de-schema', schema, '--dados', pgDataDir, '--data-dir', backDir]);
  t.equal(back.code, 0, back.err + back.out);
  t.match(back.out, /whole: every aggregate of the source is in the target, with the same count and checksum/);
  const onFiles = await startTestServer(t, { dataDir: backDir, env: { DISTRIBUIDORA: 'TESTE-D', TZ_LEGADO: 'UTC' } });
  const last = await answers(onFiles.http.port, numero, commandId, extra);
  for (const route of Object.keys(before)) {
    if (route === 'GET /auditoria?limite=100' || route.startsWith('GET /faturas')) continue; // the invoice issued on PostgreSQL above, and its audit entry
    t.equal(last[route], before[route], `back on files: ${route}`);
  }
  await onFiles.close();
  const counts = await digests(await openStore(loadConfig({ DATA_DIR: backDir }, []), silentLogger).then(async (opened) => {
    t.teardown(() => opened.store.close());
    return opened;
  }));
  t.equal(counts.size, AGGREGATES.length);
});

t.test('a copy that cannot be whole says what differs and exits 1; bad flags are one line', async (t) => {
  const source = await tempDir(t);
  const server = await startTestServer(t, { dataDir: source });
  await server.stores.store.addCustomers([{ username: 'zeca', matricula: '77777777' }]);
  await server.close();
  const target = await tempDir(t);
  const other = await startTestServer(t, { dataDir: target });
  await other.stores.store.addCustomers([{ username: 'zeca', matricula: '88888888' }]);
  await other.close();
  const merged = await cli(['--dados', source, '--data-dir', target, '--mesclar']);
  t.equal(merged.code, 1);
  t.match(merged.out, /customers +6 [0-9a-f]{16} +6 [0-9a-f]{16}  0  DIFFERS: 1 not in the target as in the source/);
  t.match(merged.out, /NOT WHOLE/);
  for (const [argv, message] of [
    [['--dados', source, '--data-dir', source], /is the target's own DATA_DIR/],
    [['--de-postgres', 'mysql://x'], /--de-postgres must be a postgres:\/\/ URL/],
    [['--de-schema', 'x', '--dados', source], /--de-schema names the schema of --de-postgres/],
    [['--mesclar', '--tarifas', 'x.csv', '--distribuidora', 'X'], /--mesclar goes with --dados or --de-postgres/],
    [['--dados'], /argument missing|requires/],
  ] as const) {
    const refused = await cli([...argv]);
    t.equal(refused.code, 1, argv.join(' '));
    t.match(refused.err, message);
    t.equal(refused.err.trim().split('\n').length, 1, 'one line');
  }
});
