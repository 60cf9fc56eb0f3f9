/**
 * UDP under abuse: hostile datagrams, a flood of invented matriculas and a
 * flood past what the store can take. Well-formed readings keep being
 * stored and acknowledged, memory stays bounded (meter limit, pending
 * limit, load shed by dropping and counting), and logging stays bounded.
 */
import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import t from 'tap';
import { readingLine, recentTimestamps, startLoggedServer, udpClient } from '../helpers.js';

/** Lines that are not readings the protocol accepts, and the datagrams built from them. */
const HOSTILE_LINES = [
  'MEDICAO;13456789;1999-01-01T00:00:00Z',
  'MEDICAO;13456789;1999-01-01T00:00:00Z;',
  'MEDICAO;13456789;1999-01-01T00:00:00Z;-5',
  'MEDICAO;13456789;1999-01-01T00:00:00Z;NaN',
  'MEDICAO;13456789;1999-01-01T00:00:00Z;Infinity',
  'MEDICAO;13456789;1999-01-01T00:00:00Z;1e308',
  `MEDICAO;13456789;1999-01-01T00:00:00Z;${'9'.repeat(400)}`,
  'MEDICAO;13456789;2026-02-30T00:00:00Z;1',
  'MEDICAO;13456789;2026-13-01T00:00:00Z;1',
  'MEDICAO;13456789;not a date;1',
  `MEDICAO;${'1'.repeat(21)};1999-01-01T00:00:00Z;1`,
  'MEDICAO;-1;1999-01-01T00:00:00Z;1',
  'MEDI',
  '{"matricula": 1, "consumo_atual": "NaN", "data_hora": "01-01-2026 00:00:00"}',
  '{"matricula": 1e400, "consumo_atual": 1, "data_hora": "01-01-2026 00:00:00"}',
  '{"matricula": 1, "consumo_atual": 1, "data_hora": "31-02-2026 00:00:00"}',
  '{"matricula": 1,',
];
const hostileDatagram = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 1500 }).map((bytes) => Buffer.from(bytes)),
  fc.array(fc.constantFrom(...HOSTILE_LINES), { minLength: 1, maxLength: 5 }).map((lines) => Buffer.from(lines.join('\n'))),
  fc.tuple(fc.constantFrom(...HOSTILE_LINES), fc.nat()).map(([line, cut]) => Buffer.from(line.slice(0, cut % (line.length + 1)))),
);

t.test('hostile datagrams between a real meter\'s readings: every reading stored once and acknowledged, nothing else', async (t) => {
  const { server, lines } = await startLoggedServer(t);
  const meter = await udpClient(t, server.udp.port);
  const attacker = createSocket('udp4');
  t.teardown(() => attacker.close());
  const samples = fc.sample(hostileDatagram, { numRuns: 3000, seed: 42 });
  const times = recentTimestamps(30, 2);
  for (let i = 0; i < times.length; i++) {
    for (const datagram of samples.slice(i * 100, (i + 1) * 100)) attacker.send(datagram, server.udp.port, '127.0.0.1');
    t.equal(await meter.sendForAck(readingLine('13456789', times[i] as string, 100 + i)), `ACK;13456789;${times[i]}`);
  }
  const stored = await server.stores.store.recentReadings('13456789', 5);
  t.same(stored.map((r) => r.consumo), [129000n, 128000n, 127000n, 126000n, 125000n]);
  t.equal(server.readings.ingest.counters.stored, 30, 'only the real readings were stored');
  t.ok(server.readings.ingest.counters.malformed > 1000, `${server.readings.ingest.counters.malformed} malformed lines counted`);
  const warnings = lines.filter((line) => line.level >= 40);
  t.ok(warnings.length <= 3, `${warnings.length} warning lines for ${server.readings.ingest.counters.malformed} malformed lines (bounded rate)`);
});

