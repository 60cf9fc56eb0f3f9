/**
 * Delivers commands to meters over their UDP channel and tracks each to
 * its end (issue 16). Commands not yet final are kept here, loaded from the
 * store at start-up: a command accepted before a crash is delivered after
 * it. Each is sent, signed with the meter's key when it has one, to the
 * address the meter last spoke from, and sent again with backoff until the
 * meter answers or the validity ends. Every change goes through the
 * command's state machine (domain/commands.ts) and the store's
 * compare-and-set, one change of a command at a time.
 */
import type { Logger } from 'pino';
import type { CommandStore, StoredCommand } from '../../database/command-store.js';
import { parseAnswerLine, serializeCommand } from '../../protocol/meter-commands.js';
import { FINAL_STATES, nextSendAt, transition, type CommandEvent } from '../../domain/commands.js';
import type { MeterLine, MeterLineVerdict } from './meter-authentication.js';
import type { MeterAddress } from './ingest.js';
import { counter, type ExpositionWriter } from '../metrics.js';

/** How often due sends and expiries are looked for. */
export const DELIVERY_TICK_MS = 200;

export interface CommandDeliveryOptions {
  readonly commands: CommandStore;
  readonly logger: Logger;
  /** Where the meter last spoke from; undefined until it does. */
  readonly addressOf: (matricula: string) => MeterAddress | undefined;
  readonly send: (lines: readonly string[], to: MeterAddress) => void;
  /** The line signed with the meter's key when it has one. */
  readonly sign: (line: string, matricula: string) => string;
  /** Whether lines of meters are authentic and fresh (MeterLineGate). */
  readonly admit: (lines: readonly MeterLine[]) => Promise<MeterLineVerdict[]>;
  /** Noted when a fresh, authentic answer arrives: where the meter speaks from. */
  readonly heardFrom: (matricula: string, from: MeterAddress) => void;
  /** Told of every stored change of a command (live events); must not throw. */
  readonly onChange: (command: StoredCommand) => void;
  readonly now?: () => number;
}

export interface DeliveryCounters {
  sent: number;
  answers: number;
  /** Answers that were not authentic, malformed, or for no command of that meter. */
  answersIgnored: number;
  /** Authentic answers of keyed meters refused as replays (no invocation counter above the newest accepted). */
  answersReplayed: number;
}

