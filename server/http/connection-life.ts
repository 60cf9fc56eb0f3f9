/**
 * A connection's life as a tagged union with named transitions, pure: the
 * clock is given to every transition that needs it. The connection
 * (connection.ts) holds one of these and asks `tick` about once a second
 * which timeout, if any, has run out; tests drive it with made-up times.
 *
 *   reading ──stopReading──▶ finishing ──┐
 *      │                        │        ├──close──▶ closed
 *      └─────────drain──────────┴─▶ draining ──┘
 *
 * - `reading`: requests are read; `arriving` is the part of one on its way
 *   (its head, from the connection's first moment, or its body), whose
 *   timeout runs (RFC 9112 §9.5's "timeout" for slow clients).
 * - `finishing`: no more requests are read (the last asked to close, the
 *   framing was lost, or an endless stream holds the connection); the
 *   answers owed go out, then it closes.
 * - `draining`: the server is stopping: what was read is answered, nothing
 *   more is read, then it closes.
 * - `closed`: nothing more is written or read.
 *
 * In every state but `closed`, a client that takes none of the bytes waiting
 * for it for `writeTimeoutMs` is cut (`escrita`).
 */

export interface LifeLimits {
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly writeTimeoutMs: number;
}

/** A part of a request on its way, since when. */
export interface Arrival {
  readonly part: 'head' | 'body';
  readonly since: number;
}

/** When the client last took bytes (or had none waiting), and how many were waiting then. */
export interface WriteProgress {
  readonly at: number;
  readonly waiting: number;
}

export type ConnectionLife =
  | { readonly state: 'reading'; readonly arriving: Arrival | undefined; readonly lastActivityAt: number; readonly write: WriteProgress }
  | { readonly state: 'finishing'; readonly lastActivityAt: number; readonly write: WriteProgress }
  | { readonly state: 'draining'; readonly lastActivityAt: number; readonly write: WriteProgress }
  | { readonly state: 'closed' };

/** Which timeout ran out: the client reads nothing, a request's head or body came too slowly, or a kept-alive connection sat idle. */
export type Timeout = 'escrita' | 'cabecalhos' | 'corpo' | 'ocioso';

/** What `tick` needs to know of the connection besides its life. */
export interface TickFacts {
  /** Bytes waiting in the socket for the client. */
  readonly waitingBytes: number;
  /** Whether nothing is owed: no request read and unanswered, no partial request in the parser. */
  readonly idle: boolean;
}

/** A new connection: its first request's head is due from now. */
export function opened(now: number): ConnectionLife {
  return { state: 'reading', arriving: { part: 'head', since: now }, lastActivityAt: now, write: { at: now, waiting: 0 } };
}

/** Bytes came from the client. */
export function bytesArrived(life: ConnectionLife, now: number): ConnectionLife {
  return life.state === 'closed' ? life : { ...life, lastActivityAt: now };
}

/** A request's head (its first bytes came) or body (its head is complete) is on its way. */
export function arriving(life: ConnectionLife, part: Arrival['part'], now: number): ConnectionLife {
  return life.state === 'reading' ? { ...life, arriving: { part, since: now } } : life;
}

/** A request arrived whole (or failed to parse): nothing of one is on its way. */
export function arrived(life: ConnectionLife): ConnectionLife {
  return life.state === 'reading' && life.arriving !== undefined ? { ...life, arriving: undefined } : life;
}

/** No more requests are read; what is owed is answered. */
export function stopReading(life: ConnectionLife): ConnectionLife {
  return life.state === 'reading' ? { state: 'finishing', lastActivityAt: life.lastActivityAt, write: life.write } : life;
}

/** The server is stopping: answer what was read, then close. */
export function drain(life: ConnectionLife): ConnectionLife {
  return life.state === 'reading' || life.state === 'finishing' ? { state: 'draining', lastActivityAt: life.lastActivityAt, write: life.write } : life;
}

/** The socket is done (ended, reset, or closed by the client). */
export function close(): ConnectionLife {
  return { state: 'closed' };
}

/** The client took bytes: the socket drained. */
export function clientRead(life: ConnectionLife, now: number): ConnectionLife {
  return life.state === 'closed' ? life : { ...life, write: { at: now, waiting: life.write.waiting } };
}

/**
 * The clock's tick: the life updated with what the socket shows now, and
 * the timeout that ran out, if any. The write timeout wins (nothing can be
 * said to a client that reads nothing); the connection closes on any.
 */
export function tick(life: ConnectionLife, now: number, limits: LifeLimits, facts: TickFacts): { readonly life: ConnectionLife; readonly timeout: Timeout | undefined } {
  if (life.state === 'closed') return { life, timeout: undefined };
  const progressed = facts.waitingBytes === 0 || facts.waitingBytes < life.write.waiting;
  const write: WriteProgress = { at: progressed ? now : life.write.at, waiting: facts.waitingBytes };
  const next = { ...life, write };
  if (now - write.at > limits.writeTimeoutMs) return { life: next, timeout: 'escrita' };
  if (next.state === 'reading' && next.arriving !== undefined) {
    const { part, since } = next.arriving;
    if (now - since > (part === 'head' ? limits.headerTimeoutMs : limits.bodyTimeoutMs)) return { life: { ...next, arriving: undefined }, timeout: part === 'head' ? 'cabecalhos' : 'corpo' };
  }
  if (facts.idle && now - next.lastActivityAt > limits.idleTimeoutMs) return { life: next, timeout: 'ocioso' };
  return { life: next, timeout: undefined };
}
