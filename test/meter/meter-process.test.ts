/**
 * Simulated meters as users run them: real processes, a real server, and a
 * lossy UDP relay of the test's own in between.
 */
import { fork, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { lossyRelay, startMeter } from './meter-processes.js';
import { PLAIN_NODE, startTestServer, tempDir } from '../helpers.js';

const METER = fileURLToPath(new URL('../../cli/meter.js', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../../cli/launcher.js', import.meta.url));
const FAST = ['--intervalo-incremento', '0.02', '--intervalo-envio', '0.1', '--log-level', 'silent'];

/** The readings of one matricula in the server's log, in log order. */
async function loggedReadings(dataDir: string, matricula: string): Promise<Array<{ timestamp: number; consumo: number }>> {
  const log = await readFile(join(dataDir, 'medicoes.log'), 'utf8');
  return log
    .split('\n')
    .filter((line) => line.split(';')[1] === matricula)
    .map((line) => {
      const [time, , consumo] = line.split(';') as [string, string, string];
      return { timestamp: Date.parse(time), consumo: Number(consumo) };
    });
}

function checkStoredOnceInOrder(t: Test, readings: Array<{ timestamp: number; consumo: number }>, produced: number): void {
  t.equal(readings.length, produced, 'every reading the meter produced is stored');
  t.equal(new Set(readings.map((r) => r.timestamp)).size, readings.length, 'each exactly once');
  t.ok(readings.every((r, i) => i === 0 || (r.timestamp > readings[i - 1]!.timestamp && r.consumo >= readings[i - 1]!.consumo)), 'in order; the register only grows');
}

t.test('a meter process against a real server: readings arrive, the register grows, ACKs empty the buffer', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir });
  const meter = startMeter(t, ['--matricula', '09812389', '--porta', String(server.udp.port), '--inicial', '1000.5', ...FAST]);
  await meter.until((stats) => stats.acknowledged >= 20);
  const { code, final } = await meter.stop();
  t.equal(code, 0, 'SIGTERM: exit 0');
  t.equal(final?.pending, 0, 'the final send was acknowledged: nothing left');
  t.equal(final?.dropped, 0);
  const readings = await loggedReadings(dataDir, '09812389');
  checkStoredOnceInOrder(t, readings, final!.produced);
  t.ok(readings[0]!.consumo >= 1000.5, 'starts from --inicial');
});

t.test('a meter given its key signs every reading: a server that requires signatures stores them all', async (t) => {
  const dataDir = await tempDir(t);
  const keysFile = join(dataDir, 'chaves-medidores.txt');
  await writeFile(keysFile, `09812389;${'5a'.repeat(32)}\n`);
  const server = await startTestServer(t, { dataDir, env: { AUTENTICACAO_MEDIDORES: 'obrigatoria' } });
  const meter = startMeter(t, ['--matricula', '09812389', '--porta', String(server.udp.port), '--chaves', keysFile, ...FAST]);
  await meter.until((stats) => stats.acknowledged >= 10);
  const { final } = await meter.stop();
  t.equal(final?.pending, 0);
  t.equal(server.readings.ingest.counters.unauthenticated, 0, 'no reading was refused');
  checkStoredOnceInOrder(t, await loggedReadings(dataDir, '09812389'), final!.produced);
});

t.test('loss and an outage between meter and server lose no reading', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir });
  let mode: 'lossy' | 'down' | 'healed' = 'lossy';
  const relayPort = await lossyRelay(t, server.udp.port, () => (mode === 'down' ? true : mode === 'lossy' ? Math.random() < 0.3 : false));
  const meter = startMeter(t, ['--matricula', '13456789', '--porta', String(relayPort), ...FAST]);
  await meter.until((stats) => stats.produced >= 30);
  mode = 'down';
  const before = meter.latest()!.produced;
  await meter.until((stats) => stats.produced >= before + 25 && stats.pending >= 25);
  mode = 'healed';
  await meter.until((stats) => stats.pending <= 1 && stats.produced >= before + 40);
  const { code, final } = await meter.stop();
  t.equal(code, 0);
  t.equal(final?.pending, 0);
  t.equal(final?.dropped, 0);
  checkStoredOnceInOrder(t, await loggedReadings(dataDir, '13456789'), final!.produced);
});

t.test('regression: losing the first datagram of a backlog loses no reading (cumulative ACKs)', async (t) => {
  // With several datagrams per send, a backlog's later datagram could be stored while the
  // first was lost; its ACK then covered the lost readings for good.
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir });
  let mode: 'down' | 'drop-one' | 'up' = 'up';
  const relayPort = await lossyRelay(t, server.udp.port, () => {
    if (mode === 'down') return true;
    if (mode === 'drop-one') {
      mode = 'up';
      return true;
    }
    return false;
  });
  const meter = startMeter(t, ['--matricula', '77', '--porta', String(relayPort), ...FAST]);
  await meter.until((stats) => stats.acknowledged >= 5);
  mode = 'down';
  await meter.until((stats) => stats.pending >= 80, 20_000);
  mode = 'drop-one';
  await meter.until((stats) => stats.pending <= 1, 20_000);
  const { final } = await meter.stop();
  t.equal(final?.pending, 0);
  checkStoredOnceInOrder(t, await loggedReadings(dataDir, '77'), final!.produced);
});

t.test('a full buffer during an outage drops the oldest and says so', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir });
  let down = true;
  const relayPort = await lossyRelay(t, server.udp.port, () => down);
  const meter = startMeter(t, ['--matricula', '5', '--porta', String(relayPort), '--max-pendentes', '10', ...FAST]);
  await meter.until((stats) => stats.dropped >= 5);
  down = false;
  await meter.until((stats) => stats.pending <= 1);
  const { final } = await meter.stop();
  const stored = await loggedReadings(dataDir, '5');
  t.equal(stored.length, final!.produced - final!.dropped, 'all but the dropped are stored');
});

