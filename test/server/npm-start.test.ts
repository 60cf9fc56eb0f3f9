/**
 * Stopping what `npm start` started, by npm's PID (regression, issue 27):
 * `kill -TERM <npm's pid>` once ended npm and left the server running as an
 * orphan. The server notices npm is gone and stops as on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../database/postgres/embedded.js';
import t from 'tap';
import { tempDir, until } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));


const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test("kill -TERM of npm's PID stops the server npm start started", async (t) => {
  const dataDir = await tempDir(t);
  const httpPort = await freePort();
  const npm = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: String(httpPort), UDP_PORT: '0', LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  let serverPid: number | undefined;
  t.teardown(() => {
    if (npm.exitCode === null) npm.kill('SIGKILL');
    if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
  });
  serverPid = await until('the server answering', async () => {
    const answer = await fetch(`http://127.0.0.1:${httpPort}/saude`).then((r) => r.json() as Promise<{ servidor?: { pid?: number } }>, () => undefined);
    return answer?.servidor?.pid;
  }, 60_000);
  t.not(serverPid, npm.pid, 'the server is a process of its own under npm');
  process.kill(npm.pid as number, 'SIGTERM');
  await until('the server gone', async () => (alive(serverPid as number) ? undefined : true), 15_000);
  t.notOk(alive(serverPid as number), 'no orphan left');
});
