/**
 * One TCP connection of the HTTP server: feeds the parser, answers
 * pipelined requests in order, keeps the connection alive or closes it
 * (RFC 9112 §9), applies back-pressure, and enforces timeouts.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RequestParser, type ParserLimits, type Request } from '../../protocol/http/request-parser.js';
import {
  CONTINUE_RESPONSE,
  encodeChunk,
  LAST_CHUNK,
  serializeResponse,
  serializeStreamHead,
  type HeaderList,
  type ResponseParts,
  type StreamFraming,
} from '../../protocol/http/response.js';
import { HttpError } from './http-error.js';
import { ParseError } from '../../protocol/http/parse-error.js';
import type { Resolution, Responder } from './responder.js';
import type { RouteTraits } from './router.js';
import * as life from './connection-life.js';

export interface ConnectionLimits {
  readonly parser: ParserLimits;
  /** Requests read ahead of the one being answered; past it the socket is not read. */
  readonly maxPipelined: number;
  /**
   * Time allowed for a request's header section to arrive whole, from its
   * first byte, and for a new connection's first request, from the connection
   * (ms); 408 past it (a connection that never asks holds no slot for long).
   */
  readonly headerTimeoutMs: number;
  /** Time allowed for a request's body to arrive whole, from the end of its head (ms); 408 past it. */
  readonly bodyTimeoutMs: number;
  /** Time an idle keep-alive connection is kept open (ms). */
  readonly idleTimeoutMs: number;
  /** A client that takes none of the bytes waiting for it for this long (ms) is cut, streams included. */
  readonly writeTimeoutMs: number;
}

/**
 * Answer bytes a connection may hold for a client that is not reading them
 * (in its socket's buffer, or finished and waiting their turn) before it
 * stops reading and dispatching requests. With heavy requests run one at a
 * time, a connection holds at most this plus one heavy answer.
 */
export const MAX_BUFFERED_ANSWER_BYTES = 256 * 1024;

const CONNECTION_CLOSE: HeaderList = [['Connection', 'close']];
const CONNECTION_KEEP_ALIVE: HeaderList = [['Connection', 'keep-alive']];
const NO_CONNECTION_HEADER: HeaderList = [];

export interface ConnectionContext {
  readonly responder: Responder;
  readonly logger: Logger;
  readonly limits: ConnectionLimits;
  /** The current time in ms. */
  now(): number;
  /** The current Date header value. */
  date(): string;
  /** Where connections with answers ready wait for the round's writes. */
  readonly writes: WriteRound;
}

/**
 * Answers are written once per turn of the event loop, in its check phase:
 * after every socket readable in this poll round has been read and
 * answered, and after the microtasks those answers ran on. The writes to
 * all connections then go out back to back. On loopback and in VMs a write
 * that wakes the client is the dearest part of a request; writes in a row
 * find it awake, and a round costs a small fraction of as many scattered
 * writes (bench/RESULTS.md, section 1). A pipelined burst still leaves in
 * one write per connection.
 */
export class WriteRound {
  private pending: HttpConnection[] = [];
  private scheduled = false;

  add(connection: HttpConnection): void {
    this.pending.push(connection);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const connections = this.pending;
    this.pending = [];
    for (const connection of connections) connection.flushRound();
  };
}

interface Slot {
  /** The whole answer, or the head of a streamed one, as text sent as UTF-8; undefined until the route answers. */
  text: string | undefined;
  close: boolean;
  /** An endless stream (Server-Sent Events): the client ending its side means it left. */
  exclusive?: boolean;
  /** A streamed body, sent after `text` once every earlier answer is out. */
  stream?: { readonly produce: (signal: AbortSignal) => AsyncIterable<string | Uint8Array>; readonly framing: StreamFraming } | undefined;
}

