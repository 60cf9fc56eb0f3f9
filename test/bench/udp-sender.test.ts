import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { MAX_DATAGRAM_BYTES, parseReadingDatagram } from '../../protocol/meter-protocol.js';

const SENDER = fileURLToPath(new URL('../../bench/udp-sender.js', import.meta.url));

t.test('regression: the load sender never sends a datagram past the size limit, however many readings wait', async (t) => {
  // A server that never acknowledges: the meter's unacknowledged readings pile up and are resent.
  const server = createSocket('udp4');
  t.teardown(() => server.close());
  const sizes: number[] = [];
  let lineErrors = 0;
  let readings = 0;
  server.on('message', (message) => {
    sizes.push(message.length);
    const parsed = parseReadingDatagram(message, { legacyTimeZone: 'UTC' });
    lineErrors += parsed.errors.length;
    readings += parsed.values.length;
  });
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  const sender = fork(SENDER, ['127.0.0.1', String(server.address().port), '0', '1', '200', '1', '1'], { stdio: 'ignore', execArgv: [] });
  await once(sender, 'exit');
  t.ok(sizes.length > 0, 'datagrams arrived');
  t.ok(Math.max(...sizes) <= MAX_DATAGRAM_BYTES, `largest datagram ${Math.max(...sizes)} bytes`);
  t.ok(Math.max(...sizes) > MAX_DATAGRAM_BYTES - 100, 'the backlog fills datagrams close to the limit');
  t.equal(lineErrors, 0, 'every line parses');
  t.ok(readings > sizes.length, 'datagrams carry several readings each');
});
