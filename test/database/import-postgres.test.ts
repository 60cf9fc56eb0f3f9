/** The import command with PostgreSQL as the target: a flat-file DATA_DIR copied, the original's files imported. */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FileStore } from '../../database/file/file-store.js';
import { call, comparableBody, silentLogger, startTestServer, tempDir } from '../helpers.js';
import { testPostgres } from '../postgres.js';

const IMPORT = fileURLToPath(new URL('../../cli/import.js', import.meta.url));
const postgres = await testPostgres(t);

t.test('a flat-file DATA_DIR moves into PostgreSQL, once, and answers the same', async (t) => {
  const dataDir = await tempDir(t);
  const files = await FileStore.open({ dataDir, logger: silentLogger });
  await files.addCustomers([{ username: 'amancio123', matricula: '13456789' }, { username: 'dani', matricula: '09812389' }]);
  const base = Date.UTC(2026, 10, 20, 12);
  await files.append(
    Array.from({ length: 25_000 }, (_, i) => ({ matricula: i % 2 === 0 ? '13456789' : '09812389', timestamp: base + i * 1000, consumo: BigInt(i) * 500n })),
  );
  await files.close();
  const env = { ...process.env, STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: postgres.schema(t) };
  const copy = spawnSync(process.execPath, [IMPORT, '--dados', dataDir], { env, encoding: 'utf8' });
  t.equal(copy.status, 0, copy.stderr);
  t.match(copy.stdout, /\n  customers +2 [0-9a-f]{16} +2 [0-9a-f]{16}  2\n/);
  t.match(copy.stdout, /\n  readings +25000 ([0-9a-f]{16}) +25000 \1  25000\n/);
  const again = spawnSync(process.execPath, [IMPORT, '--dados', dataDir], { env, encoding: 'utf8' });
  t.equal(again.status, 1, 'a second copy into the same schema is refused: nothing is stored twice');

  const fromFiles = await startTestServer(t, { dataDir });
  const fromPostgres = await startTestServer(t, { env: { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: env.PG_SCHEMA } });
  for (const route of ['/validacao-usuario?username=dani', '/medicoes/ultima-medicao?matricula=13456789', '/gerar-fatura?matricula=09812389', '/alerta-consumo?matricula=13456789']) {
    t.equal(comparableBody((await call(fromPostgres.http.port, 'GET', route)).body), comparableBody((await call(fromFiles.http.port, 'GET', route)).body), route);
  }
});

t.test('the original files import into PostgreSQL', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'medicoes.txt'), '05-03-2023 16:00:00;13456789;1350\n05-03-2023 15:00:00;13456789;1302\n');
  await writeFile(join(dir, 'dados_clientes.txt'), 'amancio123;13456789\n');
  const schema = postgres.schema(t);
  const result = spawnSync(process.execPath, [IMPORT, '--clientes', join(dir, 'dados_clientes.txt'), '--medicoes', join(dir, 'medicoes.txt'), '--storage', 'postgres', '--tz-legado', 'UTC'], {
    env: { ...process.env, DATABASE_URL: postgres.url, PG_SCHEMA: schema },
    encoding: 'utf8',
  });
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, `imported into PostgreSQL`);
  const { rows } = await postgres.queryIn(schema, 'SELECT matricula, data_hora, consumo::text AS consumo FROM medicoes ORDER BY data_hora');
  t.same(rows, [
    { matricula: '13456789', data_hora: new Date('2023-03-05T15:00:00Z'), consumo: '1302.000' },
    { matricula: '13456789', data_hora: new Date('2023-03-05T16:00:00Z'), consumo: '1350.000' },
  ]);
});

t.test('import errors are one line: bad settings, unreachable database', async (t) => {
  const noUrl = spawnSync(process.execPath, [IMPORT, '--dados', '/tmp', '--storage', 'postgres'], { env: { ...process.env, DATABASE_URL: '' }, encoding: 'utf8' });
  t.equal(noUrl.status, 1);
  t.match(noUrl.stderr, /^import: invalid setting DATABASE_URL: required with STORAGE=postgres/);
  t.equal(noUrl.stderr.trim().split('\n').length, 1);
});
