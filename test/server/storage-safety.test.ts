/**
 * Storage and configuration safety, as attacks that once worked: two
 * servers on one DATA_DIR, symlinked data files, a huge customers line,
 * secrets echoed in errors. Real processes and files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, open, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FileStore, LOCK_FILE, READINGS_FILE, CUSTOMERS_FILE } from '../../database/file/file-store.js';
import { silentLogger, tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));
const ROUNDS = Number(process.env.LOCK_ROUNDS ?? 4);

/** Starts a server process; resolves with how it ended (or 'running' once it logged its start). */
function startServer(dataDir: string): { result: Promise<{ state: 'running' | 'exited'; stderr: string }>; kill(): void } {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0', UDP_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<{ state: 'running' | 'exited'; stderr: string }>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('consumo-inteligente started')) resolve({ state: 'running', stderr });
    });
    child.on('exit', () => resolve({ state: 'exited', stderr }));
  });
  return { result, kill: () => child.kill('SIGKILL') };
}

t.test(`two servers started together on one DATA_DIR with a stale lock: exactly one runs, in each of ${ROUNDS} rounds`, async (t) => {
  const dataDir = await tempDir(t);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  for (let round = 0; round < ROUNDS; round++) {
    await writeFile(join(dataDir, LOCK_FILE), `${dead}\n`);
    const servers = [startServer(dataDir), startServer(dataDir)];
    const results = await Promise.all(servers.map((server) => server.result));
    for (const server of servers) server.kill();
    const running = results.filter((result) => result.state === 'running');
    t.equal(running.length, 1, `round ${round}: exactly one server runs`);
    const refused = results.find((result) => result.state === 'exited');
    t.match(refused?.stderr.trim(), /^consumo-inteligente: cannot open the storage \(DATA_DIR .*\): .* belongs to (running process \d+|another running process); stop it first or use another DATA_DIR$/, 'the other says why in one line');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

t.test('data files are created readable by the owner only, the directory too; symlinks are not followed', async (t) => {
  const parent = await tempDir(t);
  const dataDir = join(parent, 'dados');
  const store = await FileStore.open({ dataDir, logger: silentLogger });
  await store.addCustomers([{ username: 'ana', matricula: '1' }]);
  await store.setPasswordHash('1', 'scrypt$x');
  await store.append([{ matricula: '1', timestamp: Date.now() - 1000, consumo: 1n }]);
  t.equal((await stat(dataDir)).mode & 0o777, 0o700);
  for (const file of [READINGS_FILE, CUSTOMERS_FILE, 'senhas.txt', LOCK_FILE]) t.equal((await stat(join(dataDir, file))).mode & 0o777, 0o600, file);
  await store.close();

  for (const planted of [READINGS_FILE, LOCK_FILE]) {
    const dir = await tempDir(t);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'do not touch\n');
    await symlink(victim, join(dir, planted));
    await t.rejects(FileStore.open({ dataDir: dir, logger: silentLogger }), { name: 'StoreError' }, `${planted} as a symlink is refused`);
    t.equal(await readFile(victim, 'utf8'), 'do not touch\n', 'the file it points to is untouched');
  }
});

t.test('a clientes.txt line over 512 MB: one-line warning, the other customers load, no crash', async (t) => {
  const dataDir = await tempDir(t);
  const path = join(dataDir, CUSTOMERS_FILE);
  const handle = await open(path, 'w');
  await handle.write('ana;1\n');
  const block = Buffer.alloc(16 * 1024 * 1024, 0x61);
  for (let written = 0; written < 520 * 1024 * 1024; written += block.length) await handle.write(block);
  await handle.write(';2\nbia;3\n');
  await handle.close();
  const store = await FileStore.open({ dataDir, logger: silentLogger });
  t.same(await store.findCustomers({}), [{ username: 'ana', matricula: '1' }, { username: 'bia', matricula: '3' }]);
  await store.close();
});

t.test('an unreadable data file stops start-up with one line, no stack trace', async (t) => {
  const dataDir = await tempDir(t);
  await mkdir(join(dataDir, CUSTOMERS_FILE));
  const result = spawnSync(process.execPath, [MAIN], { env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0', UDP_PORT: '0' }, encoding: 'utf8' });
  t.equal(result.status, 1);
  t.match(result.stderr, /^consumo-inteligente: cannot open the storage \(DATA_DIR .*\): .*\n$/);
  t.equal(result.stderr.split('\n').length, 2, 'one line');
});

t.test('secrets are never echoed in a setting error', async (t) => {
  const dataDir = await tempDir(t);
  const cases = [
    { API_SEGREDO: 'segredo-curto-demais-xyz' },
    { API_TOKEN_ADMIN: 'curto demais e com espacos segredo-xyz' },
    { STORAGE: 'postgres', DATABASE_URL: 'mysql://usuario:segredo-xyz@host/db' },
  ];
  for (const env of cases) {
    const result = spawnSync(process.execPath, [MAIN], { env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0', UDP_PORT: '0', ...env }, encoding: 'utf8' });
    t.equal(result.status, 1);
    t.match(result.stderr, /^consumo-inteligente: invalid setting (API_SEGREDO|API_TOKEN_ADMIN|DATABASE_URL): /);
    t.notMatch(result.stderr, /segredo-xyz|segredo-curto/, `${Object.keys(env).join(',')}: the value is not in the message`);
  }
});
