/**
 * Turns a parsed request into a complete JSON response: routing, OPTIONS
 * and CORS, HEAD, and every error through `errorAnswer`.
 */
import type { Logger } from 'pino';
import type { Request } from '../../protocol/http/request-parser.js';
import type { HeaderList, ResponseParts } from '../../protocol/http/response.js';
import { stringifyJson } from '../../protocol/json.js';
import type { Answer, Match, Router, RouteTraits } from './router.js';
import type { HttpMetrics } from '../metrics.js';
import { ClientGoneError, errorAnswer, HttpError } from './http-error.js';
import type { BlockList } from 'node:net';
import { FairGate } from '../../app/fair-gate.js';
import type { AuditRecord } from '../../database/audit-store.js';
import { clientAddress } from './client-address.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const NO_STORE = ['Cache-Control', 'no-store'] as const;
const NO_HEADERS: HeaderList = Object.freeze([]) as HeaderList;
const JSON_NO_STORE: HeaderList = Object.freeze([Object.freeze(['Content-Type', JSON_CONTENT_TYPE] as const), NO_STORE]);
/** Methods that change nothing (RFC 9110 §9.2.1): never refused for their origin. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** How long browsers may cache a CORS preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 86_400;

export interface ResponderOptions {
  readonly router: Router;
  readonly logger: Logger;
  /** Web origins (lower case) whose pages may call the API (CORS_ORIGENS); the dashboard's own origin needs no listing. */
  readonly corsOrigins: readonly string[];
  /** Where requests are counted and timed, if anywhere. */
  readonly metrics?: HttpMetrics | undefined;
  /**
   * Whom a request's heavy work is counted for (FairGate): `cliente:<m>`,
   * `operador`, or the source address for anyone else; the address alone when
   * not given.
   */
  readonly principalOf?: ((request: Request, address: string) => Promise<string>) | undefined;
  /** Reverse proxies whose `Forwarded`/`X-Forwarded-For` is believed (PROXIES_CONFIAVEIS); none when not given. */
  readonly trustedProxies?: BlockList | undefined;
  /** Where every state-changing request of an authenticated principal is recorded, durably, before it is answered. */
  readonly audit?: ((record: AuditRecord) => Promise<unknown>) | undefined;
  /** Told, before the answer leaves, of every change of state a route made (a successful POST, PUT, PATCH or DELETE): kept answers are then stale. */
  readonly onChange?: (() => void) | undefined;
  /** Shown every answer a route (or the router) gave, as it leaves: the tests check each against the OpenAPI document. */
  readonly observe?: ((exchange: Exchange) => void) | undefined;
}

/** One request and its answer, as `observe` sees them. */
export interface Exchange {
  readonly method: string;
  /** The route's path pattern (`/faturas/{numero}`), or UNKNOWN_ROUTE. */
  readonly route: string;
  readonly path: string;
  readonly answer: ResponseParts;
}

/** Routes whose POST changes nothing (the original four, as the original) or signs in: not in the audit log. */
const NOT_AUDITED: ReadonlySet<string> = new Set(['/validacao-usuario', '/medicoes/ultima-medicao', '/gerar-fatura', '/alerta-consumo', '/sessao/operador']);
const MAX_AUDIT_TARGET = 300;

/** Heavy requests (RouteTraits) one principal may have in progress at once, over all its connections; past it 429 `muitas_requisicoes`. */
export const MAX_HEAVY_PER_SOURCE = 4;
/**
 * Heavy requests worked on at once in the whole server; the others wait
 * their turn. Each works in slices between turns of the event loop: with two
 * at once, a turn carries at most two slices, so ingest and light requests
 * never wait long, and memory holds the working data of two.
 */
export const MAX_HEAVY_RUNNING = 2;
/** Heavy requests waiting for their turn past which new ones get 429. */
export const MAX_HEAVY_WAITING = 1000;

/** The route label of requests for paths no route serves (a fixed label: paths are unbounded). */
export const UNKNOWN_ROUTE = '(desconhecida)';

/** Where a request goes (Responder.resolve). */
export interface Resolution {
  /** The router's answer; `asterisk` for `OPTIONS *`, `bad-encoding` for a path whose percent-encoding is broken. */
  readonly match: Match | 'asterisk' | 'bad-encoding';
  readonly decodedPath: string;
  readonly traits: RouteTraits;
  /** The route's pattern for metrics and the audit log, or UNKNOWN_ROUTE. */
  readonly label: string;
}
const NO_TRAITS: RouteTraits = Object.freeze({});
const ASTERISK: Resolution = Object.freeze({ match: 'asterisk', decodedPath: '*', traits: NO_TRAITS, label: UNKNOWN_ROUTE });
const BAD_ENCODING: Resolution = Object.freeze({ match: 'bad-encoding', decodedPath: '', traits: NO_TRAITS, label: UNKNOWN_ROUTE });
/** The route label of requests refused before routing (malformed, too slow, too many connections). */
export const PROTOCOL_ROUTE = '(protocolo)';

