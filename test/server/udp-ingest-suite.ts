import type { Test } from 'tap';
import type { Backend } from '../backends.js';
import { call, readingLine, recentTimestamps, startTestServer, udpClient } from '../helpers.js';

/** UDP ingest end to end over real sockets, on the backend given. */
export function udpIngestSuite(t: Test, backend: Backend): void {
  t.test('readings are stored and acknowledged per matricula with the newest stored timestamp', async (t) => {
    const server = await startTestServer(t, { env: await backend.env(t) });
    const meter = await udpClient(t, server.udp.port);
    const times = recentTimestamps(3);
    const ack = await meter.sendForAck([readingLine('13456789', times[0]!, 10), readingLine('13456789', times[1]!, 11.5), readingLine('09812389', times[2]!, 7)].join('\n') + '\n');
    t.same(ack.split('\n').sort(), [`ACK;09812389;${times[2]}`, `ACK;13456789;${times[1]}`]);
    const latest = await call(server.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789');
    t.same(latest.json(), { matricula: '13456789', data_hora: times[1], consumo: 11.5, qualidade: ['valida'] });
    t.same(server.readings.ingest.counters.stored, 3);
  });

  t.test('a resent copy is acknowledged, not stored twice; a late reading is stored and acknowledged by its own timestamp', async (t) => {
    const server = await startTestServer(t, { env: await backend.env(t) });
    const meter = await udpClient(t, server.udp.port);
    const [early, late] = recentTimestamps(2);
    await meter.sendForAck(readingLine('1', late!, 20));
    t.equal(await meter.sendForAck(readingLine('1', late!, 20)), `ACK;1;${late}`);
    t.equal(server.readings.ingest.counters.duplicates, 1);
    t.equal(await meter.sendForAck(readingLine('1', early!, 10)), `ACK;1;${early}`, 'never an ACK for a reading this sender did not send');
    t.same((await server.stores.store.stats()).readings, 2);
    t.equal(await meter.sendForAck(readingLine('1', early!, 11)), `REJEITADA;1;${early};conflito`, 'another register at a stored instant');
    t.same((await server.stores.store.stats()).readings, 2);
  });

  t.test('the original meters JSON datagram is stored and acknowledged', async (t) => {
    const server = await startTestServer(t, { env: await backend.env(t) });
    const meter = await udpClient(t, server.udp.port);
    // Yesterday at 16:00 in São Paulo (UTC-3 all year since 2019), as the original meters write it.
    const yesterday = new Date(Date.now() - 86_400_000 - 3 * 3_600_000);
    const pad = (n: number): string => String(n).padStart(2, '0');
    const local = `${pad(yesterday.getUTCDate())}-${pad(yesterday.getUTCMonth() + 1)}-${yesterday.getUTCFullYear()} 16:00:00`;
    const utc = `${yesterday.getUTCFullYear()}-${pad(yesterday.getUTCMonth() + 1)}-${pad(yesterday.getUTCDate())}T19:00:00.000Z`;
    const ack = await meter.sendForAck(`{"matricula": 13456789, "consumo_atual": 1302, "data_hora": "${local}"}`);
    t.equal(ack, `ACK;13456789;${utc}`, 'local time of TZ_LEGADO (America/Sao_Paulo, UTC-3)');
    const latest = await call(server.http.port, 'POST', '/medicoes/ultima-medicao', { matricula: 13456789 });
    t.same(latest.json(), { matricula: '13456789', data_hora: utc, consumo: 1302, qualidade: ['valida'] });
    const old = await meter.send('{"matricula": 13456789, "consumo_atual": 1302, "data_hora": "05-03-2023 16:00:00"}');
    t.same(old, ['REJEITADA;13456789;2023-03-05T19:00:00.000Z;antiga'], 'older than MEDICAO_IDADE_MAXIMA_DIAS (400): refused, and told');
  });

  t.test('malformed datagrams get no answer; valid lines beside bad ones are still stored', async (t) => {
    const server = await startTestServer(t, { env: await backend.env(t) });
    const meter = await udpClient(t, server.udp.port);
    t.same(await meter.send('garbage'), [], 'no reflection');
    t.same(await meter.send(Buffer.from([0xff, 0x00, 0x13, 0x0a])), []);
    t.same(await meter.send('MEDICAO;1;2026-02-30T00:00:00Z;1'), []);
    t.same(await meter.send(Buffer.alloc(2000, 0x41)), [], 'oversized datagrams are dropped');
    const [time] = recentTimestamps(1);
    const ack = await meter.sendForAck(['junk', readingLine('42', time!, '0.125'), 'MEDICAO;42;x;1'].join('\n'));
    t.equal(ack, `ACK;42;${time}`);
    t.equal(server.readings.ingest.counters.malformed, 6);
    t.equal(server.readings.ingest.counters.stored, 1);
  });

  t.test('a reading more than 5 minutes ahead of the server clock is refused, not acknowledged', async (t) => {
    const server = await startTestServer(t, { env: await backend.env(t) });
    const meter = await udpClient(t, server.udp.port);
    const future = new Date(Date.now() + 6 * 60_000).toISOString();
    const nearFuture = new Date(Date.now() + 4 * 60_000).toISOString();
    t.same(await meter.send(readingLine('7', future, 1)), [`REJEITADA;7;${future};futura`]);
    t.equal(server.readings.ingest.counters.rejected.futura, 1);
    t.equal(await meter.sendForAck(readingLine('7', nearFuture, 1)), `ACK;7;${nearFuture}`, 'within the tolerance');
    t.same((await server.stores.store.stats()).readings, 1);
  });

  t.test('a burst from many meters is stored whole and every one acknowledged', async (t) => {
    const server = await startTestServer(t, { env: await backend.env(t) });
    const meter = await udpClient(t, server.udp.port);
    const [time] = recentTimestamps(1);
    const acks = await meter.send(
      Array.from({ length: 30 }, (_, i) => readingLine(String(1000 + i), time!, i)).join('\n'),
      500,
    );
    const lines = acks.flatMap((datagram) => datagram.split('\n'));
    t.equal(lines.length, 30);
    t.ok(acks.every((datagram) => Buffer.byteLength(datagram) <= 1400), 'ACK datagrams stay within the size limit');
    t.equal((await server.stores.store.stats()).meters, 30);
  });
}
