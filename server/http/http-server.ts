/**
 * The HTTP listener on node:net: accepts connections, keeps the shared
 * clock and Date header, checks timeouts once a second, and shuts down
 * gracefully.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { DEFAULT_PARSER_LIMITS } from '../../protocol/http/request-parser.js';
import { HttpConnection, type ConnectionLimits } from './connection.js';
import type { Responder } from './responder.js';

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  parser: DEFAULT_PARSER_LIMITS,
  maxPipelined: 32,
  requestTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
};
/** How often timeouts are checked and the clock refreshed. */
const TICK_MS = 1000;
/** Connections still busy this long after shutdown starts are cut. */
const SHUTDOWN_GRACE_MS = 5000;

export interface HttpServerOptions {
  readonly responder: Responder;
  readonly logger: Logger;
  readonly limits?: ConnectionLimits;
}

export class HttpServer {
  private readonly server: Server;
  private readonly connections = new Map<Socket, HttpConnection>();
  private readonly ticker: NodeJS.Timeout;
  private clock = Date.now();
  private dateHeader = new Date(this.clock).toUTCString();

  constructor(options: HttpServerOptions) {
    const limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
    const context = {
      responder: options.responder,
      logger: options.logger,
      limits,
      now: () => this.clock,
      date: () => this.dateHeader,
    };
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.connections.set(socket, new HttpConnection(socket, context));
      socket.once('close', () => this.connections.delete(socket));
    });
    this.ticker = setInterval(() => {
      this.clock = Date.now();
      this.dateHeader = new Date(this.clock).toUTCString();
      for (const connection of this.connections.values()) connection.checkTimeouts(this.clock);
    }, TICK_MS);
    this.ticker.unref();
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    return this.server.address() as AddressInfo;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** Stops accepting, lets every connection finish the requests it has read, then closes. */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    const listenerClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const socketsClosed = [...this.connections.keys()].map((socket) => once(socket, 'close'));
    for (const connection of this.connections.values()) connection.shutdown();
    const grace = setTimeout(() => {
      for (const socket of this.connections.keys()) socket.destroy();
    }, SHUTDOWN_GRACE_MS);
    await Promise.all([listenerClosed, ...socketsClosed]);
    clearTimeout(grace);
  }
}