/** The answer to an error outside any route, telling the client the connection closes after it. */
export function closingAnswer(responder: Responder, error: unknown, date: string): string {
  const parts = responder.protocolError(error);
  const headOnly = error instanceof ParseError && error.method === 'HEAD';
  return serializeResponse({ ...parts, headers: [...parts.headers, ['Connection', 'close']] }, date, headOnly);
}

export class HttpConnection {
  private readonly socket: Socket;
  private readonly context: ConnectionContext;
  private readonly parser: RequestParser;
  private readonly queue: Slot[] = [];
  /** Reading, finishing, draining or closed, and what the timeouts measure (connection-life.ts). */
  private life: life.ConnectionLife;
  private paused = false;
  private waitingForDrain = false;
  private flushScheduled = false;
  private peerEnded = false;
  /** Aborts the body being streamed, if any: the client left or the server is stopping. */
  private streaming: AbortController | undefined;
  private drainWaiters: Array<() => void> = [];
  /** Aborted when the socket closes: routes stop long work for a client that left. */
  private readonly gone = new AbortController();
  /** A request read but not dispatched yet: it waits for the client to read, or for a heavy one to finish. */
  private held: { readonly request: Request; readonly resolution: Resolution } | undefined;
  /** Requests dispatched whose route has not answered yet, and how many of those are heavy. */
  private unanswered = 0;
  private unansweredHeavy = 0;