export class Responder {
  private readonly router: Router;
  private readonly logger: Logger;
  private readonly corsOrigins: ReadonlySet<string>;
  private readonly metrics: HttpMetrics | undefined;
  /** Heavy requests: MAX_HEAVY_RUNNING at once, shared in turn between principals, MAX_HEAVY_PER_SOURCE each. */
  private readonly heavyGate = new FairGate(MAX_HEAVY_RUNNING, MAX_HEAVY_PER_SOURCE, MAX_HEAVY_WAITING);
  private readonly principalOf: (request: Request, address: string) => Promise<string>;
  private readonly trustedProxies: BlockList | undefined;
  private readonly audit: ((record: AuditRecord) => Promise<unknown>) | undefined;
  private readonly onChange: (() => void) | undefined;
  private readonly observe: ((exchange: Exchange) => void) | undefined;

  constructor(options: ResponderOptions) {
    this.router = options.router;
    this.logger = options.logger;
    this.corsOrigins = new Set(options.corsOrigins);
    this.metrics = options.metrics;
    this.principalOf = options.principalOf ?? (async (_request, address) => address);
    this.trustedProxies = options.trustedProxies;
    this.audit = options.audit;
    this.onChange = options.onChange;
    this.observe = options.observe;
  }

  /**
   * Where a request goes: its route (looked up once, on the decoded path)
   * and the route's traits, which the connection needs before dispatching
   * (router.ts, RouteTraits). Pass it on to `respond`.
   */
  resolve(request: Request): Resolution {
    const { method, path } = request.head;
    if (path === '*') return ASTERISK;
    let decodedPath = path;
    if (path.includes('%')) {
      try {
        decodedPath = decodeURIComponent(path);
      } catch {
        return BAD_ENCODING;
      }
    }
    const match = this.router.match(method, decodedPath);
    return { match, decodedPath, traits: match.traits, label: match.kind === 'handler' || match.kind === 'method-not-allowed' ? match.path : UNKNOWN_ROUTE };
  }

  async respond(request: Request, peerAddress = '', signal?: AbortSignal, resolution: Resolution = this.resolve(request)): Promise<ResponseParts> {
    const startedAt = performance.now();
    // Behind a trusted proxy, the client it names: per-address limits and fair shares count the user, not the proxy.
    const remoteAddress = this.trustedProxies === undefined ? peerAddress : clientAddress(request.head.headers, peerAddress, this.trustedProxies);
    const label = resolution.label;
    const cors = this.corsHeaders(request);
    let parts: ResponseParts;
    try {
      parts = this.encode(await this.route(request, resolution, remoteAddress, signal, cors), cors);
    } catch (error) {
      parts = this.encode(errorAnswer(error, this.logger), cors);
    }
    // A change of state (audited, and making kept answers stale): only unsafe methods on a route, the original four aside.
    if (!SAFE_METHODS.has(request.head.method) && label !== UNKNOWN_ROUTE && !NOT_AUDITED.has(label)) {
      if (parts.status < 400) this.onChange?.();
      if (this.audit !== undefined && parts.status !== 405) await this.record(request, label, remoteAddress, parts.status);
    }
    this.metrics?.record(label, parts.status, (performance.now() - startedAt) / 1000);
    this.observe?.({ method: request.head.method, route: label, path: request.head.path, answer: parts });
    return parts;
  }

  /**
   * The audit log's entry of a state-changing request, before its answer
   * goes: who (only an authenticated principal: refusals of anonymous
   * clients are not theirs to fill the log with), what, on what, from where,
   * the outcome.
   */
  private async record(request: Request, route: string, address: string, status: number): Promise<void> {
    const principal = await this.principalOf(request, address);
    if (principal.startsWith('endereco:')) return;
    const { method, path } = request.head;
    let target: string;
    try {
      target = decodeURIComponent(path);
    } catch {
      target = path;
    }
    try {
      await this.audit?.({ at: Date.now(), actor: principal, action: `${method} ${route}`, target: target.slice(0, MAX_AUDIT_TARGET), address, status });
    } catch (error) {
      this.logger.error({ err: error, acao: `${method} ${route}`, ator: principal }, 'could not write the audit log entry of an answered request');
    }
  }

  /** The answer to an error outside any route: a request that could not be read, or a connection refused. */
  protocolError(error: unknown): ResponseParts {
    const parts = this.encode(errorAnswer(error, this.logger), NO_HEADERS);
    this.metrics?.count(PROTOCOL_ROUTE, parts.status);
    return parts;
  }

