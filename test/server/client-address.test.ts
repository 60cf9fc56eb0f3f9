/**
 * The client behind a reverse proxy (PROXIES_CONFIAVEIS): only trusted
 * peers' Forwarded / X-Forwarded-For count, read from the nearest hop; any
 * header text is read without throwing. Over HTTP: every user behind the
 * proxy has its own per-address limit, and an untrusted peer cannot pose as
 * someone else.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import t from 'tap';
import { clientAddress, isProxyEntry, trustedProxies } from '../../server/http/client-address.js';
import { parseResponses, request, startTestServer, type RawResponse } from '../helpers.js';

const headers = (entries: Record<string, string>) => new Map(Object.entries(entries));

t.test('the nearest untrusted hop is the client; an untrusted peer is itself', async (t) => {
  const trusted = trustedProxies(['10.0.0.0/8', '192.168.1.1', 'fd00::/8']);
  t.equal(clientAddress(headers({ 'x-forwarded-for': '203.0.113.7' }), '192.168.1.1', trusted), '203.0.113.7');
  t.equal(clientAddress(headers({ 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.1.2.3' }), '10.0.0.1', trusted), '203.0.113.7', 'proxies in the chain are skipped, a spoofed left part ignored');
  t.equal(clientAddress(headers({ 'x-forwarded-for': '203.0.113.7' }), '198.51.100.9', trusted), '198.51.100.9', 'an untrusted peer\'s header is ignored');
  t.equal(clientAddress(headers({ forwarded: 'for=198.51.100.1, for="[2001:db8::1]:4711";proto=https' }), 'fd00::5', trusted), '2001:db8::1', 'RFC 7239, IPv6 with a port');
  t.equal(clientAddress(headers({ forwarded: 'for=unknown' }), '10.0.0.1', trusted), '10.0.0.1', 'an obfuscated hop: the proxy itself');
  t.equal(clientAddress(headers({}), '::ffff:10.0.0.1', trusted), '10.0.0.1', 'an IPv4-mapped peer');
  t.equal(clientAddress(headers({ 'x-forwarded-for': '1.2.3.4' }), '10.0.0.1', undefined), '10.0.0.1', 'no trusted proxies: the peer');
  for (const [entry, ok] of [['10.0.0.0/8', true], ['::1', true], ['fd00::/129', false], ['10.0.0.0/33', false], ['proxy.local', false], ['10.0.0.1/8/1', false]] as const) t.equal(isProxyEntry(entry), ok, entry);
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (forwarded, xff) => {
      const address = clientAddress(headers({ forwarded, 'x-forwarded-for': xff }), '10.0.0.1', trusted);
      return typeof address === 'string' && address.length > 0;
    }),
    { numRuns: 2000 },
  );
});

t.test('behind a reverse proxy every user shared the proxy\'s address (regression, issue 26): with PROXIES_CONFIAVEIS each counts apart', async (t) => {
  const server = await startTestServer(t, { env: { PROXIES_CONFIAVEIS: '127.0.0.1', VALIDACAO_CONSULTAS_POR_MINUTO: '2' } });
  const ask = async (peer: string, forwardedFor?: string): Promise<number> => {
    const socket = connect({ port: server.http.port, host: '127.0.0.1', localAddress: peer });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(request('GET', '/validacao-usuario?matricula=13456789', { headers: { Connection: 'close', ...(forwardedFor === undefined ? {} : { 'X-Forwarded-For': forwardedFor }) } }));
    const text = await new Promise<string>((resolve) => {
      let all = '';
      socket.on('data', (chunk: Buffer) => (all += chunk.toString('latin1')));
      socket.on('close', () => resolve(all));
    });
    return (parseResponses(Buffer.from(text, 'latin1')).responses[0] as RawResponse).status;
  };
  t.same([await ask('127.0.0.1', '203.0.113.1'), await ask('127.0.0.1', '203.0.113.1'), await ask('127.0.0.1', '203.0.113.1')], [200, 200, 429], 'one user behind the proxy: its own limit');
  t.equal(await ask('127.0.0.1', '203.0.113.2'), 200, 'another user behind the same proxy is not refused');
  t.same([await ask('127.0.0.2', '203.0.113.3'), await ask('127.0.0.2', '203.0.113.4'), await ask('127.0.0.2', '203.0.113.5')], [200, 200, 429], 'an untrusted peer cannot pose as others');
});
