/**
 * Backups (issue 18): the file store backed up while a meter keeps sending
 * (a consistent prefix of every file), restored into a new DATA_DIR, and a
 * server on it answers every route as the original does; restores refuse
 * to overwrite or to take a damaged copy; PostgreSQL goes through pg_dump
 * when one new enough is installed, with a clear message otherwise.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { appendFile, lstat, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { execFileSync } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import t from 'tap';
import { startEmbeddedPostgres } from '../../database/postgres/embedded.js';
import { run } from '../../cli/backup.js';
import { parseLogLine } from '../../database/file/readings-log.js';
import { startTestServer, tempDir, until, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { testPostgres } from '../postgres.js';
import { billingReadyServer, send } from '../server/billing-fixtures.js';
import { answers, everyRouteAnswered, populate } from './installation-fixture.js';

const postgres = await testPostgres(t);

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { ...env }, { out: (text) => (out += text), err: (text) => (err += text) });
  return { code, out, err };
}

t.test('the file store backed up while a meter sends, restored into a new DATA_DIR: every route answers as on the original', async (t) => {
  const original = await billingReadyServer(t, { TZ_LEGADO: 'UTC' });
  const dataDir = (original.stores.description as { dataDir: string }).dataDir;
  const port = original.http.port;
  const { numero, commandId } = await populate(original);

  // A meter keeps sending while the backup is taken.
  const meter = createSocket('udp4');
  meter.bind(0, '127.0.0.1');
  await once(meter, 'listening');
  t.teardown(() => meter.close());
  let sending = true;
  let at = Date.now() - 600_000;
  let register = 1_300;
  const sender = (async () => {
    while (sending) {
      at += 200;
      register += 1;
      meter.send(`MEDICAO;13456789;${new Date(at).toISOString()};${register}`, original.udp.port, '127.0.0.1');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  await until('readings arriving', async () => (original.readings.ingest.counters.stored > 20 ? true : undefined));
  meter.send(`EVENTO;13456789;${new Date(Date.now() - 1000).toISOString()};violacao_tampa;tampa aberta`, original.udp.port, '127.0.0.1');
  await until('the event stored', async () => (original.commands.eventIntake.counters.stored === 1 ? true : undefined));
  const during = join(await tempDir(t), 'durante');
  const taken = await cli(['backup', '--destino', during, '--data-dir', dataDir]);
  t.equal(taken.code, 0, taken.err);
  t.match(taken.out, /backup written to .*durante: \d+ file\(s\)/);
  sending = false;
  await sender;

  // What was copied while the meter sent is a prefix of the log, cut at a whole line.
  const copied = await readFile(join(during, 'medicoes.log'), 'utf8');
  const now = await readFile(join(dataDir, 'medicoes.log'), 'utf8');
  t.ok(copied.endsWith('\n') && now.startsWith(copied), 'the copy of the readings log is a prefix of the log, whole lines only');
  t.ok(copied.split('\n').filter((line) => line !== '').every((line) => parseLogLine(line) !== undefined), 'every copied line reads back');
  const restoredDuring = await tempDir(t);
  t.equal((await cli(['restore', '--origem', during, '--data-dir', restoredDuring])).code, 0);
  const early = await startTestServer(t, { dataDir: restoredDuring, env: { DISTRIBUIDORA: 'TESTE-D', TZ_LEGADO: 'UTC' } });
  t.equal((await early.stores.store.stats()).readings, copied.split('\n').filter((line) => line !== '').length, 'a server on the restored copy loads every reading in it');
  await early.close();

  // Once the meter has stopped: a backup, restored, answers every route exactly as the original.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await until('the original to store what was sent', async () => (original.readings.ingest.pendingCount === 0 ? true : undefined));
  // The command went to the meter, which never answers: cancelled, it stops changing (each resend is an attempt recorded).
  t.equal((await send(port, 'DELETE', `/comandos/${commandId}`, undefined, { token: TEST_OPERATOR_TOKEN })).status, 200);
  const quiet = join(await tempDir(t), 'quieta');
  t.equal((await cli(['backup', '--destino', quiet, '--data-dir', dataDir])).code, 0);
  const manifest = JSON.parse(await readFile(join(quiet, 'copia.json'), 'utf8')) as { arquivos: Array<{ nome: string }> };
  for (const file of manifest.arquivos) t.equal((await stat(join(quiet, file.nome))).mode & 0o777, 0o600, `${file.nome} is its owner's alone`);
  for (const file of ['clientes.txt', 'medicoes.log', 'faturas.jsonl', 'comandos.jsonl', 'ocorrencias.jsonl', 'perfis.jsonl', 'tarifas.jsonl', 'faturamento.jsonl']) t.ok(manifest.arquivos.some((f) => f.nome === file), `${file} is in the backup`);
  const restoredDir = await tempDir(t);
  const restored = await cli(['restore', '--origem', quiet, '--data-dir', restoredDir]);
  t.equal(restored.code, 0, restored.err);
  const before = await answers(port, numero, commandId);
  await original.close();
  const copy = await startTestServer(t, { dataDir: restoredDir, env: { DISTRIBUIDORA: 'TESTE-D', TZ_LEGADO: 'UTC' } });
  const after = await answers(copy.http.port, numero, commandId);
  everyRouteAnswered(t, before);
  for (const route of Object.keys(before)) t.equal(after[route], before[route], route);

  // Refusals: no overwriting, no damaged copy, no DATA_DIR in use.
  t.match((await cli(['restore', '--origem', quiet, '--data-dir', restoredDir])).err, /in use by a running server|is not empty/, 'a DATA_DIR with a server on it is refused');
  await copy.close();
  t.match((await cli(['restore', '--origem', quiet, '--data-dir', restoredDir])).err, /is not empty/);
  t.match((await cli(['backup', '--destino', quiet, '--data-dir', dataDir])).err, /is not empty/);
  await appendFile(join(quiet, 'medicoes.log'), '2026-01-01T00:00:00.000Z;13456789;999999\n');
  t.match((await cli(['restore', '--origem', quiet, '--data-dir', join(await tempDir(t), 'novo')])).err, /medicoes\.log does not match its checksum/, 'a changed file is caught');
  await writeFile(join(quiet, 'copia.json'), '{');
  t.match((await cli(['restore', '--origem', quiet, '--data-dir', join(await tempDir(t), 'novo')])).err, /not a whole backup/);
  t.match((await cli(['backup'])).err, /--destino DIR is required/);
  t.equal((await cli(['copiar'])).code, 1);
});

t.test('backup and restore follow no symlink (regression, issue 26): a planted .tmp in the restore target, symlinks planted in the destination during a backup', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir });
  await server.stores.store.append(Array.from({ length: 2000 }, (_, i) => ({ matricula: String(10_000 + (i % 50)), timestamp: Date.UTC(2026, 10, 1) + i * 60_000, consumo: BigInt(i * 100) })));
  await server.close();
  const victim = join(await tempDir(t), 'vitima.txt');
  await writeFile(victim, 'intacto\n');
  const copy = join(await tempDir(t), 'copia');
  t.equal((await cli(['backup', '--destino', copy, '--data-dir', dataDir])).code, 0);

  // Once, a restore whose target held only clientes.txt.tmp -> victim wrote the customers over the victim.
  const target = await tempDir(t);
  await symlink(victim, join(target, 'clientes.txt.tmp'));
  const refused = await cli(['restore', '--origem', copy, '--data-dir', target]);
  t.match(refused.err, /is not empty \(clientes\.txt\.tmp\)/, 'a temporary file counts: the target is not empty');
  const linked = join(await tempDir(t), 'ligado');
  await symlink(await tempDir(t), linked);
  t.match((await cli(['backup', '--destino', linked, '--data-dir', dataDir])).err, /not a directory of its own/, 'a destination that is a symlink is refused');

  // Once, a symlink planted in the destination during a backup received the readings log.
  const destination = join(await tempDir(t), 'destino');
  let planting = true;
  const names = ['medicoes.log', 'medicoes.log.tmp', 'clientes.txt', 'clientes.txt.tmp', 'copia.json', 'senhas.txt.tmp'];
  const planter = (async () => {
    while (planting) {
      for (const name of names) await symlink(victim, join(destination, name)).catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const raced = await cli(['backup', '--destino', destination, '--data-dir', dataDir]);
  planting = false;
  await planter;
  t.equal(await readFile(victim, 'utf8'), 'intacto\n', `the victim is untouched (the backup ${raced.code === 0 ? 'finished' : `stopped: ${raced.err.trim()}`})`);
  if (raced.code === 0) {
    const manifest = JSON.parse(await readFile(join(destination, 'copia.json'), 'utf8')) as { arquivos: Array<{ nome: string }> };
    for (const file of manifest.arquivos) t.ok((await lstat(join(destination, file.nome))).isFile(), `${file.nome} is a file of its own`);
  }
});

t.test('PostgreSQL with no pg_dump new enough: the backup stops with one line saying what to install', async (t) => {
  const schema = postgres.schema(t);
  await startTestServer(t, { env: { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: schema } });
  const serverMajor = await majorOf(postgres.url);
  const toolMajor = pgDumpMajor();
  const taken = await cli(['backup', '--destino', join(await tempDir(t), 'pg'), '--storage', 'postgres', '--database-url', postgres.url, '--pg-schema', schema]);
  t.notMatch(taken.err, /consumo-local/, 'never the password');
  if (toolMajor === 0) t.same([taken.code, taken.err], [1, "backup: pg_dump was not found: install PostgreSQL's client tools (Debian: apt-get install postgresql-client) of the server's version or newer\n"]);
  else if (toolMajor < serverMajor) t.same([taken.code, taken.err], [1, `backup: pg_dump ${toolMajor} cannot work with PostgreSQL ${serverMajor}: install postgresql-client ${serverMajor} or newer\n`], 'names both versions');
  else t.equal(taken.code, 0, `pg_dump ${toolMajor} dumps PostgreSQL ${serverMajor}`);
});

t.test('PostgreSQL 15 (as old as Debian\'s pg_dump): backed up with pg_dump, restored with pg_restore, every route answers as before', { skip: pgDumpMajor() === 0 ? 'pg_dump is not installed (Debian: apt-get install postgresql-client)' : false }, async (t) => {
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres(join(dir, 'pg'), 15);
  t.teardown(() => embedded.stop());
  t.ok(pgDumpMajor() >= (await majorOf(embedded.url)), 'pg_dump is as new as the server');
  const env = { STORAGE: 'postgres', DATABASE_URL: embedded.url, PG_SCHEMA: 'consumo_copia', TZ_LEGADO: 'UTC' };
  const original = await billingReadyServer(t, env);
  const { numero, commandId } = await populate(original);
  const settings = ['--storage', 'postgres', '--database-url', embedded.url, '--pg-schema', 'consumo_copia'];
  const destination = join(dir, 'copia');
  const taken = await cli(['backup', '--destino', destination, ...settings]);
  t.equal(taken.code, 0, taken.err);
  t.match(taken.out, /1 file\(s\), \d+ bytes \(postgres/);
  t.equal((await stat(join(destination, 'banco.dump'))).mode & 0o777, 0o600, 'the dump is its owner\'s alone');
  const before = await answers(original.http.port, numero, commandId);
  everyRouteAnswered(t, before);
  await original.close();
  t.match((await cli(['restore', '--origem', destination, ...settings])).err, /schema consumo_copia already holds \d+ tables or other objects/, 'never over a schema with data');
  const admin = new pg.Client({ connectionString: embedded.url });
  await admin.connect();
  await admin.query('ALTER SCHEMA consumo_copia RENAME TO consumo_antes');
  await admin.end();
  const restored = await cli(['restore', '--origem', destination, ...settings]);
  t.equal(restored.code, 0, restored.err);
  const copy = await startTestServer(t, { env: { ...env, DISTRIBUIDORA: 'TESTE-D' } });
  const after = await answers(copy.http.port, numero, commandId);
  for (const route of Object.keys(before)) t.equal(after[route], before[route], route);
  await copy.close();

  // Into a new database, as documented (regression, issue 27): PG_SCHEMA is honoured, and the empty public schema every new database has is no obstacle.
  const creator = new pg.Client({ connectionString: embedded.url });
  await creator.connect();
  await creator.query('CREATE DATABASE nova_publica');
  await creator.query('CREATE DATABASE nova_outra');
  await creator.end();
  for (const [database, schema] of [['nova_publica', 'public'], ['nova_outra', 'consumo_outro']] as const) {
    const url = embedded.url.replace(/\/[^/]*$/, `/${database}`);
    const into = ['--storage', 'postgres', '--database-url', url, '--pg-schema', schema];
    const restoredNew = await cli(['restore', '--origem', destination, ...into]);
    t.equal(restoredNew.code, 0, `${database}, schema ${schema}: ${restoredNew.err}`);
    t.match(restoredNew.out, `into schema ${schema}`);
    const there = await startTestServer(t, { env: { ...env, DATABASE_URL: url, PG_SCHEMA: schema, DISTRIBUIDORA: 'TESTE-D' } });
    const answered = await answers(there.http.port, numero, commandId);
    for (const route of Object.keys(before)) t.equal(answered[route], before[route], `${database}.${schema}: ${route}`);
    await there.close();
    t.match((await cli(['restore', '--origem', destination, ...into])).err, new RegExp(`schema ${schema} already holds`), 'and never twice');
  }
});

async function majorOf(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Math.floor(Number((await client.query('SHOW server_version_num')).rows[0].server_version_num) / 10_000);
  } finally {
    await client.end();
  }
}

function pgDumpMajor(): number {
  try {
    return Number(/(\d+)/.exec(execFileSync('pg_dump', ['--version'], { encoding: 'utf8' }))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
