/**
 * `npm run start:postgres` (issue 27 §5): the server on a PostgreSQL of its
 * own kept under DATA_DIR, in one command; what it stores survives a
 * restart on the same URL, another server joins with the URL it wrote, and
 * stopping it stops PostgreSQL too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../database/postgres/embedded.js';
import t, { type Test } from 'tap';
import { PLAIN_NODE, startTestServer, tempDir, until } from '../helpers.js';
import { send } from './billing-fixtures.js';

const MAIN = fileURLToPath(new URL('../../server/postgres-main.js', import.meta.url));


const accepting = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

async function start(t: Test, dataDir: string, httpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN], { ...PLAIN_NODE, env: { ...PLAIN_NODE.env, DATA_DIR: dataDir, HTTP_PORT: String(httpPort), UDP_PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await until('the server on its own PostgreSQL', async () => {
    const health = await fetch(`http://127.0.0.1:${httpPort}/saude`).then((r) => r.json() as Promise<{ banco?: { tipo?: string } }>, () => undefined);
    return health?.banco?.tipo === 'postgres' ? true : undefined;
  }, 90_000);
  return child;
}

t.test('the README shows the commands this test runs', async (t) => {
  const readme = await readFile(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  t.match(readme, '```sh\nnpm run start:postgres\n```', 'the one command');
  t.match(readme, 'STORAGE=postgres DATABASE_URL="$(cat data/postgres/url)" HTTP_PORT=50001 UDP_PORT=60001 npm start', 'and how another server joins (below, with the URL file)');
});

t.test('one command: PostgreSQL under DATA_DIR, data kept across restarts, another server joins by the URL, both stop together', { timeout: 240_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const httpPort = await freePort();
  let server = await start(t, dataDir, httpPort);
  const url = (await readFile(join(dataDir, 'postgres', 'url'), 'utf8')).trim();
  t.match(url, /^postgres:\/\/postgres:[0-9a-f]{32}@127\.0\.0\.1:\d+\/postgres$/, 'a URL with a password of its own');
  t.equal((await stat(join(dataDir, 'postgres', 'url'))).mode & 0o777, 0o600, 'readable by its owner only');
  const token = (await readFile(join(dataDir, 'token-operador'), 'utf8')).trim();
  const created = await send(httpPort, 'POST', '/clientes', { username: 'joana', matricula: '424242' }, { token });
  t.equal(created.status, 201, JSON.stringify(created.json));

  // Another server joins with the URL it wrote: the same customers.
  const other = await startTestServer(t, { env: { STORAGE: 'postgres', DATABASE_URL: url } });
  t.equal((await send(other.http.port, 'GET', '/validacao-usuario?username=joana')).status, 200, 'another server on the same database sees the customer');
  await other.close();

  const pgPort = Number(new URL(url).port);
  server.kill('SIGTERM');
  const [code] = await once(server, 'exit');
  t.equal(code, 0, 'stopped cleanly');
  t.notOk(await accepting(pgPort), 'PostgreSQL stopped with it');

  server = await start(t, dataDir, httpPort);
  t.equal((await readFile(join(dataDir, 'postgres', 'url'), 'utf8')).trim(), url, 'the same URL after a restart');
  t.equal((await send(httpPort, 'GET', '/validacao-usuario?username=joana')).status, 200, 'what it stored is still there');
  server.kill('SIGTERM');
  await once(server, 'exit');
  t.notOk(await accepting(pgPort));
});

t.test('a DATABASE_URL of the reader\'s own is refused in one line', async (t) => {
  const child = spawn(process.execPath, [MAIN], { ...PLAIN_NODE, env: { ...PLAIN_NODE.env, DATA_DIR: await tempDir(t), DATABASE_URL: 'postgres://x@localhost/y' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const [code] = await once(child, 'exit');
  t.equal(code, 1);
  t.match(err, /^consumo-inteligente: DATABASE_URL is set: npm run start:postgres runs a PostgreSQL of its own/);
  t.equal(err.trim().split('\n').length, 1);
});
