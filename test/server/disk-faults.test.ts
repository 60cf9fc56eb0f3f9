/**
 * The data directory on a disk that fills up while the server runs (a real
 * tmpfs of a few hundred KiB, mounted by the test): ingest stops
 * acknowledging (the meter keeps its readings), routes keep answering from
 * what is stored, the error is logged, and once space is freed the resent
 * readings are stored exactly once with no half-written line.
 *
 * Mounting needs root (CAP_SYS_ADMIN); without it the test is skipped and says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { call, readingLine, recentTimestamps, startLoggedServer, tempDir, udpClient } from '../helpers.js';

const DISK_BYTES = 256 * 1024;

function tryMount(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (needs root): ${(error as Error).message.split('\n')[0]}`;
  }
}

/** Writes zeros until the disk says ENOSPC. */
async function fillDisk(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) await handle.write(block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

const mountPoint = await tempDir(t, 'consumo-disco-');
const skip = tryMount(mountPoint);
if (skip === undefined) t.teardown(() => execFileSync('umount', ['-l', mountPoint]));

t.test('disk full: no ACK while it lasts, routes still answer, every resent reading stored once after', { skip }, async (t) => {
  const dataDir = join(mountPoint, 'dados');
  await mkdir(dataDir);
  const { server, lines } = await startLoggedServer(t, { dataDir });
  const meter = await udpClient(t, server.udp.port);
  const count = 200;
  const times = recentTimestamps(count, 2);
  const line = (i: number): string => readingLine('13456789', times[i] as string, 100 + i);
  t.equal(await meter.sendForAck(line(0)), `ACK;13456789;${times[0]}`);

  const filler = join(mountPoint, 'enchimento');
  await fillDisk(filler);
  // The log's last page may still have room: readings go on being stored until it is full.
  let unacknowledged = 1;
  const acknowledged = (i: number): Promise<boolean> => meter.sendForAck(line(i), 300).then(() => true, () => false);
  while (unacknowledged < count && (await acknowledged(unacknowledged))) unacknowledged++;
  t.ok(unacknowledged < count, `the disk filled after ${unacknowledged} readings`);
  t.same(await meter.send(line(unacknowledged), 300), [], 'no ACK while the disk is full (the meter keeps the reading)');
  t.ok(server.readings.ingest.counters.storeFailures >= 2, `${server.readings.ingest.counters.storeFailures} store failures counted`);
  const latest = await call(server.http.port, 'GET', '/medicoes/ultima-medicao?matricula=13456789');
  t.same([latest.status, latest.json().consumo], [200, 100 + unacknowledged - 1], 'routes answer from what is stored');
  t.ok(
    lines.some((entry) => entry.msg.startsWith('could not store readings') && JSON.stringify(entry).includes('ENOSPC')),
    'the error is logged, naming ENOSPC',
  );
  t.equal((await call(server.http.port, 'GET', '/saude')).status, 503, '/saude reports the storage not ready');

  await rm(filler);
  const resent = Array.from({ length: Math.min(10, count - unacknowledged) }, (_, i) => unacknowledged + i);
  const newest = resent[resent.length - 1] as number;
  t.equal(await meter.sendForAck(resent.map(line).join('\n')), `ACK;13456789;${times[newest]}`, 'the resent readings are acknowledged once space is back');
  t.equal((await call(server.http.port, 'GET', '/saude')).status, 200, '/saude is ready again');
  await server.close();
  const log = await readFile(join(dataDir, 'medicoes.log'), 'latin1');
  t.same(
    log.split('\n'),
    [...Array.from({ length: newest + 1 }, (_, i) => `${times[i]};13456789;${100 + i}`), ''],
    'each reading exactly once, in order, whole lines only',
  );
});
