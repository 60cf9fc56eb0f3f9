/**
 * A command to a meter and its life, as a state machine you can see:
 *
 *   pendente --send--> enviado --send (retry)--> enviado
 *   pendente | enviado --executed--> executado
 *   pendente | enviado --failed--> falhou        (the meter's reason)
 *   pendente | enviado --expire--> expirado      (validity over)
 *   pendente | enviado --cancel--> cancelado     (someone asked)
 *
 * The four last states are final. Pure: the clock is an argument. The
 * delivery over UDP (issue 16) is built on this; so far it is the rule only.
 */

export const COMMAND_TYPES = ['leitura', 'corte', 'religacao', 'limite_demanda', 'sincronizar_relogio'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];
export const COMMAND_STATES = ['pendente', 'enviado', 'executado', 'falhou', 'expirado', 'cancelado'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];
export const FINAL_STATES: ReadonlySet<CommandState> = new Set(['executado', 'falhou', 'expirado', 'cancelado']);

/** Commands that change what a customer is supplied: only to a meter that can prove who it is (a key). */
export const KEYED_ONLY: ReadonlySet<CommandType> = new Set(['corte', 'religacao', 'limite_demanda']);

/** First retry after this; each further one waits twice as long, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 10_000;

export interface Command {
  readonly id: string;
  readonly matricula: string;
  readonly type: CommandType;
  readonly state: CommandState;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly attempts: number;
  readonly lastSentAt: number | null;
  readonly finishedAt: number | null;
  /** The meter's result (executado) or reason (falhou), as it said it. */
  readonly outcome: string | null;
}

export type CommandEvent =
  | { readonly kind: 'send'; readonly at: number }
  | { readonly kind: 'executed'; readonly at: number; readonly result: string }
  | { readonly kind: 'failed'; readonly at: number; readonly reason: string }
  | { readonly kind: 'expire'; readonly at: number }
  | { readonly kind: 'cancel'; readonly at: number };

export type Refusal = 'final' | 'expired' | 'not_expired';

/** The command after `event`, or why the event does not apply. */
export function transition(command: Command, event: CommandEvent): Command | Refusal {
  if (FINAL_STATES.has(command.state)) return 'final';
  switch (event.kind) {
    case 'send':
      // A command past its validity is never sent: it expires instead.
      if (event.at >= command.expiresAt) return 'expired';
      return { ...command, state: 'enviado', attempts: command.attempts + 1, lastSentAt: event.at };
    case 'executed':
      return { ...command, state: 'executado', finishedAt: event.at, outcome: event.result };
    case 'failed':
      return { ...command, state: 'falhou', finishedAt: event.at, outcome: event.reason };
    case 'expire':
      if (event.at < command.expiresAt) return 'not_expired';
      return { ...command, state: 'expirado', finishedAt: event.at };
    case 'cancel':
      return { ...command, state: 'cancelado', finishedAt: event.at };
  }
}

/** When a command not yet final should next be sent: at once when never sent, then with exponential backoff; undefined once it must expire. */
export function nextSendAt(command: Command): number | undefined {
  if (FINAL_STATES.has(command.state)) return undefined;
  const at = command.lastSentAt === null ? command.createdAt : command.lastSentAt + retryDelay(command.attempts);
  return at < command.expiresAt ? at : undefined;
}

/** The wait after the `attempts`-th send: 1 s, 2 s, 4 s, 8 s, then every 10 s (a lossy link still gets a try every 10 s; commands are rare, so that costs little). */
export function retryDelay(attempts: number): number {
  return Math.min(RETRY_FIRST_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS);
}
