/**
 * Matches a request's path and method to a handler. Nothing else: no
 * parsing, no answers.
 */
import type { HeaderList } from '../../protocol/http/response.js';
import type { Request } from '../../protocol/http/request-parser.js';
import type { JsonValue } from '../../protocol/json.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route's answer: JSON (the API), text with its own content type (e.g. metrics), or a streamed body. */
export type Answer = JsonAnswer | TextAnswer | StreamAnswer;

export interface JsonAnswer {
  readonly status: number;
  readonly body: JsonValue;
  readonly headers?: HeaderList;
}

export interface TextAnswer {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
  readonly headers?: HeaderList;
}

/** A body produced while it is sent (CSV exports, Server-Sent Events); see ResponseParts.stream. */
export interface StreamAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly headers?: HeaderList;
  readonly stream: (signal: AbortSignal) => AsyncIterable<string | Uint8Array>;
}

export interface RouteInput {
  readonly request: Request;
  /** The decoded query string. */
  readonly query: URLSearchParams;
  /** Values of the route's `{name}` path segments, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The client's address (per-source limits). */
  readonly remoteAddress: string;
  /** Aborted when the client has left: long work should stop (ClientGoneError). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Answers a request. `fields`, when present, is the zod schema of what it
 * reads from the query string (GET) or the body (POST, PUT, PATCH): the
 * OpenAPI document's parameters and request bodies are generated from it
 * (server/http/openapi.ts).
 */
export type Handler = ((input: RouteInput) => Promise<Answer>) & { readonly fields?: FieldsSchema };

/** A zod schema, as the router sees it: only carried, never run here. */
export interface FieldsSchema {
  readonly '~standard': unknown;
}

export interface Route {
  /** Literal segments and `{name}` parameters, e.g. `/clientes/{matricula}/senha`. */
  readonly path: string;
  readonly handlers: Readonly<Partial<Record<Method, Handler>>>;
  /**
   * What the connection layer must know before dispatching:
   * `heavy`, an answer that can be large or dear to make (a connection runs
   * one at a time, alone, and only while its client reads);
   * `exclusive`, an answer that holds the connection for good (a stream of
   * events): no later request on it is dispatched.
   */
  readonly traits?: RouteTraits;
}

export interface RouteTraits {
  readonly heavy?: boolean;
  readonly exclusive?: boolean;
}

const NO_TRAITS: RouteTraits = Object.freeze({});
const NOT_FOUND: Match = Object.freeze({ kind: 'not-found', traits: NO_TRAITS });
/** The order methods are listed in `Allow`. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export type Match =
  | { readonly kind: 'handler'; readonly handler: Handler; readonly path: string; readonly params: Readonly<Record<string, string>>; readonly traits: RouteTraits }
  | { readonly kind: 'options'; readonly allow: string; readonly traits: RouteTraits }
  /** `path`: the pattern of the route whose methods do not include the one asked. */
  | { readonly kind: 'method-not-allowed'; readonly allow: string; readonly path: string; readonly traits: RouteTraits }
  | { readonly kind: 'not-found'; readonly traits: RouteTraits };

const PARAMETER = /^\{([a-z_]+)\}$/;

interface Entry {
  readonly route: Route;
  readonly allow: string;
  /** Per segment: a literal, or the name of a parameter. */
  readonly segments: ReadonlyArray<{ readonly literal: string } | { readonly parameter: string }>;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Literal paths match through a map; paths with parameters segment by
 * segment (a literal segment wins over a parameter). Registering two
 * routes that would match the same paths throws at start-up.
 */
export class Router {
  private readonly literal = new Map<string, Entry>();
  private readonly parameterised: Entry[] = [];

  constructor(routes: readonly Route[]) {
    const shapes = new Set<string>();
    for (const route of routes) {
      const methods = Object.keys(route.handlers);
      // HEAD is answered wherever GET is (RFC 9110 §9.3.2); OPTIONS everywhere.
      if (methods.includes('GET')) methods.splice(methods.indexOf('GET') + 1, 0, 'HEAD');
      const segments = route.path
        .split('/')
        .slice(1)
        .map((segment) => {
          const parameter = PARAMETER.exec(segment)?.[1];
          if (parameter === undefined && /[{}]/.test(segment)) throw new Error(`route ${route.path}: malformed parameter segment ${segment}`);
          return parameter === undefined ? { literal: segment } : { parameter };
        });
      if (!route.path.startsWith('/')) throw new Error(`route ${route.path} must start with /`);
      const shape = segments.map((segment) => ('literal' in segment ? segment.literal : '{}')).join('/');
      if (shapes.has(shape)) throw new Error(`route ${route.path} registered twice (or matches the same paths as another)`);
      shapes.add(shape);
      const entry: Entry = { route, allow: [...methods, 'OPTIONS'].join(', '), segments };
      if (segments.every((segment) => 'literal' in segment)) this.literal.set(route.path, entry);
      else this.parameterised.push(entry);
    }
  }

  /** All methods any route answers, for `OPTIONS *`. */
  get allMethods(): string {
    const methods = new Set<string>();
    for (const { allow } of [...this.literal.values(), ...this.parameterised]) for (const method of allow.split(', ')) methods.add(method);
    return METHOD_ORDER.filter((method) => methods.has(method)).join(', ');
  }

  /** The handler of a method and a (decoded) path, with the route's traits: looked up once per request. */
  match(method: string, path: string): Match {
    const found = this.find(path);
    if (found === undefined) return NOT_FOUND;
    const { entry, params } = found;
    const traits = entry.route.traits ?? NO_TRAITS;
    if (method === 'OPTIONS') return { kind: 'options', allow: entry.allow, traits };
    const key = method === 'HEAD' ? 'GET' : method;
    const handler = Object.hasOwn(entry.route.handlers, key) ? entry.route.handlers[key as Method] : undefined;
    if (handler === undefined) return { kind: 'method-not-allowed', allow: entry.allow, path: entry.route.path, traits };
    return { kind: 'handler', handler, path: entry.route.path, params, traits };
  }

  private find(path: string): { entry: Entry; params: Readonly<Record<string, string>> } | undefined {
    const exact = this.literal.get(path);
    if (exact !== undefined) return { entry: exact, params: NO_PARAMS };
    const given = path.split('/').slice(1);
    let best: { entry: Entry; params: Record<string, string>; literals: number } | undefined;
    for (const entry of this.parameterised) {
      if (entry.segments.length !== given.length) continue;
      const params: Record<string, string> = {};
      let literals = 0;
      let matches = true;
      for (let i = 0; i < given.length && matches; i++) {
        const segment = entry.segments[i] as Entry['segments'][number];
        const value = given[i] as string;
        if ('literal' in segment) {
          matches = segment.literal === value;
          literals++;
        } else {
          matches = value.length > 0;
          params[segment.parameter] = value;
        }
      }
      if (matches && (best === undefined || literals > best.literals)) best = { entry, params, literals };
    }
    return best === undefined ? undefined : { entry: best.entry, params: best.params };
  }
}
