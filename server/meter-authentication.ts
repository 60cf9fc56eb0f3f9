/**
 * Which received readings are authentic enough to store: the meter keys
 * file, loaded once at start-up, and the AUTENTICACAO_MEDIDORES policy.
 */
import { readFile } from 'node:fs/promises';
import { parseKeyFile, signLine, verifyMac } from '../protocol/meter-auth.js';
import type { ReceivedReading } from '../protocol/meter-protocol.js';
import { ConfigError, type Config } from './config.js';

/** Any line of a meter's that may carry its MAC: a reading, an answer to a command, an event. */
export interface MeterLine {
  readonly matricula: string;
  readonly signature?: { readonly content: string; readonly mac: string } | undefined;
}

export class MeterAuthenticator {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly mode: Config['meterAuthentication'];

  constructor(keys: ReadonlyMap<string, Buffer>, mode: Config['meterAuthentication']) {
    this.keys = keys;
    this.mode = mode;
  }

  get keyCount(): number {
    return this.keys.size;
  }

  /** `line` signed with the meter's key when it has one (answers to keyed meters are signed), else as it is. */
  sign(line: string, matricula: string): string {
    const key = this.keys.get(matricula);
    return key === undefined ? line : signLine(line, key);
  }

  /**
   * A meter with a key must sign every reading with it, in either mode: an
   * unsigned line for it could come from anyone. A meter without a key is
   * accepted unsigned only in `opcional` mode. A replayed signed line is
   * authentic, and stores nothing new: the store keeps only readings newer
   * than the meter's newest.
   */
  accepts(reading: ReceivedReading): boolean {
    return this.authentic(reading);
  }

  /** The same rule for any signed line of a meter's (answers to commands, events). */
  authentic(line: MeterLine): boolean {
    const key = this.keys.get(line.matricula);
    if (key === undefined) return this.mode === 'opcional';
    return line.signature !== undefined && verifyMac(line.signature.content, line.signature.mac, key);
  }

  /** Whether the meter has a key: can prove who it is, and be sent commands that change its supply. */
  hasKey(matricula: string): boolean {
    return this.keys.has(matricula);
  }
}

/** Reads the keys file; a missing file is no keys, unless every reading must be signed. Throws ConfigError. */
export async function loadMeterAuthenticator(config: Pick<Config, 'meterKeysFile' | 'meterAuthentication'>): Promise<MeterAuthenticator> {
  let text: string;
  try {
    text = await readFile(config.meterKeysFile, 'latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError('CHAVES_MEDIDORES', `cannot read ${config.meterKeysFile}: ${(error as Error).message}`);
    if (config.meterAuthentication === 'obrigatoria') {
      throw new ConfigError('AUTENTICACAO_MEDIDORES', `obrigatoria needs the meter keys file, and ${config.meterKeysFile} does not exist (set CHAVES_MEDIDORES)`);
    }
    return new MeterAuthenticator(new Map(), config.meterAuthentication);
  }
  const { keys, problems } = parseKeyFile(text);
  const [first] = problems;
  if (first !== undefined) throw new ConfigError('CHAVES_MEDIDORES', `${config.meterKeysFile} line ${first.line}: ${first.problem}`);
  return new MeterAuthenticator(keys, config.meterAuthentication);
}
