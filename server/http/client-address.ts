/**
 * The client's address behind reverse proxies (PROXIES_CONFIAVEIS): only a
 * peer the operator trusts may say who its client is, in `Forwarded`
 * (RFC 7239 §5.2, `for=`) or `X-Forwarded-For`. The chain is read from the
 * right (the nearest hop) and the first address that is not a trusted proxy
 * is the client; an untrusted peer's headers are ignored, so nobody can
 * pose as another address to escape a per-address limit.
 */
import { BlockList, isIP } from 'node:net';

/** A list of trusted proxies from the setting: addresses or CIDRs, IPv4 or IPv6. */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/** Whether `entry` is an address or a CIDR the setting accepts. */
export function isProxyEntry(entry: string): boolean {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** An address as written in the headers: without brackets or port, an IPv4-mapped IPv6 as IPv4. */
function plainAddress(text: string): string | undefined {
  let value = text.trim().replace(/^"|"$/g, '');
  if (value.startsWith('[')) value = value.slice(1, value.indexOf(']'));
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  if (value.startsWith('::ffff:') && isIP(value.slice(7)) === 4) value = value.slice(7);
  return isIP(value) === 0 ? undefined : value;
}

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * The address a request counts for: `peer` itself unless it is a trusted
 * proxy; then the nearest untrusted hop of the forwarded chain (a hop that
 * is not an address stops the walk there: the peer's word ends).
 */
export function clientAddress(headers: ReadonlyMap<string, string>, peer: string, trusted: BlockList | undefined): string {
  if (trusted === undefined) return peer;
  const from = plainAddress(peer) ?? peer;
  if (!trusted.check(from, familyOf(from))) return peer;
  const forwarded = headers.get('forwarded');
  const hops =
    forwarded !== undefined
      ? forwarded.split(',').map((element) => /(?:^|;)\s*for=("[^"]*"|[^;,\s]*)/i.exec(element)?.[1] ?? '')
      : (headers.get('x-forwarded-for') ?? '').split(',');
  let client = from;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i] as string);
    if (hop === undefined) break;
    client = hop;
    if (!trusted.check(hop, familyOf(hop))) break;
  }
  return client;
}