t.test('20,000 invented matriculas: the meter limit bounds memory, real meters keep being served', async (t) => {
  const { server } = await startLoggedServer(t, { env: { MAX_MEDIDORES: '1000' } });
  const meter = await udpClient(t, server.udp.port);
  const [before, after] = recentTimestamps(2, 3);
  t.equal(await meter.sendForAck(readingLine('13456789', before as string, 1)), `ACK;13456789;${before}`);
  const flooder = createSocket('udp4');
  t.teardown(() => flooder.close());
  const [time] = recentTimestamps(1);
  // 25 readings a datagram keeps each under the protocol's 1400 bytes.
  for (let batch = 0; batch < 800; batch++) {
    const datagram = Array.from({ length: 25 }, (_, i) => readingLine(String(90_000_000 + batch * 25 + i), time as string, 1)).join('\n');
    flooder.send(datagram, server.udp.port, '127.0.0.1');
    if (batch % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(await meter.sendForAck(readingLine('13456789', after as string, 2)), `ACK;13456789;${after}`, 'a known meter is still stored and acknowledged');
  const { meters } = await server.stores.store.stats();
  // MAX_MEDIDORES counts meters of no customer: 1000 of those, and the customer's 13456789 besides.
  t.equal(meters, 1001, `${meters} meters held: the limit of 1000 invented ones was reached, the customer's meter besides`);
  const { refused, stored, readings } = server.readings.ingest.counters;
  t.equal(refused, readings - stored, `${refused} readings of new meters refused, every other one stored`);
  t.ok(readings - 2 > 15_000, `${readings - 2} of the 20,000 invented readings arrived`);
  const [later] = recentTimestamps(1, 4);
  t.equal(await meter.sendForAck(readingLine('09812389', later as string, 5)), `ACK;09812389;${later}`, 'a customer\'s meter never heard before is still taken');
});

t.test('invented matriculas lock out a customer\'s meter, even across a restart: no longer', async (t) => {
  const { tempDir } = await import('../helpers.js');
  const dataDir = await tempDir(t);
  const env = { MAX_MEDIDORES: '50' };
  const first = await startLoggedServer(t, { dataDir, env });
  const flooder = await udpClient(t, first.server.udp.port);
  const [time, customerTime] = recentTimestamps(2, 2);
  await flooder.send(Array.from({ length: 25 }, (_, i) => readingLine(String(70_000_000 + i), time as string, 1)).join('\n'));
  await flooder.send(Array.from({ length: 25 }, (_, i) => readingLine(String(70_000_100 + i), time as string, 1)).join('\n'));
  t.equal((await first.server.stores.store.stats()).meters, 50, 'the limit of invented meters is full');
  await first.server.close();
  const second = await startLoggedServer(t, { dataDir, env });
  const customer = await udpClient(t, second.server.udp.port);
  t.equal(await customer.sendForAck(readingLine('55667788', customerTime as string, 9)), `ACK;55667788;${customerTime}`, 'after the restart too');
  t.same(await customer.send(readingLine('70000999', customerTime as string, 9)), [], 'a further invented meter is still refused, unanswered');
});

t.test('a flood past what the store takes is shed by dropping and counting; the server keeps storing afterwards', async (t) => {
  const { server, lines } = await startLoggedServer(t, { env: { UDP_MAX_PENDENTES: '100' } });
  const flooders = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      return socket;
    }),
  );
  t.teardown(() => flooders.forEach((socket) => socket.close()));
  const base = Date.now() - 3_600_000;
  let sent = 0;
  for (let round = 0; round < 60; round++) {
    for (const [f, socket] of flooders.entries()) {
      for (let i = 0; i < 100; i++) {
        const n = round * 100 + i;
        const datagram = Array.from({ length: 10 }, (_, k) => readingLine(String(f * 10 + k), new Date(base + n * 1000).toISOString(), n)).join('\n');
        socket.send(datagram, server.udp.port, '127.0.0.1');
        sent++;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const { shed, datagrams } = server.readings.ingest.counters;
  t.ok(shed > 0, `${shed} of ${datagrams} datagrams received (${sent} sent) shed`);
  const meter = await udpClient(t, server.udp.port);
  const [time] = recentTimestamps(1);
  t.equal(await meter.sendForAck(readingLine('13456789', time as string, 5)), `ACK;13456789;${time}`, 'ingest resumes once the store catches up');
  const shedWarnings = lines.filter((line) => line.msg.startsWith('store behind'));
  t.ok(shedWarnings.length >= 1 && shedWarnings.length <= 2, `${shedWarnings.length} warning lines for ${shed} shed datagrams`);
});
