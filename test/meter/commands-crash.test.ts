/**
 * A command accepted with 202 survives a server killed with -9 (issue 16):
 * the server process is killed after answering, started again on the same
 * data, and the command still reaches the meter and completes.
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { tempDir, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { send } from '../server/billing-fixtures.js';
import { spawnServer } from '../server/server-process.js';
import { relay, startMeter } from './meter-processes.js';

const KEYED = '13456789';

t.test('kill -9 after 202: the command completes after the restart', async (t) => {
  const dataDir = await tempDir(t);
  const keysFile = join(dataDir, 'chaves-medidores.txt');
  await writeFile(keysFile, `${KEYED};${'4d'.repeat(32)}\n`);
  const env = { CHAVES_MEDIDORES: keysFile, CLIENTES_EXEMPLO: 'sim' };
  let server = await spawnServer(t, dataDir, env);
  let down = false;
  // The meter keeps one address; the relay forwards to whichever server process is up.
  const path = await relay(t, () => server.udpPort, () => down);
  const meter = startMeter(t, ['--matricula', KEYED, '--porta', String(path.port), '--chaves', keysFile, '--intervalo-incremento', '0.02', '--intervalo-envio', '0.2', '--estado', join(dataDir, 'medidor'), '--log-level', 'silent']);
  await meter.until((s) => s.acknowledged >= 3);
  down = true; // the command cannot reach the meter before the crash
  const accepted = await send(server.httpPort, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte' }, { token: TEST_OPERATOR_TOKEN });
  t.equal(accepted.status, 202);
  const id = (accepted.json as { id: string }).id;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const exited = once(server.child, 'exit');
  server.child.kill('SIGKILL');
  await exited;
  server = await spawnServer(t, dataDir, env);
  down = false;
  let state = '';
  for (let i = 0; i < 300 && state !== 'executado'; i++) {
    state = ((await send(server.httpPort, 'GET', `/comandos/${id}`)).json as { estado: string }).estado;
    if (state !== 'executado') await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.equal(state, 'executado', 'delivered and executed by the restarted server');
  const stats = await meter.until((s) => s.commandsExecuted === 1);
  t.equal(stats.commandsExecuted, 1, 'executed once');
  let supply = '';
  for (let i = 0; i < 100 && supply !== 'cortado'; i++) {
    supply = ((await send(server.httpPort, 'GET', `/medidores/${KEYED}`)).json as { fornecimento: string }).fornecimento;
    if (supply !== 'cortado') await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.equal(supply, 'cortado', 'and the meter reported its cut');
  await meter.stop();
  const stopped = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await stopped;
});

t.test("a meter keeps its supply, limit and executed commands across its own restart", async (t) => {
  const dataDir = await tempDir(t);
  const keysFile = join(dataDir, 'chaves-medidores.txt');
  await writeFile(keysFile, `${KEYED};${'4d'.repeat(32)}\n`);
  const server = await spawnServer(t, dataDir, { CHAVES_MEDIDORES: keysFile, CLIENTES_EXEMPLO: 'sim' });
  const args = ['--matricula', KEYED, '--porta', String(server.udpPort), '--chaves', keysFile, '--intervalo-incremento', '0.02', '--intervalo-envio', '0.2', '--estado', join(dataDir, 'medidor'), '--log-level', 'silent'];
  const first = startMeter(t, args);
  await first.until((s) => s.acknowledged >= 2);
  const limit = await send(server.httpPort, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'limite_demanda', parametros: { kw: '1.5' } }, { token: TEST_OPERATOR_TOKEN });
  const cut = await send(server.httpPort, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte' }, { token: TEST_OPERATOR_TOKEN });
  await first.until((s) => s.commandsExecuted === 2);
  await first.stop();
  const second = startMeter(t, args);
  await second.until((s) => s.acknowledged >= 4);
  const readings = ((await send(server.httpPort, 'GET', `/medicoes?matricula=${KEYED}&limite=4`)).json as { medicoes: Array<{ consumo: number }> }).medicoes;
  t.equal(new Set(readings.map((r) => r.consumo)).size, 1, 'still cut after the restart: the register stays');
  t.equal(((await send(server.httpPort, 'GET', `/comandos/${(limit.json as { id: string }).id}`)).json as { estado: string }).estado, 'executado');
  t.equal(((await send(server.httpPort, 'GET', `/comandos/${(cut.json as { id: string }).id}`)).json as { estado: string }).estado, 'executado');
  const { final } = await second.stop();
  t.equal(final?.commandsExecuted, 0, 'nothing executed again');
  const stopped = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await stopped;
});
