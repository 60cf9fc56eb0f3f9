/**
 * What a simulated meter does with a command line (issue 16): it checks the signature when
 * it has a key (always, for commands that change the supply), the expiry
 * and that the id was not executed before; then it executes it at most
 * once and says what to answer. Pure: the clock is an argument, no I/O.
 */
import { verifyMac } from '../protocol/meter-auth.js';
import { parseAnswerLine, parseCommandLine, serializeAnswer, type CommandLine, type MeterEventType } from '../protocol/meter-commands.js';
import { MeterSigner } from './meter-signer.js';

/** Command ids remembered to execute each at most once (far more than can be in flight). */
export const REMEMBERED_IDS = 1024;
const SUPPLY_COMMANDS = new Set(['corte', 'religacao', 'limite_demanda']);
const KW = /^\d{1,6}(\.\d{1,3})?$/;

export interface MeterControlState {
  supply: 'ligado' | 'cortado';
  /** Demand limit in watts, or null. */
  limitW: number | null;
  /** Added to the meter's clock (a sync corrects it). */
  clockOffsetMs: number;
}

export interface ControlCounters {
  executed: number;
  ignoredUnsigned: number;
  ignoredBadSignature: number;
  ignoredExpired: number;
  ignoredReplayed: number;
  ignoredMalformed: number;
  ignoredOtherMeter: number;
}

export type ControlOutcome =
  | { readonly kind: 'ignored'; readonly reason: keyof ControlCounters }
  /** Answer this (signed when keyed); `readNow`: send a reading at once; `event`: report it (a first execution only). */
  | { readonly kind: 'answer'; readonly line: string; readonly readNow: boolean; readonly event?: { readonly type: MeterEventType; readonly detail: string } | undefined };

interface Execution {
  readonly outcome: 'executado' | 'falhou';
  readonly detail: string;
  readonly readNow: boolean;
  readonly event?: { readonly type: MeterEventType; readonly detail: string };
}

export class MeterControl {
  readonly state: MeterControlState;
  readonly counters: ControlCounters = { executed: 0, ignoredUnsigned: 0, ignoredBadSignature: 0, ignoredExpired: 0, ignoredReplayed: 0, ignoredMalformed: 0, ignoredOtherMeter: 0 };
  /** Answers already given (unsigned), by id: a repeated command gets the same answer, never a second execution. */
  private readonly answered = new Map<string, string>();
  private readonly key: Buffer | undefined;

  /** `signer`: a keyed meter's (shared with its events, so one counter covers both); a bare key makes one of its own. */
  constructor(
    private readonly matricula: string,
    signer: MeterSigner | Buffer | undefined,
    state: Partial<MeterControlState> = {},
    answered: Iterable<readonly [string, string]> = [],
  ) {
    this.signer = signer instanceof MeterSigner ? signer : new MeterSigner(signer);
    this.key = this.signer.key;
    this.state = { supply: 'ligado', limitW: null, clockOffsetMs: 0, ...state };
    for (const [id, line] of answered) this.answered.set(id, unsigned(line));
  }

  private readonly signer: MeterSigner;

  /** The answers remembered, oldest first: kept with the state so a restart never executes an id twice. */
  answeredEntries(): Array<[string, string]> {
    return [...this.answered.entries()];
  }

  /** Handles one line from the server at real time `now` (the meter's clock reads `now + clockOffsetMs`). */
  receive(line: string, now: number): ControlOutcome {
    const command = parseCommandLine(line);
    if (typeof command === 'string') return this.ignore('ignoredMalformed');
    if (command.matricula !== this.matricula) return this.ignore('ignoredOtherMeter');
    if (this.key !== undefined || SUPPLY_COMMANDS.has(command.type)) {
      if (this.key === undefined || command.signature === undefined) return this.ignore('ignoredUnsigned');
      if (!verifyMac(command.signature.content, command.signature.mac, this.key)) return this.ignore('ignoredBadSignature');
    }
    const repeated = this.answered.get(command.id);
    // A repeat (the answer was lost) gets the same answer again, with a new counter, and nothing is executed twice.
    if (repeated !== undefined) {
      this.counters.ignoredReplayed++;
      return { kind: 'answer', line: this.signer.counted(repeated), readNow: false };
    }
    // Expiry by the meter's own clock (real time plus its offset), as a real meter can only judge it.
    if (now + this.state.clockOffsetMs >= command.expiresAt) return this.ignore('ignoredExpired');
    const { outcome, detail, readNow, event } = this.execute(command, now);
    const answer = serializeAnswer({ id: command.id, matricula: this.matricula, outcome, detail });
    this.answered.set(command.id, answer);
    if (this.answered.size > REMEMBERED_IDS) this.answered.delete(this.answered.keys().next().value as string);
    this.counters.executed++;
    return { kind: 'answer', line: this.signer.counted(answer), readNow, event };
  }

  private execute(command: CommandLine, now: number): Execution {
    switch (command.type) {
      case 'leitura':
        return { outcome: 'executado', detail: 'leitura enviada', readNow: true };
      case 'corte':
        this.state.supply = 'cortado';
        return { outcome: 'executado', detail: 'fornecimento cortado', readNow: true, event: { type: 'corte_executado', detail: `comando ${command.id}` } };
      case 'religacao':
        this.state.supply = 'ligado';
        return { outcome: 'executado', detail: 'fornecimento religado', readNow: true, event: { type: 'religacao_executada', detail: `comando ${command.id}` } };
      case 'limite_demanda': {
        const kw = command.parameters.kw;
        if (kw === undefined) return { outcome: 'falhou', detail: 'parâmetro kw ausente', readNow: false };
        if (kw === 'null') {
          this.state.limitW = null;
          return { outcome: 'executado', detail: 'limite removido', readNow: false };
        }
        if (!KW.test(kw)) return { outcome: 'falhou', detail: `kw inválido: ${kw.slice(0, 20)}`, readNow: false };
        this.state.limitW = Math.round(Number(kw) * 1000);
        return { outcome: 'executado', detail: `limite ${kw} kW`, readNow: false };
      }
      case 'sincronizar_relogio': {
        const server = Number(command.parameters.servidor_ms);
        if (!Number.isSafeInteger(server)) return { outcome: 'falhou', detail: 'parâmetro servidor_ms ausente', readNow: false };
        const before = this.state.clockOffsetMs;
        this.state.clockOffsetMs = server - now;
        const detail = `relógio ajustado em ${this.state.clockOffsetMs - before} ms`;
        return { outcome: 'executado', detail, readNow: false, event: { type: 'relogio_ajustado', detail } };
      }
    }
  }

  private ignore(reason: keyof ControlCounters): ControlOutcome {
    this.counters[reason]++;
    return { kind: 'ignored', reason };
  }
}

/** An answer as remembered: without counter and MAC (a state saved before counters kept the signed line). */
function unsigned(line: string): string {
  const answer = parseAnswerLine(line);
  return typeof answer === 'string' ? line : serializeAnswer(answer);
}
