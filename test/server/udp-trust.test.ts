/**
 * Hostile senders on the meters' UDP channel: each attack that once worked,
 * as a regression test named after it, over real sockets and a real server.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { MeterRunner } from '../../meter/meter-runner.js';
import { signLine } from '../../protocol/meter-auth.js';
import { readingLine, recentTimestamps, silentLogger, startTestServer, tempDir, udpClient } from '../helpers.js';

const iso = (ms: number): string => new Date(ms).toISOString();

t.test('forged future reading: a genuine meter\'s later readings are still stored, each acknowledged by its own timestamp', async (t) => {
  const server = await startTestServer(t);
  const genuine = await udpClient(t, server.udp.port);
  const forger = await udpClient(t, server.udp.port);
  const start = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  t.equal(await genuine.sendForAck(readingLine('13456789', iso(start), 100)), `ACK;13456789;${iso(start)}`);
  const forged = iso(Date.now() + 290_000);
  t.equal(await forger.sendForAck(readingLine('13456789', forged, '999999999999')), `ACK;13456789;${forged}`, 'an unkeyed meter cannot tell the forger from itself');
  for (let i = 1; i <= 3; i++) {
    const at = iso(start + i * 10_000);
    t.equal(await genuine.sendForAck(readingLine('13456789', at, 100 + i)), `ACK;13456789;${at}`, `genuine reading ${i}: its own ACK, never the forged timestamp`);
  }
  const history = [];
  for await (const batch of server.stores.store.history({ matricula: '13456789', from: 0, to: Date.now() + 600_000 })) history.push(...batch);
  t.same(history.map((r) => r.consumo), [999999999999000n, 103000n, 102000n, 101000n, 100000n], 'every genuine reading stored, in timestamp order');
});

t.test('ACK beyond a refused reading: the cumulative ACK stops before it, and the refusal is answered', async (t) => {
  const server = await startTestServer(t, { env: { MEDICAO_INTERVALO_MINIMO_MS: '1000' } });
  const meter = await udpClient(t, server.udp.port);
  const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const lines = [readingLine('7', iso(base), 1), readingLine('7', iso(base + 500), 2), readingLine('7', iso(base + 5000), 3)];
  const reply = await meter.send(lines.join('\n'), 400);
  t.same(reply.join('\n').split('\n').sort(), [`ACK;7;${iso(base)}`, `REJEITADA;7;${iso(base + 500)};intervalo`], 'the third is stored but not acknowledged past the refused second');
  t.equal(await meter.sendForAck(lines[2] as string), `ACK;7;${iso(base + 5000)}`, 'resent, it is a copy: acknowledged');
  t.equal(server.readings.ingest.counters.rejected.intervalo, 1);
});

t.test('readings of 1970 filled the disk: timestamps before 2000 or older than MEDICAO_IDADE_MAXIMA_DIAS are refused', async (t) => {
  const server = await startTestServer(t, { env: { MEDICAO_IDADE_MAXIMA_DIAS: '30' } });
  const meter = await udpClient(t, server.udp.port);
  const old = '1970-01-01T00:00:01.000Z';
  t.same(await meter.send(readingLine('8', old, 1)), [`REJEITADA;8;${old};antiga`]);
  const monthsAgo = iso(Date.now() - 40 * 86_400_000);
  t.same(await meter.send(readingLine('8', monthsAgo, 1)), [`REJEITADA;8;${monthsAgo};antiga`]);
  t.same((await server.stores.store.stats()).readings, 0, 'nothing stored');
  t.equal(server.readings.ingest.counters.rejected.antiga, 2);
  const metrics = await (await fetch(`http://127.0.0.1:${server.http.port}/metricas`)).text();
  t.match(metrics, 'consumo_leituras_rejeitadas_total{motivo="antiga"} 2');
});

t.test('MEDIDORES_NAO_CADASTRADOS=recusar: only registered customers\' meters are stored', async (t) => {
  const server = await startTestServer(t, { env: { MEDIDORES_NAO_CADASTRADOS: 'recusar' } });
  const meter = await udpClient(t, server.udp.port);
  const [at] = recentTimestamps(1) as [string];
  t.same(await meter.send([readingLine('13456789', at, 1), readingLine('424242', at, 1)].join('\n')), [`REJEITADA;424242;${at};nao_cadastrado\nACK;13456789;${at}`]);
  t.equal(server.readings.ingest.counters.rejected.nao_cadastrado, 1);
});

t.test('forged ACK: a keyed meter gets only signed answers, and a meter process ignores answers from another address or beyond what it sent', async (t) => {
  const key = Buffer.alloc(32, 9);
  const dataDir = await tempDir(t);
  await writeFile(join(dataDir, 'chaves-medidores.txt'), `13456789;${key.toString('hex')}\n`);
  const server = await startTestServer(t, { dataDir });
  const client = await udpClient(t, server.udp.port);
  const [at] = recentTimestamps(1) as [string];
  t.equal(await client.sendForAck(signLine(readingLine('13456789', at, 1), key)), signLine(`ACK;13456789;${at}`, key), 'the server signs ACKs to a keyed meter');

  // A meter process in front of a fake server: only the server's own signed answers count.
  const fakeServer = createSocket('udp4');
  const attacker = createSocket('udp4');
  t.teardown(() => {
    fakeServer.close();
    attacker.close();
  });
  fakeServer.bind(0, '127.0.0.1');
  await once(fakeServer, 'listening');
  const runner = new MeterRunner(
    {
      host: '127.0.0.1',
      port: fakeServer.address().port,
      servers: [{ host: '127.0.0.1', port: fakeServer.address().port }],
      matriculas: ['13456789'],
      initialRegister: 0n,
      httpPort: undefined,
      incrementIntervalMs: 50,
      minIncrementUnits: 0,
      sendIntervalMs: 100,
      seed: 1,
      seedChosen: false,
      peak: undefined,
      maxPending: 100,
      clockDriftMs: 0,
      outage: undefined,
      tamperAfterMs: undefined,
      stateDir: undefined,
      nominalVoltage: undefined,
      voltageDisturbance: undefined,
      logLevel: 'silent',
      keys: new Map([['13456789', key]]),
    },
    silentLogger,
  );
  await runner.start();
  t.teardown(() => runner.stop());
  const [message, sender] = (await once(fakeServer, 'message')) as [Buffer, { port: number }];
  const sent = message.toString('latin1').split('\n');
  const newest = sent[sent.length - 1]?.split(';')[2] as string;
  const far = iso(Date.now() + 3_600_000);
  attacker.send(signLine(`ACK;13456789;${newest}`, key), sender.port, '127.0.0.1');
  fakeServer.send(`ACK;13456789;${newest}`, sender.port, '127.0.0.1');
  fakeServer.send(signLine(`ACK;13456789;${far}`, key), sender.port, '127.0.0.1');
  fakeServer.send(signLine(`ACK;13456789;${newest}`, Buffer.alloc(32, 1)), sender.port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(runner.stats().acknowledged, 0, 'another address, unsigned, beyond the newest sent, another key: all ignored');
  t.ok(runner.stats().ignored >= 3, `${runner.stats().ignored} answers ignored`);
  fakeServer.send(signLine(`ACK;13456789;${newest}`, key), sender.port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.ok(runner.stats().acknowledged >= 1, 'the server\'s signed ACK is applied');
});
