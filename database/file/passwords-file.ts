/**
 * `senhas.txt`: password hashes as `matricula;<hash>` lines, appended and
 * fdatasync'ed; a later line for a matricula replaces an earlier one. Kept
 * apart from `clientes.txt`, which stays in the original system's format.
 * Created readable by its owner only.
 */
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import { APPEND_FLAGS, DATA_FILE_MODE } from './customers-file.js';
import { readTextLines } from './text-lines.js';

export const PASSWORDS_FILE = 'senhas.txt';
/** No hash this project writes is longer; a longer line is not one of ours. */
const MAX_HASH_LENGTH = 256;

export async function readPasswordFile(path: string, logger: Logger): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const { lines, overlong } = await readTextLines(path, MAX_HASH_LENGTH + 32, 'latin1');
  let bad = overlong.length;
  for (const { text: line } of lines) {
    if (line === '') continue;
    const separator = line.indexOf(';');
    const matricula = line.slice(0, separator);
    const hash = line.slice(separator + 1);
    if (separator < 1 || !isMatricula(matricula) || hash.length === 0 || hash.length > MAX_HASH_LENGTH || hash.includes(';')) bad++;
    else hashes.set(matricula, hash);
  }
  if (bad > 0) logger.warn({ path, lines: bad }, 'skipping malformed password lines');
  return hashes;
}

export async function appendPassword(path: string, matricula: string, hash: string): Promise<void> {
  const handle = await open(path, APPEND_FLAGS, DATA_FILE_MODE);
  try {
    await handle.writeFile(`${matricula};${hash}\n`, 'latin1');
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
