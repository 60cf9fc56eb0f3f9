/**
 * Matches a request's path and method to a handler. Nothing else: no
 * parsing, no answers.
 */
import type { HeaderList } from '../protocol/http/response.js';
import type { Request } from '../protocol/http/request-parser.js';
import type { JsonValue } from '../protocol/json.js';

export type Method = 'GET' | 'POST';

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
  readonly stream: (signal: AbortSignal) => AsyncIterable<string>;
}

export interface RouteInput {
  readonly request: Request;
  /** The decoded query string. */
  readonly query: URLSearchParams;
}

export type Handler = (input: RouteInput) => Promise<Answer>;

export interface Route {
  readonly path: string;
  readonly handlers: Readonly<Partial<Record<Method, Handler>>>;
}

export type Match =
  | { readonly kind: 'handler'; readonly handler: Handler; readonly path: string }
  | { readonly kind: 'options'; readonly allow: string }
  | { readonly kind: 'method-not-allowed'; readonly allow: string }
  | { readonly kind: 'not-found' };

export class Router {
  private readonly routes = new Map<string, { readonly route: Route; readonly allow: string }>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const methods = Object.keys(route.handlers);
      // HEAD is answered wherever GET is (RFC 9110 §9.3.2); OPTIONS everywhere.
      if (methods.includes('GET')) methods.splice(methods.indexOf('GET') + 1, 0, 'HEAD');
      this.routes.set(route.path, { route, allow: [...methods, 'OPTIONS'].join(', ') });
    }
  }

  /** All methods any route answers, for `OPTIONS *`. */
  get allMethods(): string {
    const methods = new Set<string>();
    for (const { allow } of this.routes.values()) for (const method of allow.split(', ')) methods.add(method);
    return [...methods].join(', ');
  }

  match(method: string, path: string): Match {
    const entry = this.routes.get(path);
    if (entry === undefined) return { kind: 'not-found' };
    if (method === 'OPTIONS') return { kind: 'options', allow: entry.allow };
    const key = method === 'HEAD' ? 'GET' : method;
    const handler = Object.hasOwn(entry.route.handlers, key) ? entry.route.handlers[key as Method] : undefined;
    if (handler === undefined) return { kind: 'method-not-allowed', allow: entry.allow };
    return { kind: 'handler', handler, path };
  }
}
