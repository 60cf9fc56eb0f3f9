/** The server as users run it, a real process (`node build/server/main.js`), for tests that stop or kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { TEST_OPERATOR_TOKEN } from '../helpers.js';

export const MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly udpPort: number;
  readonly logs: () => string;
}

export async function spawnServer(t: Test, dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HTTP_PORT: '0', UDP_PORT: '0', DATA_DIR: dataDir, TZ_LEGADO: 'America/Sao_Paulo', API_TOKEN_ADMIN: TEST_OPERATOR_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = new Promise<{ http: string; udp: string }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (line.includes('"consumo-inteligente started"')) resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  const { http, udp } = await started;
  return { child, httpPort: Number(http.split(':')[1]), udpPort: Number(udp.split(':')[1]), logs: () => output };
}

