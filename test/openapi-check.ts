/**
 * Every answer a test server gives, checked against resources/openapi.json:
 * its status must be documented for the route and method, its content type
 * must be one the document names, and a JSON body must match the schema
 * (JSON Schema 2020-12, by ajv). startTestServer installs this on every
 * server it starts, and the test fails at its end when an answer was not as
 * the document says: the document cannot drift from the server.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import type { Exchange } from '../server/http/responder.js';
import { PROTOCOL_ROUTE, UNKNOWN_ROUTE } from '../server/http/responder.js';
import { isDashboardAsset } from '../server/routes/painel.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../../resources/openapi.json', import.meta.url));

interface MediaType {
  readonly schema?: unknown;
}
interface ResponseObject {
  readonly $ref?: string;
  readonly content?: Readonly<Record<string, MediaType>>;
}
interface Operation {
  readonly responses: Readonly<Record<string, ResponseObject>>;
}
interface Document {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components: { readonly responses?: Readonly<Record<string, ResponseObject>> };
}

/** An ISO 8601 / RFC 3339 date-time, as `format: date-time` means. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const pointer = (parts: readonly string[]): string => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

export class OpenApiCheck {
  private readonly document: Document;
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(file = OPENAPI_FILE) {
    this.document = JSON.parse(readFileSync(file, 'utf8')) as Document;
    // Not strict: the document carries OpenAPI's own keywords (example, description) beside JSON Schema's.
    this.ajv = new Ajv2020({ strict: false, allErrors: false });
    this.ajv.addFormat('date-time', DATE_TIME);
    this.ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
    this.ajv.addSchema({ ...this.document, $id: 'openapi' } as object);
  }

  /** What is wrong with an answer, or undefined when the document describes it. */
  problem({ method, route, path, answer }: Exchange): string | undefined {
    if (route === UNKNOWN_ROUTE || route === PROTOCOL_ROUTE || isDashboardAsset(route)) return undefined;
    const where = `${method} ${path} (${route}) -> ${answer.status}`;
    const item = this.document.paths[route];
    if (item === undefined) return `${where}: the route is not in the document`;
    // HEAD answers as GET without a body; OPTIONS and 405 are the router's, the same for every route.
    if (method === 'OPTIONS' || answer.status === 405) return undefined;
    const operationKey = method === 'HEAD' ? 'get' : method.toLowerCase();
    const operation = item[operationKey];
    if (operation === undefined) return `${where}: the method is not documented for the route`;
    const status = String(answer.status) in operation.responses ? String(answer.status) : 'default';
    const declared = operation.responses[status];
    if (declared === undefined) return `${where}: the status is not documented`;
    // Where the response object lives, as a JSON pointer: in the operation, or shared under components.responses.
    const shared = declared.$ref?.replace('#/components/responses/', '');
    const response = shared === undefined ? declared : this.document.components.responses?.[shared];
    if (response === undefined) return `${where}: ${declared.$ref} does not exist`;
    const location = shared === undefined ? ['paths', route, operationKey, 'responses', status] : ['components', 'responses', shared];
    const contentType = answer.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1].split(';')[0]?.trim().toLowerCase();
    const hasBody = answer.stream !== undefined || answer.body.length > 0;
    if (response.content === undefined) return hasBody && method !== 'HEAD' ? `${where}: a body (${contentType}) where the document says none` : undefined;
    if (contentType === undefined) return hasBody ? `${where}: a body without a content type` : undefined;
    const media = response.content[contentType];
    if (media === undefined) return `${where}: content type ${contentType}, the document names ${Object.keys(response.content).join(', ')}`;
    if (contentType !== 'application/json' || method === 'HEAD' || answer.stream !== undefined || media.schema === undefined) return undefined;
    const ref = `openapi#/${pointer([...location, 'content', 'application/json', 'schema'])}`;
    let validate = this.validators.get(ref);
    if (validate === undefined) {
      validate = this.ajv.getSchema(ref);
      if (validate === undefined) return `${where}: no schema at ${ref}`;
      this.validators.set(ref, validate);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return `${where}: the body is not JSON`;
    }
    if (validate(body)) return undefined;
    const error = validate.errors?.[0];
    return `${where}: ${error?.instancePath || '(body)'} ${error?.message ?? 'does not match'} (schema ${error?.schemaPath ?? '?'})`;
  }
}

let shared: OpenApiCheck | undefined;

/** One checker per test process (compiling the document's schemas takes a while). */
export function openApiCheck(): OpenApiCheck {
  shared ??= new OpenApiCheck();
  return shared;
}
