/**
 * The HTTP listener on node:net: accepts connections, keeps the shared
 * Date header, checks timeouts once a second, and shuts down
 * gracefully.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { DEFAULT_PARSER_LIMITS } from '../../protocol/http/request-parser.js';
import { closingAnswer, HttpConnection, WriteRound, type ConnectionLimits } from './connection.js';
import { HttpError } from './http-error.js';
import { ThrottledWarning } from '../log-throttle.js';
import type { Responder } from './responder.js';
import { counter, type ExpositionWriter } from '../metrics.js';

export interface HttpLimits extends ConnectionLimits {
  /** Open connections past which a new one is answered 503 and closed. */
  readonly maxConnections: number;
  /** Open connections from one address past which a new one from it is answered 503 and closed. */
  readonly maxConnectionsPerSource: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  parser: DEFAULT_PARSER_LIMITS,
  maxPipelined: 32,
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  writeTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxConnectionsPerSource: 1000,
};
/**
 * The share of HTTP_MAX_CONEXOES kept for addresses that hold few
 * connections: past the rest, an address with SMALL_HOLDER or more open is
 * refused, so a few addresses each under their own limit cannot take every
 * slot from everyone else.
 */
const RESERVED_SHARE = 0.1;
const SMALL_HOLDER = 8;
/** How often timeouts are checked and the Date header refreshed. */
const TICK_MS = 1000;
/** Connections still busy this long after shutdown starts are cut. */
const SHUTDOWN_GRACE_MS = 5000;
/** A refused connection that does not close after its 503 is cut after this. */
const REFUSED_LINGER_MS = 2000;
/** What a connection past the limit gets before it is closed: a client can tell "busy" from "down". */
const BUSY_ERROR = new HttpError('servidor_ocupado', 'O servidor atingiu o limite de conexões abertas; tente de novo em instantes.', {
  headers: [['Retry-After', '1']],
});
const SOURCE_BUSY_ERROR = new HttpError('servidor_ocupado', 'Este endereço atingiu o limite de conexões abertas; feche alguma e tente de novo.', {
  headers: [['Retry-After', '1']],
});

export interface HttpServerOptions {
  readonly responder: Responder;
  readonly logger: Logger;
  readonly limits?: HttpLimits;
}

export class HttpServer {
  private readonly server: Server;
  private readonly connections = new Map<Socket, HttpConnection>();
  /** Open connections per remote address (HTTP_MAX_CONEXOES_POR_ORIGEM): one address cannot take every slot. */
  private readonly perSource = new Map<string, number>();
  /** Connections answered 503 because the server was at its connection limit. */
  refusedConnections = 0;
  private readonly ticker: NodeJS.Timeout;
  private dateHeader = new Date().toUTCString();

  constructor(options: HttpServerOptions) {
    const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
    const context = {
      responder: options.responder,
      logger: options.logger,
      limits,
      // Exact, not the once-a-second tick: a timeout must never fire early.
      now: Date.now,
      date: () => this.dateHeader,
      writes: new WriteRound(),
    };
    const refusedWarning = new ThrottledWarning(options.logger, 'connection limit reached: new connections answered 503');
    const shared = limits.maxConnections - Math.max(1, Math.floor(limits.maxConnections * RESERVED_SHARE));
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      const source = socket.remoteAddress ?? '';
      const fromSource = this.perSource.get(source) ?? 0;
      const bigHolder = fromSource >= SMALL_HOLDER && this.connections.size >= shared;
      if (this.connections.size >= limits.maxConnections || fromSource >= limits.maxConnectionsPerSource || bigHolder) {
        this.refusedConnections++;
        refusedWarning.warn({ openConnections: this.connections.size, fromSource, refusedTotal: this.refusedConnections });
        socket.on('error', () => {});
        socket.end(closingAnswer(options.responder, fromSource >= limits.maxConnectionsPerSource || bigHolder ? SOURCE_BUSY_ERROR : BUSY_ERROR, this.dateHeader));
        setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
        return;
      }
      this.perSource.set(source, fromSource + 1);
      this.connections.set(socket, new HttpConnection(socket, context));
      socket.once('close', () => {
        this.connections.delete(socket);
        const left = (this.perSource.get(source) ?? 1) - 1;
        if (left === 0) this.perSource.delete(source);
        else this.perSource.set(source, left);
      });
    });
    this.ticker = setInterval(() => {
      const now = Date.now();
      this.dateHeader = new Date(now).toUTCString();
      for (const connection of this.connections.values()) connection.checkTimeouts(now);
    }, TICK_MS);
    this.ticker.unref();
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    return this.server.address() as AddressInfo;
  }

  /** Answer bytes held in this process for clients that have not taken them yet (what non-reading clients cost). */
  bufferedAnswerBytes(): number {
    let bytes = 0;
    for (const connection of this.connections.values()) bytes += connection.bufferedBytes();
    return bytes;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** Stops accepting, lets every connection finish the requests it has read, then closes. */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    const listenerClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Not events.once: it rejects on 'error', and a peer resetting a connection mid-shutdown is no failure of close().
    const socketsClosed = [...this.connections.keys()].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    for (const connection of this.connections.values()) connection.shutdown();
    const grace = setTimeout(() => {
      for (const socket of this.connections.keys()) socket.destroy();
    }, SHUTDOWN_GRACE_MS);
    await Promise.all([listenerClosed, ...socketsClosed]);
    clearTimeout(grace);
  }

  /** Its families in /metricas: open connections, bytes held for clients, connections refused. */
  writeMetrics(out: ExpositionWriter): void {
    out.family('consumo_http_conexoes_abertas', 'gauge', 'Open HTTP connections.').sample('consumo_http_conexoes_abertas', this.openConnections);
    out.family('consumo_http_bytes_aguardando_clientes', 'gauge', 'Answer bytes held for clients that have not read them yet.').sample('consumo_http_bytes_aguardando_clientes', this.bufferedAnswerBytes());
    counter(out, 'consumo_http_conexoes_recusadas_total', 'Connections answered 503 at HTTP_MAX_CONEXOES.', this.refusedConnections);
  }
}