function childrenOf(pid: number): Promise<number[]> {
  return readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').then(
    (text) => text.trim().split(/\s+/).filter(Boolean).map(Number),
    () => [],
  );
}

/**
 * Whether `pid` is still running. An exited child whose parent died waits as
 * a zombie until PID 1 reaps it, and some container inits are slow to: a
 * zombie runs nothing, so it counts as gone.
 */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

t.test('the launcher: N processes report; Ctrl-C stops them all, no orphan left', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir });
  const launcher = spawn(process.execPath, [LAUNCHER, '--quantidade', '6', '--por-processo', '2', '--matricula-inicial', '00000100', '--porta', String(server.udp.port), ...FAST], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => launcher.kill('SIGKILL'));
  let output = '';
  launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(async () => (await childrenOf(launcher.pid!)).length === 3, 10_000, '3 meter processes');
  const pids = await childrenOf(launcher.pid!);
  await waitFor(async () => (await server.stores.store.stats()).meters === 6, 10_000, 'readings from all 6 meters');
  for (const matricula of ['00000100', '00000103', '00000105']) t.ok((await server.stores.store.recentReadings(matricula, 1)).length === 1, matricula);
  const exited = once(launcher, 'exit');
  launcher.kill('SIGINT');
  const [code] = await exited;
  t.equal(code, 0);
  t.match(output, /meters: done \| processes alive 0\/3 \| meters reporting 6\/6/);
  t.match(output, /pending 0, dropped 0/);
  t.same(pids.filter(alive), [], 'every child is gone');
});

t.test('a child that dies is reported, not restarted; kill -9 of the launcher leaves no orphan', async (t) => {
  const server = await startTestServer(t);
  const launcher = spawn(process.execPath, [LAUNCHER, '--quantidade', '3', '--porta', String(server.udp.port), ...FAST], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => launcher.kill('SIGKILL'));
  let output = '';
  launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  launcher.stdout.on('data', () => undefined);
  await waitFor(async () => (await childrenOf(launcher.pid!)).length === 3, 10_000, '3 meter processes');
  const [victim, ...others] = await childrenOf(launcher.pid!);
  process.kill(victim!, 'SIGKILL');
  await waitFor(() => /ended \(SIGKILL\); not restarted/.test(output), 5000, 'the launcher to report the death');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.same(await childrenOf(launcher.pid!), others, 'not restarted');
  launcher.kill('SIGKILL');
  // Each makes one last send and waits up to FINAL_ACK_WAIT_MS for its ACK first; margin for a busy machine.
  const survivors = (): string => others.filter(alive).map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.slice(0, 1)}`).join(', ');
  await waitFor(() => others.every((pid) => !alive(pid)), 10_000, 'orphans to exit on their own').catch((error: Error) => {
    throw new Error(`${error.message}; still running (pid: state): ${survivors()}`);
  });
  t.pass('no orphan outlives the launcher');
});

t.test('a meter whose launcher disconnects right after spawning it exits instead of running on', async (t) => {
  const server = await startTestServer(t);
  const child = fork(METER, ['--matricula', '1', '--porta', String(server.udp.port), ...FAST], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], ...PLAIN_NODE });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  // As a launcher killed by kill -9 right after spawning: the channel closes before the meter listens for it.
  child.disconnect();
  await waitFor(() => !alive(child.pid as number), 10_000, 'the meter to exit');
  t.pass('exited on its own');
});

t.test('the launcher refuses bad options with one line before spawning anything', async (t) => {
  for (const [args, message] of [
    [['--quantidade', '0'], 'invalid option --quantidade'],
    [['--quantidade', '2', '--intervalo-envio', '-1'], 'intervalo-envio'],
    [['--quantidade', '2', '--matricula', '1'], 'the launcher assigns matriculas'],
    [['--clientes', '/nonexistent/clientes.txt'], 'invalid option --clientes'],
  ] as const) {
    const child = spawn(process.execPath, [LAUNCHER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    t.equal(code, 1, args.join(' '));
    t.match(stderr.split('\n')[0], message, args.join(' '));
    t.equal(stderr.trim().split('\n').length, 1, 'one line');
  }
});

t.test('regression (issue 27): a meter whose server is down says so in one line, not a stack trace per datagram', async (t) => {
  const closed = createSocket('udp4');
  closed.bind(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as { port: number }).port;
  closed.close(); // nothing listens there now: every datagram draws ECONNREFUSED
  const meter = spawn(process.execPath, [METER, '--matricula', '13456789', '--porta', String(port), '--intervalo-incremento', '0.02', '--intervalo-envio', '0.05', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'], ...PLAIN_NODE });
  t.teardown(() => {
    if (meter.exitCode === null) meter.kill('SIGKILL');
  });
  let stderr = '';
  meter.stdout?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  meter.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // The outage is told once the first datagram is refused (however long a loaded machine takes to start the meter);
  // then about 40 more are sent and refused before the meter is stopped.
  for (const deadline = Date.now() + 30_000; !stderr.includes('ECONNREFUSED') && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  meter.kill('SIGTERM');
  await once(meter, 'exit');
  const lines = stderr.split('\n').filter((line) => line !== '');
  t.ok(lines.some((line) => line.includes('unreachable (ECONNREFUSED)')), 'the outage is told');
  t.equal(lines.filter((line) => line.includes('ECONNREFUSED')).length, 1, `once, for about 60 datagrams refused (${lines.length} lines in all)`);
  t.notMatch(stderr, /"stack"|\n\s+at /, 'no stack trace');
});
