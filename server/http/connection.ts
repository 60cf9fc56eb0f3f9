/**
 * One TCP connection of the HTTP server: feeds the parser, answers
 * pipelined requests in order, keeps the connection alive or closes it
 * (RFC 9112 §9), applies back-pressure, and enforces timeouts.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RequestParser, type ParserLimits, type Request } from '../../protocol/http/request-parser.js';
import { CONTINUE_RESPONSE, serializeResponse, type ResponseParts } from '../../protocol/http/response.js';
import { HttpError } from './http-error.js';
import type { Responder } from './responder.js';

export interface ConnectionLimits {
  readonly parser: ParserLimits;
  /** Requests read ahead of the one being answered; past it the socket is not read. */
  readonly maxPipelined: number;
  /** Time allowed for a request's header section to arrive whole, from its first byte (ms); 408 past it. */
  readonly headerTimeoutMs: number;
  /** Time allowed for a request's body to arrive whole, from the end of its head (ms); 408 past it. */
  readonly bodyTimeoutMs: number;
  /** Time an idle keep-alive connection is kept open (ms). */
  readonly idleTimeoutMs: number;
}

export interface ConnectionContext {
  readonly responder: Responder;
  readonly logger: Logger;
  readonly limits: ConnectionLimits;
  /** The current time in ms. */
  now(): number;
  /** The current Date header value. */
  date(): string;
}

interface Slot {
  bytes: Buffer | undefined;
  readonly close: boolean;
}

/** The answer to an error outside any route, telling the client the connection closes after it. */
export function closingAnswer(responder: Responder, error: unknown, date: string): Buffer {
  const parts = responder.protocolError(error);
  return serializeResponse({ ...parts, headers: [...parts.headers, ['Connection', 'close']] }, date, false);
}

export class HttpConnection {
  private readonly socket: Socket;
  private readonly context: ConnectionContext;
  private readonly parser: RequestParser;
  private readonly queue: Slot[] = [];
  /** No more requests are read: the last one asked to close, or framing was lost. */
  private stopReading = false;
  private paused = false;
  private waitingForDrain = false;
  private flushScheduled = false;
  private draining = false;
  private peerEnded = false;
  private ended = false;
  /** Which part of a request is arriving, and since when: what the timeouts measure. */
  private arriving: 'head' | 'body' | undefined;
  private arrivingSince = 0;
  private lastActivityAt: number;

  constructor(socket: Socket, context: ConnectionContext) {
    this.socket = socket;
    this.context = context;
    this.parser = new RequestParser(context.limits.parser);
    this.lastActivityAt = context.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.updateFlow();
    });
    socket.on('end', () => {
      this.peerEnded = true;
      this.endIfDone();
    });
    socket.on('error', (error) => context.logger.debug({ err: error }, 'connection error'));
  }

  /** Called about once a second: enforces the header, body and idle timeouts. */
  checkTimeouts(now: number): void {
    if (this.ended) return;
    const { headerTimeoutMs, bodyTimeoutMs } = this.context.limits;
    if (this.arriving !== undefined && now - this.arrivingSince > (this.arriving === 'head' ? headerTimeoutMs : bodyTimeoutMs)) {
      const message = this.arriving === 'head' ? 'Os cabeçalhos da requisição não chegaram completos a tempo.' : 'O corpo da requisição não chegou completo a tempo.';
      this.arriving = undefined;
      this.fail(new HttpError(408, 'tempo_esgotado', message));
    } else if (this.queue.length === 0 && this.parser.idle && now - this.lastActivityAt > this.context.limits.idleTimeoutMs) {
      this.finish();
    }
  }

  /** Graceful shutdown: answer what has been read, then close. */
  shutdown(): void {
    this.draining = true;
    this.stopReading = true;
    this.endIfDone();
  }

  private onData(chunk: Buffer): void {
    this.lastActivityAt = this.context.now();
    if (this.stopReading) return;
    this.parser.feed(chunk);
    this.pump();
  }

  /** Pulls complete requests from the parser while the pipeline has room. */
  private pump(): void {
    while (!this.stopReading && this.queue.length < this.context.limits.maxPipelined) {
      const step = this.parser.next();
      if (step.kind === 'incomplete') {
        if (!this.parser.idle && this.arriving === undefined) this.startArriving('head');
        break;
      }
      if (step.kind === 'head') {
        this.startArriving('body');
        // RFC 9110 §10.1.1: interim answer only when no earlier answer is still owed.
        if (step.head.expectContinue && this.queue.length === 0) this.socket.write(CONTINUE_RESPONSE);
        continue;
      }
      this.arriving = undefined;
      if (step.kind === 'error') {
        this.fail(step.error);
        break;
      }
      this.dispatch(step.request);
    }
    this.updateFlow();
  }

  private startArriving(part: 'head' | 'body'): void {
    this.arriving = part;
    this.arrivingSince = this.context.now();
  }

  private dispatch(request: Request): void {
    const { head } = request;
    const close = !head.keepAlive;
    if (close) this.stopReading = true;
    const slot: Slot = { bytes: undefined, close };
    this.queue.push(slot);
    const connectionHeader: ReadonlyArray<readonly [string, string]> = close
      ? [['Connection', 'close']]
      : head.httpMinor === 0
        ? [['Connection', 'keep-alive']]
        : [];
    void this.context.responder.respond(request).then((parts) => {
      const response: ResponseParts = connectionHeader.length === 0 ? parts : { ...parts, headers: [...parts.headers, ...connectionHeader] };
      slot.bytes = serializeResponse(response, this.context.date(), head.method === 'HEAD');
      this.scheduleFlush();
    });
  }

  /** Answers an error that leaves the framing unknown, then closes (RFC 9112 §9.6). */
  private fail(error: unknown): void {
    this.stopReading = true;
    this.queue.push({ bytes: closingAnswer(this.context.responder, error, this.context.date()), close: true });
    this.flush();
  }

  /**
   * Flushes once the microtask queue has drained: by then every answer to a
   * pipelined burst that could finish has, and they all go in one write.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes finished answers in request order, all that are ready in one write. */
  private flush(): void {
    if (this.ended) return;
    const ready: Buffer[] = [];
    let close = false;
    while (this.queue[0]?.bytes !== undefined) {
      const slot = this.queue.shift() as Slot;
      ready.push(slot.bytes as Buffer);
      if (slot.close) {
        close = true;
        break;
      }
    }
    if (ready.length > 0 && !this.socket.write(ready.length === 1 ? (ready[0] as Buffer) : Buffer.concat(ready))) this.waitingForDrain = true;
    if (close) {
      this.finish();
      return;
    }
    this.updateFlow();
    this.endIfDone();
  }

  private updateFlow(): void {
    if (this.ended) return;
    const shouldPause = this.waitingForDrain || this.queue.length >= this.context.limits.maxPipelined;
    if (shouldPause && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!shouldPause && this.paused) {
      this.paused = false;
      this.socket.resume();
      this.pump();
    }
  }

  private endIfDone(): void {
    if (this.queue.length > 0) return;
    if (this.draining || this.peerEnded) this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.socket.end();
  }
}
