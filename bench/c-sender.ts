/**
 * The C sender of load:udp (bench/udp-sender.c), compiled on first use with
 * the machine's C compiler into build/bench/: the Node sender costs about as
 * much CPU per datagram as the server does to take it, so at the top rates
 * it, not the server, set the limit on 2 cores. Undefined when no compiler
 * is installed (`apt-get install gcc`): the Node sender is used then.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../../bench/udp-sender.c', import.meta.url));
const BINARY = fileURLToPath(new URL('./udp-sender-c', import.meta.url));

let compiled: string | undefined | null = null;

/** The path of the compiled C sender, compiling it when missing or older than its source; undefined without a compiler. */
export function cSender(): string | undefined {
  if (compiled !== null) return compiled;
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return (compiled = BINARY);
  const result = spawnSync('cc', ['-O2', '-Wall', '-o', BINARY, SOURCE], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    process.stderr.write(`load:udp: no C sender (${result.error?.message ?? result.stderr.trim()}); using the Node sender\n`);
    return (compiled = undefined);
  }
  return (compiled = BINARY);
}