export class CommandDelivery {
  readonly counters: DeliveryCounters = { sent: 0, answers: 0, answersIgnored: 0, answersReplayed: 0 };
  private readonly open = new Map<string, StoredCommand>();
  /** Per command, the change under way: changes of one command never overlap. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private closed = false;

  constructor(private readonly options: CommandDeliveryOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the commands not yet final and starts delivering. */
  async start(): Promise<void> {
    for (const command of await this.options.commands.open()) this.open.set(command.id, command);
    this.timer = setInterval(() => void this.tick(), DELIVERY_TICK_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Commands of `matricula` not yet final, oldest first. */
  pendingOf(matricula: string): StoredCommand[] {
    return [...this.open.values()].filter((c) => c.matricula === matricula).sort((a, b) => a.createdAt - b.createdAt);
  }

  get openCount(): number {
    return this.open.size;
  }

  /** A command just created: delivered at once when its meter's address is known. */
  accepted(command: StoredCommand): void {
    if (FINAL_STATES.has(command.state)) return;
    if (!this.open.has(command.id)) this.open.set(command.id, command);
    void this.deliver(command.id);
  }

  /** A command another server created or changed (the change feed): taken as the store has it now, and told to live listeners. */
  refresh(id: string): Promise<StoredCommand | undefined> {
    return this.serially(id, async () => {
      const command = await this.options.commands.get(id);
      if (command === undefined) return undefined;
      if (FINAL_STATES.has(command.state)) this.open.delete(id);
      else this.open.set(id, command);
      this.told(command);
      return command;
    });
  }

  /** Cancels a command not yet final; answers it as it is after (unchanged when already final). */
  cancel(command: StoredCommand): Promise<StoredCommand> {
    return this.apply(command.id, { kind: 'cancel', at: this.now() }, command);
  }

  /** Datagram of RESPOSTA lines from `from`; resolves once each is judged and its change begun. */
  async answered(lines: readonly string[], from: MeterAddress): Promise<void> {
    const answers = [];
    for (const line of lines) {
      const answer = parseAnswerLine(line);
      if (typeof answer === 'string') this.counters.answersIgnored++;
      else answers.push(answer);
    }
    const verdicts = await this.options.admit(answers);
    for (const [i, answer] of answers.entries()) {
      const verdict = verdicts[i];
      if (verdict !== 'fresh') {
        if (verdict === 'replayed') this.counters.answersReplayed++;
        else this.counters.answersIgnored++;
        continue;
      }
      // Only a fresh, authentic line says where the meter is: a replayed one would steer its commands to the replayer.
      this.options.heardFrom(answer.matricula, from);
      const command = this.open.get(answer.id);
      // A late copy of an answer to a command already final, or an answer in another meter's name: nothing to do.
      if (command === undefined || command.matricula !== answer.matricula) {
        if (command !== undefined) this.counters.answersIgnored++;
        continue;
      }
      this.counters.answers++;
      const at = this.now();
      void this.apply(command.id, answer.outcome === 'executado' ? { kind: 'executed', at, result: answer.detail } : { kind: 'failed', at, reason: answer.detail || 'sem motivo' });
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      const now = this.now();
      for (const command of this.open.values()) {
        if (this.chains.has(command.id)) continue;
        if (now >= command.expiresAt) void this.apply(command.id, { kind: 'expire', at: now });
        else {
          const due = nextSendAt(command);
          if (due !== undefined && due <= now && this.options.addressOf(command.matricula) !== undefined) void this.deliver(command.id);
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Sends a command now: recorded as sent (another attempt), then put on the wire. */
  private deliver(id: string): Promise<StoredCommand> {
    return this.serially(id, async () => {
      const command = this.open.get(id);
      if (command === undefined) return undefined;
      const to = this.options.addressOf(command.matricula);
      const due = nextSendAt(command);
      if (to === undefined || due === undefined || due > this.now()) return command;
      const sent = await this.change(command, { kind: 'send', at: this.now() });
      if (sent.state !== 'enviado' || sent.attempts !== command.attempts + 1) return sent;
      // The server's clock travels in the line, read as it leaves: what a clock sync sets the meter to.
      const parameters = sent.type === 'sincronizar_relogio' ? { ...sent.parameters, servidor_ms: String(this.now()) } : sent.parameters;
      const line = serializeCommand({ id: sent.id, matricula: sent.matricula, type: sent.type, expiresAt: sent.expiresAt, parameters });
      this.options.send([this.options.sign(line, sent.matricula)], to);
      this.counters.sent++;
      return sent;
    }) as Promise<StoredCommand>;
  }

  private apply(id: string, event: CommandEvent, known?: StoredCommand): Promise<StoredCommand> {
    return this.serially(id, async () => {
      const command = this.open.get(id) ?? known;
      if (command === undefined) return undefined;
      return this.change(command, event);
    }) as Promise<StoredCommand>;
  }

  /** One transition, stored by compare-and-set; what is stored after it (another server's change wins a race). */
  private async change(command: StoredCommand, event: CommandEvent): Promise<StoredCommand> {
    const next = transition(command, event);
    if (typeof next === 'string') {
      if (next === 'expired') return this.change(command, { kind: 'expire', at: event.at });
      return command;
    }
    const { command: stored, applied } = await this.options.commands.update(command, { ...command, ...next });
    if (FINAL_STATES.has(stored.state)) this.open.delete(stored.id);
    else this.open.set(stored.id, stored);
    if (applied) this.told(stored);
    return stored;
  }

  private told(command: StoredCommand): void {
    try {
      this.options.onChange(command);
    } catch (error) {
      this.options.logger.error({ err: error }, 'bug: a listener of command changes failed');
    }
  }

  private serially(id: string, work: () => Promise<StoredCommand | undefined>): Promise<StoredCommand | undefined> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch((error: unknown) => {
      this.options.logger.warn({ err: error, command: id }, 'could not store a change of a command; will retry');
      return undefined;
    });
    this.chains.set(id, settled);
    void settled.finally(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }

  /** Its families in /metricas: COMANDO lines sent, answers, and commands open. */
  writeMetrics(out: ExpositionWriter): void {
    const d = this.counters;
    counter(out, 'consumo_comandos_enviados_total', 'COMANDO lines sent to meters (each retry counts).', d.sent);
    counter(out, 'consumo_comandos_respostas_total', 'Authentic answers of meters to commands not yet finished.', d.answers);
    counter(out, 'consumo_comandos_respostas_ignoradas_total', 'Answers malformed, not authentic, or naming another meter.', d.answersIgnored);
    out.family('consumo_comandos_abertos', 'gauge', 'Commands pendente or enviado.').sample('consumo_comandos_abertos', this.openCount);
  }
}