  /** Answers the request at the route `resolution` found. */
  private async route(request: Request, resolution: Resolution, remoteAddress: string, signal: AbortSignal | undefined, cors: HeaderList): Promise<Answer> {
    const { method } = request.head;
    const { match, decodedPath } = resolution;
    if (match === 'asterisk') return this.options(this.router.allMethods, cors);
    if (match === 'bad-encoding') throw new HttpError('requisicao_invalida', 'Caminho com codificação percentual inválida.');
    switch (match.kind) {
      case 'not-found':
        throw new HttpError('rota_nao_encontrada', `A rota ${decodedPath} não existe.`);
      case 'method-not-allowed':
        throw new HttpError('metodo_nao_permitido', `O método ${method} não é aceito em ${decodedPath}; use ${match.allow}.`, {
          headers: [['Allow', match.allow]],
        });
      case 'options':
        return this.options(match.allow, cors);
      case 'handler': {
        if (!SAFE_METHODS.has(method) && this.fromForeignPage(request)) {
          throw new HttpError('origem_nao_permitida', 'Esta origem não pode mudar dados neste servidor (CORS_ORIGENS).');
        }
        const input = { request, query: new URLSearchParams(request.head.query), params: match.params, remoteAddress, signal };
        if (match.traits.heavy !== true) return match.handler(input);
        return this.heavyGate.run(await this.principalOf(request, remoteAddress), async () => {
          // Its turn may come after the client has gone: then there is nothing to do.
          if (signal?.aborted === true) throw new ClientGoneError();
          return match.handler(input);
        });
      }
    }
  }

  /** A preflight (Fetch §3.2.2) is answered for listed origins only; for the others the browser then refuses the request itself. */
  private options(allow: string, cors: HeaderList): Answer {
    const preflight: HeaderList =
      cors === NO_HEADERS
        ? []
        : [
            ['Access-Control-Allow-Methods', allow],
            ['Access-Control-Allow-Headers', 'Content-Type, Authorization, Idempotency-Key, Last-Event-ID'],
            ['Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS)],
          ];
    return { status: 204, body: null, headers: [['Allow', allow], ...preflight] };
  }

  /** CORS headers for a request from a listed origin (Fetch §3.2.5; `Vary` so caches keep answers per origin); none otherwise. */
  private corsHeaders(request: Request): HeaderList {
    if (this.corsOrigins.size === 0) return NO_HEADERS;
    const origin = request.head.headers.get('origin')?.toLowerCase();
    if (origin === undefined || !this.corsOrigins.has(origin)) return NO_HEADERS;
    return [
      ['Access-Control-Allow-Origin', origin],
      ['Vary', 'Origin'],
    ];
  }

  /**
   * Whether a browser says the request comes from a page of another origin
   * that CORS_ORIGENS does not list: `Sec-Fetch-Site` (Fetch Metadata) other
   * than same-origin or none (typed by the user), or an `Origin` whose host
   * is not the `Host` asked for. Clients that are not browsers send neither.
   */
  private fromForeignPage(request: Request): boolean {
    const headers = request.head.headers;
    const origin = headers.get('origin')?.toLowerCase();
    if (origin !== undefined && this.corsOrigins.has(origin)) return false;
    const site = headers.get('sec-fetch-site')?.toLowerCase();
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
    if (origin === undefined) return false;
    const host = headers.get('host')?.toLowerCase();
    // RFC 6454 §7.3: `null` is an opaque origin (a sandboxed frame, a file), never this server.
    return origin === 'null' || host === undefined || origin.replace(/^https?:\/\//, '') !== host;
  }

  private encode(answer: Answer, cors: HeaderList): ResponseParts {
    // The common answer (JSON, no headers of its own, no CORS) shares one header list.
    if (answer.headers === undefined && cors === NO_HEADERS && 'body' in answer && answer.status !== 204) {
      return { status: answer.status, headers: JSON_NO_STORE, body: stringifyJson(answer.body) };
    }
    // API answers are about someone's data at a moment: never stored by caches (RFC 9111 §5.2.2.5), unless the route says otherwise.
    const own = answer.headers ?? [];
    const caching: HeaderList = own.some(([name]) => name === 'Cache-Control') ? own : [...own, NO_STORE];
    if (answer.status === 204) return { status: 204, headers: cors.length === 0 ? own : [...cors, ...own], body: '' };
    if ('stream' in answer || 'text' in answer) {
      const headers: HeaderList = [['Content-Type', answer.contentType], ...cors, ...caching];
      return 'stream' in answer ? { status: answer.status, headers, body: '', stream: answer.stream } : { status: answer.status, headers, body: answer.text };
    }
    return {
      status: answer.status,
      headers: [['Content-Type', JSON_CONTENT_TYPE], ...cors, ...caching],
      body: stringifyJson(answer.body),
    };
  }
}
