/**
 * Which received readings are authentic enough to store: the meter keys
 * file, loaded once at start-up, and the AUTENTICACAO_MEDIDORES policy.
 */
import { readFile } from 'node:fs/promises';
import { parseKeyFile, signLine, verifyMac } from '../../protocol/meter-auth.js';
import type { ReceivedReading } from '../../protocol/meter-protocol.js';
import type { MeterCounterStore } from '../../database/meter-counter-store.js';
import { ConfigError, type Config } from '../config.js';
import { counter, type Collector } from '../metrics.js';

/** Any line of a meter's that may carry its MAC: a reading, an answer to a command, an event. */
export interface MeterLine {
  readonly matricula: string;
  readonly signature?: { readonly content: string; readonly mac: string } | undefined;
  /** The meter's invocation counter, on signed answers and events (protocol/meter-commands.ts). */
  readonly counter?: bigint | undefined;
}

/**
 * What becomes of a meter's answer or event line: `fresh`, acted on (and
 * only such a line moves where the meter is reached); `forged`, not
 * authentic; `replayed`, authentic but a keyed meter's line without a
 * counter above every one accepted before (a captured line sent again).
 */
export type MeterLineVerdict = 'fresh' | 'forged' | 'replayed';

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

/**
 * Answers and events of meters: authentic (MeterAuthenticator), and for a
 * keyed meter fresh, by its invocation counter, which must be above the
 * newest accepted before (kept durably in the MeterCounterStore, shared by
 * servers on one database). An unkeyed meter's lines cannot be told from a
 * forger's (README, "Trust model") and have no counter to check.
 */
export class MeterLineGate {
  /** Per keyed meter, the admission under way: one meter's lines are judged in the order their datagrams came. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly authenticator: MeterAuthenticator,
    private readonly counters: MeterCounterStore,
  ) {}

  /**
   * The verdict of each line, in order. A keyed meter's lines are fresh
   * while their counters go up from the newest accepted before; the
   * greatest is made durable (one write per meter and datagram) before any
   * of them is called fresh.
   */
  async admit(lines: readonly MeterLine[]): Promise<MeterLineVerdict[]> {
    const verdicts: MeterLineVerdict[] = [];
    const keyed = new Map<string, number[]>();
    for (const [i, line] of lines.entries()) {
      if (!this.authenticator.authentic(line)) verdicts.push('forged');
      else if (!this.authenticator.hasKey(line.matricula)) verdicts.push('fresh');
      else {
        verdicts.push('replayed');
        const indexes = keyed.get(line.matricula);
        if (indexes === undefined) keyed.set(line.matricula, [i]);
        else indexes.push(i);
      }
    }
    await Promise.all([...keyed].map(([matricula, indexes]) => this.inTurn(matricula, () => this.judge(matricula, indexes, lines, verdicts))));
    return verdicts;
  }

  private async judge(matricula: string, indexes: readonly number[], lines: readonly MeterLine[], verdicts: MeterLineVerdict[]): Promise<void> {
    let newest = (await this.counters.newest(matricula)) ?? 0n;
    const fresh: number[] = [];
    for (const i of indexes) {
      const counter = lines[i]?.counter;
      if (counter === undefined || counter <= newest) continue;
      newest = counter;
      fresh.push(i);
    }
    // Another server may have taken a greater counter meanwhile: then none of these is fresh (the meter sends them again).
    if (fresh.length === 0 || !(await this.counters.advance(matricula, newest))) return;
    for (const i of fresh) verdicts[i] = 'fresh';
  }

  private inTurn(matricula: string, work: () => Promise<void>): Promise<void> {
    const result = (this.chains.get(matricula) ?? Promise.resolve()).then(work);
    const settled = result.catch(() => undefined);
    this.chains.set(matricula, settled);
    void settled.then(() => {
      if (this.chains.get(matricula) === settled) this.chains.delete(matricula);
    });
    return result;
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

/** Replays refused among authentic answers and events of keyed meters, wherever they were counted. */
export function replayMetrics(replayed: () => number): Collector {
  return (out) => counter(out, 'consumo_mensagens_repetidas_total', 'Authentic answers and events of keyed meters refused as replays (invocation counter not above the newest accepted).', replayed());
}
