/**
 * `npm run demo` twice on one directory (issue 27 §3): the second time the
 * meters continue from the registers the server holds, so no reading is
 * flagged `regressiva` and the spike raises its alert again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../database/postgres/embedded.js';
import t from 'tap';
import { parseCustomerFile } from '../../protocol/customer-format.js';
import { readFileSync } from 'node:fs';
import { silentLogger, tempDir } from '../helpers.js';
import { FileStore } from '../../database/file/file-store.js';
import { REGRESSIVE } from '../../domain/readings/quality.js';
import type { Test } from 'tap';

const DEMO = fileURLToPath(new URL('../../cli/demo.js', import.meta.url));
const CUSTOMERS = parseCustomerFile(readFileSync(fileURLToPath(new URL('../../../resources/clientes-exemplo.txt', import.meta.url)), 'utf8')).customers;
const PEAK = CUSTOMERS[CUSTOMERS.length - 1] as { matricula: string; username: string };


/** Runs the demo until its output shows the spiking meter in ALERT; stops it (as Ctrl-C does) and resolves its output. */
async function runUntilAlert(t: Test, dataDir: string, httpPort: number): Promise<string> {
  const udpPort = await freePort();
  const child: ChildProcess = spawn(process.execPath, [DEMO], { env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: String(httpPort), UDP_PORT: String(udpPort), MEDIDOR_PORTA_HTTP: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const alerted = new RegExp(`${PEAK.matricula} .*ALERT `);
  const deadline = Date.now() + 80_000;
  while (!alerted.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 250));
  child.kill('SIGINT');
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  return output;
}

t.test('the demo runs twice on one directory: meters continue, the spike alerts both times', { timeout: 180_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const httpPort = await freePort();
  const first = await runUntilAlert(t, dataDir, httpPort);
  t.match(first, new RegExp(`${PEAK.matricula} .*ALERT `), 'the first run alerts');
  const second = await runUntilAlert(t, dataDir, httpPort);
  t.match(second, new RegExp(`${PEAK.matricula} .*ALERT `), 'the second run alerts too');
  t.notMatch(second, /could not ask the server/, 'the meters asked the server for their registers');
  // The history of every meter goes only up: nothing the second run sent is regressiva.
  const store = await FileStore.open({ dataDir, logger: silentLogger });
  t.teardown(() => store.close());
  for (const { matricula } of CUSTOMERS) {
    const flagged: number[] = [];
    for await (const batch of store.history({ matricula, from: 0, to: Date.now() + 60_000 })) for (const reading of batch) if (((reading.quality ?? 0) & REGRESSIVE) !== 0) flagged.push(reading.timestamp);
    t.same(flagged, [], `${matricula}: no reading flagged regressiva`);
  }
});
