/**
 * Authenticity of meter readings (see protocol/README.md): a reading line
 * may end in `;<hmac>`, the HMAC-SHA256 of the line before it under the
 * meter's own key, as 64 lower-case hex digits. Keys live in a text file of
 * `matricula;<hex key>` lines. Pure: text in, values out.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isMatricula } from './meter-protocol.js';
/** Shortest and longest key accepted, in bytes (RFC 2104 §3: at least the output length is recommended). */
export const MIN_KEY_BYTES = 16;
export const MAX_KEY_BYTES = 64;

const KEY_PATTERN = /^(?:[0-9a-fA-F]{2})+$/;

export function macOf(content: string, key: Buffer): string {
  return createHmac('sha256', key).update(content, 'latin1').digest('hex');
}

/**
 * `content` (text) with the MAC of its UTF-8 bytes appended: what a keyed
 * meter sends. A receiver holds the line as bytes (one latin1 character
 * each) and checks it with `verifyMac`: the same bytes, the same MAC.
 */
export function signLine(content: string, key: Buffer): string {
  return `${content};${createHmac('sha256', key).update(content, 'utf8').digest('hex')}`;
}

/** Whether `mac` (already known to be 64 hex digits) is the MAC of `content` under `key`; constant time. */
export function verifyMac(content: string, mac: string, key: Buffer): boolean {
  return timingSafeEqual(Buffer.from(macOf(content, key), 'latin1'), Buffer.from(mac, 'latin1'));
}

export interface KeyFileProblem {
  /** 1-based line number. */
  readonly line: number;
  readonly problem: string;
}

/**
 * Reads a keys file: one `matricula;<hex key>` per line; blank lines and
 * lines starting with `#` are ignored. Bad lines are reported, not fatal
 * here: the caller decides.
 */
export function parseKeyFile(text: string): { keys: Map<string, Buffer>; problems: KeyFileProblem[] } {
  const keys = new Map<string, Buffer>();
  const problems: KeyFileProblem[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [matricula = '', hex = '', ...rest] = line.split(';');
    const problem =
      rest.length > 0 || !isMatricula(matricula)
        ? 'expected matricula;<hex key>'
        : !KEY_PATTERN.test(hex) || hex.length < MIN_KEY_BYTES * 2 || hex.length > MAX_KEY_BYTES * 2
          ? `the key must be ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes in hex`
          : keys.has(matricula)
            ? `matricula ${matricula} repeats an earlier line`
            : undefined;
    if (problem !== undefined) problems.push({ line: index + 1, problem });
    else keys.set(matricula, Buffer.from(hex, 'hex'));
  });
  return { keys, problems };
}
