/**
 * `npm start`'s entry point as a function: its help, a bad setting and a
 * port in use each answer with their exit code and one line, without
 * spawning (the process tests start and signal the real thing).
 */
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { run } from '../../server/main.js';
import { tempDir } from '../helpers.js';

const capture = () => {
  const io = { out: '', err: '' };
  return { io, sink: { out: (text: string) => void (io.out += text), err: (text: string) => void (io.err += text) } };
};

t.test('--help: the usage and every setting, exit 0', async (t) => {
  const { io, sink } = capture();
  t.equal(await run(['--help'], {}, sink), 0);
  t.match(io.out, /^usage: npm start/);
  t.match(io.out, 'HTTP_PORT');
  t.equal(io.err, '');
});

t.test('a bad setting: exit 1 and one line naming it', async (t) => {
  const { io, sink } = capture();
  t.equal(await run([], { HTTP_PORT: 'abc', DATA_DIR: join(await tempDir(t), 'data') }, sink), 1);
  t.equal(io.err.trim().split('\n').length, 1);
  t.match(io.err, /^consumo-inteligente: .*HTTP_PORT/);
});

t.test('a port in use: exit 1 and one line, the storage released', async (t) => {
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  t.teardown(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const dataDir = join(await tempDir(t), 'data');
  const { io, sink } = capture();
  t.equal(await run(['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', '0', '--data-dir', dataDir], {}, sink), 1);
  t.match(io.err, /^consumo-inteligente: cannot listen: .*EADDRINUSE/);
  // The DATA_DIR it opened is free again: a second start on a free port can take it.
  const second = capture();
  t.equal(await run(['--host', '127.0.0.1', '--http-port', String(port), '--udp-port', '0', '--data-dir', dataDir], {}, second.sink), 1);
  t.notMatch(second.io.err, /belongs to/, 'no lock left behind by the failed start');
  t.match(second.io.err, 'cannot listen');
});
