/**
 * Meter authenticity end to end: a keys file in DATA_DIR, signed readings
 * over real UDP, the two AUTENTICACAO_MEDIDORES modes, replays, and a
 * simulated meter process that signs.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { signLine } from '../../protocol/meter-auth.js';
import { readingLine, recentTimestamps, startTestServer, tempDir, udpClient } from '../helpers.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
const OTHER_KEY = Buffer.alloc(32, 7);
const MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));

async function serverWithKeys(t: Test, mode: 'opcional' | 'obrigatoria') {
  const dataDir = await tempDir(t);
  await writeFile(join(dataDir, 'chaves-medidores.txt'), `# matricula;chave\n13456789;${KEY.toString('hex')}\n`);
  const server = await startTestServer(t, { dataDir, env: { AUTENTICACAO_MEDIDORES: mode } });
  return { server, meter: await udpClient(t, server.udp.port) };
}

t.test('obrigatoria: only readings signed with the meter\'s own key are stored and acknowledged', async (t) => {
  const { server, meter } = await serverWithKeys(t, 'obrigatoria');
  const [t1, t2, t3] = recentTimestamps(3) as [string, string, string];
  const signed = signLine(readingLine('13456789', t1, 10), KEY);
  t.equal(await meter.sendForAck(signed), signLine(`ACK;13456789;${t1}`, KEY));
  t.same(await meter.send(readingLine('13456789', t2, 11)), [], 'unsigned: no ACK');
  t.same(await meter.send(signLine(readingLine('13456789', t2, 11), OTHER_KEY)), [], 'another key: no ACK');
  const tampered = signLine(readingLine('13456789', t2, 11), KEY).replace(';11;', ';99;');
  t.same(await meter.send(tampered), [], 'tampered after signing: no ACK');
  t.same(await meter.send(signLine(readingLine('99999999', t2, 1), KEY)), [], 'a meter without a key: no ACK');
  t.same(await meter.send('{"matricula": 13456789, "consumo_atual": 1, "data_hora": "01-01-2026 00:00:00"}'), [], 'the original JSON cannot be signed');
  t.equal(server.readings.ingest.counters.unauthenticated, 5);
  t.equal(await meter.sendForAck(signLine(readingLine('13456789', t3, 12), KEY)), signLine(`ACK;13456789;${t3}`, KEY));
  const readings = (await server.stores.store.stats()).readings;
  t.equal(await meter.sendForAck(signed), signLine(`ACK;13456789;${t1}`, KEY), 'a replayed datagram is acknowledged as a copy of what is stored...');
  t.equal((await server.stores.store.stats()).readings, readings, '...and stores nothing new');
  t.same((await server.stores.store.recentReadings('13456789', 5)).map((r) => r.consumo), [12000n, 10000n]);
});

t.test('opcional: a meter with a key must sign; a meter without one may not', async (t) => {
  const { server, meter } = await serverWithKeys(t, 'opcional');
  const [t1] = recentTimestamps(1) as [string];
  t.same(await meter.send(readingLine('13456789', t1, 1)), [], 'keyed meter, unsigned: refused');
  t.equal(await meter.sendForAck(readingLine('55555555', t1, 1)), `ACK;55555555;${t1}`, 'unkeyed meter, unsigned: stored');
  t.equal(server.readings.ingest.counters.unauthenticated, 1);
});

t.test('start-up refuses obrigatoria without a keys file, and a keys file with a bad line, in one line', async (t) => {
  const dataDir = await tempDir(t);
  const run = (env: Record<string, string>) => spawnSync(process.execPath, [MAIN], { env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0', UDP_PORT: '0', ...env }, encoding: 'utf8' });
  const missing = run({ AUTENTICACAO_MEDIDORES: 'obrigatoria' });
  t.equal(missing.status, 1);
  t.match(missing.stderr.trim(), /^consumo-inteligente: invalid setting AUTENTICACAO_MEDIDORES: obrigatoria needs the meter keys file/);
  t.equal(missing.stderr.trim().split('\n').length, 1);
  const keys = join(dataDir, 'chaves.txt');
  await writeFile(keys, `1;${KEY.toString('hex')}\n2;abc\n`);
  const bad = run({ CHAVES_MEDIDORES: keys });
  t.equal(bad.status, 1);
  t.match(bad.stderr.trim(), /^consumo-inteligente: invalid setting CHAVES_MEDIDORES: .*chaves\.txt line 2: the key must be/);
});