  constructor(socket: Socket, context: ConnectionContext) {
    this.socket = socket;
    this.context = context;
    this.parser = new RequestParser(context.limits.parser);
    // The first request's head is due from the moment the connection opens (HTTP_TEMPO_CABECALHOS_MS).
    this.life = life.opened(context.now());
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.life = life.clientRead(this.life, this.context.now());
      this.waitingForDrain = false;
      this.wakeDrainWaiters();
      // The client read: a request held back for it may go now.
      if (this.held !== undefined) this.pump();
      else this.updateFlow();
    });
    socket.on('close', () => {
      this.life = life.close();
      this.gone.abort();
      this.streaming?.abort();
      this.wakeDrainWaiters();
    });
    socket.on('end', () => {
      this.peerEnded = true;
      // A client that ends its side of an endless stream has left: stop at once, so the socket does not linger in CLOSE-WAIT.
      if (this.streaming !== undefined && this.queue[0]?.exclusive === true) this.streaming.abort();
      this.endIfDone();
    });
    socket.on('error', (error) => context.logger.debug({ err: error }, 'connection error'));
  }

  /** Called about once a second: enforces the header, body, write and idle timeouts. */
  checkTimeouts(now: number): void {
    const waitingBytes = this.socket.writableLength;
    const { life: next, timeout } = life.tick(this.life, now, this.context.limits, { waitingBytes, idle: this.queue.length === 0 && this.parser.idle });
    this.life = next;
    if (timeout === 'escrita') {
      // It reads nothing: nothing more can be said to it, and what waits for it is dropped.
      this.context.logger.debug({ waitingBytes }, 'client read nothing for too long; closing');
      this.life = life.close();
      this.streaming?.abort();
      this.queue.length = 0;
      // A reset, not a FIN (nginx's reset_timedout_connection): the kernel drops the unsent bytes at once instead of holding them in FIN-WAIT.
      this.socket.resetAndDestroy();
    } else if (timeout === 'cabecalhos') this.fail(new HttpError('tempo_esgotado', 'Os cabeçalhos da requisição não chegaram completos a tempo.'));
    else if (timeout === 'corpo') this.fail(new HttpError('tempo_esgotado', 'O corpo da requisição não chegou completo a tempo.'));
    else if (timeout === 'ocioso') this.finish();
  }

  /** Graceful shutdown: answer what has been read, then close. */
  shutdown(): void {
    this.life = life.drain(this.life);
    this.streaming?.abort();
    this.endIfDone();
  }

  private onData(chunk: Buffer): void {
    this.life = life.bytesArrived(this.life, this.context.now());
    if (this.life.state !== 'reading') return;
    this.parser.feed(chunk);
    this.pump();
  }

  /** Answer bytes waiting for the client in this process: in the socket's buffer, and finished answers waiting their turn. */
  bufferedBytes(): number {
    let bytes = this.socket.writableLength;
    for (const slot of this.queue) if (slot.text !== undefined) bytes += slot.text.length;
    return bytes;
  }

  /**
   * Whether a request may be dispatched now: only while the client reads
   * what it is sent (MAX_BUFFERED_ANSWER_BYTES), and a heavy request only
   * when nothing else of the connection is being worked on, and nothing
   * heavy is: a client that pipelines heavy requests and reads nothing holds
   * one heavy answer, not thirty-two.
   */
  private mayDispatch(traits: RouteTraits): boolean {
    if (this.bufferedBytes() >= MAX_BUFFERED_ANSWER_BYTES) return false;
    if (this.unansweredHeavy > 0) return false;
    return traits.heavy !== true || this.unanswered === 0;
  }

  /** Pulls complete requests from the parser while the pipeline has room. */
  private pump(): void {
    if (this.held !== undefined) {
      const { request, resolution } = this.held;
      if (!this.mayDispatch(resolution.traits)) return this.updateFlow();
      this.held = undefined;
      this.dispatch(request, resolution);
    }
    while (this.life.state === 'reading' && this.queue.length < this.context.limits.maxPipelined) {
      const step = this.parser.next();
      if (step.kind === 'incomplete') {
        if (!this.parser.idle && this.life.arriving === undefined) this.life = life.arriving(this.life, 'head', this.context.now());
        break;
      }
      if (step.kind === 'head') {
        this.life = life.arriving(this.life, 'body', this.context.now());
        // RFC 9110 §10.1.1: interim answer only when no earlier answer is still owed.
        if (step.head.expectContinue && this.queue.length === 0) this.socket.write(CONTINUE_RESPONSE);
        continue;
      }
      this.life = life.arrived(this.life);
      if (step.kind === 'error') {
        this.fail(step.error);
        break;
      }
      const resolution = this.context.responder.resolve(step.request);
      if (!this.mayDispatch(resolution.traits)) {
        this.held = { request: step.request, resolution };
        break;
      }
      this.dispatch(step.request, resolution);
    }
    this.updateFlow();
  }

  private dispatch(request: Request, resolution: Resolution): void {
    const traits = resolution.traits;
    const { head } = request;
    const close = !head.keepAlive;
    // An endless stream holds the connection: nothing after it is read, let alone dispatched
    // (a HEAD or OPTIONS of it is no stream).
    const exclusive = traits.exclusive === true && head.method === 'GET';
    if (close || exclusive) this.life = life.stopReading(this.life);
    const slot: Slot = { text: undefined, close, exclusive };
    this.queue.push(slot);
    const heavy = traits.heavy === true;
    this.unanswered++;
    if (heavy) this.unansweredHeavy++;
    const connectionHeader = close ? CONNECTION_CLOSE : head.httpMinor === 0 ? CONNECTION_KEEP_ALIVE : NO_CONNECTION_HEADER;
    void this.context.responder.respond(request, this.socket.remoteAddress ?? '', this.gone.signal, resolution).then((parts) => {
      this.unanswered--;
      if (heavy) this.unansweredHeavy--;
      if (parts.stream !== undefined) {
        // HTTP/1.0 has no chunked coding: the body ends when the connection closes.
        const framing: StreamFraming = head.httpMinor === 0 ? 'close' : 'chunked';
        if (framing === 'close' && !close) {
          slot.close = true;
          this.life = life.stopReading(this.life);
        }
        const headers = slot.close ? [...parts.headers, ['Connection', 'close'] as const] : parts.headers;
        slot.text = serializeStreamHead({ ...parts, headers }, this.context.date(), framing);
        if (head.method !== 'HEAD') slot.stream = { produce: parts.stream, framing };
      } else {
        // The stream was refused (an error): nothing more is read on this connection, so it closes after the answer.
        if (exclusive && !close) slot.close = true;
        const closing = exclusive && !close ? CONNECTION_CLOSE : connectionHeader;
        const response: ResponseParts = closing.length === 0 ? parts : { ...parts, headers: [...parts.headers, ...closing] };
        slot.text = serializeResponse(response, this.context.date(), head.method === 'HEAD');
      }
      this.scheduleFlush();
      // An answer in hand may let a held request go.
      if (this.held !== undefined) this.pump();
    });
  }

  /** Answers an error that leaves the framing unknown, then closes (RFC 9112 §9.6). */
  private fail(error: unknown): void {
    this.life = life.stopReading(this.life);
    this.queue.push({ text: closingAnswer(this.context.responder, error, this.context.date()), close: true });
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.context.writes.add(this);
  }

  /** Called by the WriteRound this connection joined. */
  flushRound(): void {
    this.flushScheduled = false;
    this.flush();
  }

  /** Writes finished answers in request order, all that are ready in one write. */
  private flush(): void {
    if (this.life.state === 'closed' || this.streaming !== undefined) return;
    let ready = '';
    let close = false;
    let streamed: Slot | undefined;
    for (let slot = this.queue[0]; slot?.text !== undefined; slot = this.queue[0]) {
      ready += slot.text;
      if (slot.stream !== undefined) {
        // Stays first in the queue until its body is out: later answers wait behind it.
        streamed = slot;
        break;
      }
      this.queue.shift();
      if (slot.close) {
        close = true;
        break;
      }
    }
    if (ready.length > 0 && !this.socket.write(ready, 'utf8')) this.waitingForDrain = true;
    if (streamed !== undefined) {
      void this.sendStream(streamed);
      return;
    }
    if (close) {
      this.finish();
      return;
    }
    this.updateFlow();
    this.endIfDone();
    // The kernel may have taken everything at once (no 'drain' will come): a held request can go now.
    if (this.held !== undefined && !this.waitingForDrain) this.pump();
  }

  /**
   * Sends a streamed body piece by piece, waiting for the socket to drain
   * between pieces: a slow reader slows only its own stream. A body cut
   * short (producer failed, client left, server stopping) is never ended
   * as if complete: the connection closes without the last chunk.
   */
  private async sendStream(slot: Slot): Promise<void> {
    const { produce, framing } = slot.stream as NonNullable<Slot['stream']>;
    const controller = new AbortController();
    this.streaming = controller;
    let complete = false;
    try {
      for await (const text of produce(controller.signal)) {
        if (this.life.state === 'closed' || controller.signal.aborted) break;
        const chunk = encodeChunk(text, framing);
        if (chunk.length > 0 && !this.socket.write(chunk)) {
          this.waitingForDrain = true;
          this.updateFlow();
          await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
        }
      }
      complete = this.life.state !== 'closed' && !controller.signal.aborted;
    } catch (error) {
      const expected = (error as { expected?: unknown }).expected === true;
      this.context.logger[expected ? 'debug' : 'warn']({ err: error }, 'streamed response ended early; closing the connection');
    }
    this.streaming = undefined;
    this.queue.shift();
    if (!complete || framing === 'close') {
      this.finish();
      return;
    }
    // A whole chunked body always ends with its last chunk, also when the connection closes after it.
    this.socket.write(LAST_CHUNK);
    if (slot.close) {
      this.finish();
      return;
    }
    this.flush();
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  private updateFlow(): void {
    if (this.life.state === 'closed') return;
    const shouldPause = this.waitingForDrain || this.held !== undefined || this.queue.length >= this.context.limits.maxPipelined;
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
    if (this.life.state === 'draining' || this.peerEnded) this.finish();
  }

  private finish(): void {
    if (this.life.state === 'closed') return;
    this.life = life.close();
    this.queue.length = 0;
    this.socket.end();
  }
}
