/**
 * The OpenAPI document, generated: the paths and methods are the routes
 * the server registers; each operation's query parameters and request body
 * are the zod schemas its handler reads (`Handler.fields`, converted by
 * zod's JSON Schema output); the rest is the prose only a person can write
 * (resources/openapi-prosa.json: summaries, descriptions, examples, the
 * answers and their schemas, which every test's answers are checked
 * against). `npm run openapi` writes resources/openapi.json from them; a
 * test fails when the committed document is not what they give.
 */
import { z } from 'zod';
import type { Method, Route } from './router.js';

/** A JSON document as parsed: what the prose, the OpenAPI document and the Postman collection are. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A parameter as the prose writes it: for a query parameter, no schema (the handler's gives it). */
interface ParameterProse extends JsonObject {
  name: string;
  in: string;
}

/** Methods whose fields come in the body (readFields: over the query string). */
const BODY_METHODS: ReadonlySet<Method> = new Set(['POST', 'PUT', 'PATCH']);
const METHODS: readonly Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const PATH_PARAMETER = /\{([a-z_]+)\}/g;

/** The prose and the served routes disagree (the message names every disagreement). */
export class OpenApiDrift extends Error {
  override readonly name = 'OpenApiDrift';
}

/** The JSON Schema of what a client sends, from a handler's zod schema (its input side: what the query or body may hold). */
function inputSchema(fields: unknown): JsonObject {
  const schema = z.toJSONSchema(fields as z.ZodType, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonObject;
  delete schema.$schema;
  return schema;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One operation: the prose with its query parameters and request body filled from `fields`. */
function operation(where: string, method: Method, prose: JsonObject, fields: unknown, pathParameters: readonly string[]): JsonObject {
  const given = (Array.isArray(prose.parameters) ? prose.parameters : []) as ParameterProse[];
  const schema = fields === undefined ? undefined : inputSchema(fields);
  const properties = isObject(schema?.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as string[]) : []);
  const asQuery = schema !== undefined && !BODY_METHODS.has(method);
  const problems: string[] = [];
  const parameters: Json[] = [];
  for (const parameter of given) {
    if (parameter.in === 'query') {
      if (!asQuery || !(parameter.name in properties)) problems.push(`query parameter ${parameter.name} is not a field its handler reads`);
      continue;
    }
    if (parameter.in === 'path' && !pathParameters.includes(parameter.name)) problems.push(`path parameter ${parameter.name} is not in the path`);
    parameters.push(parameter);
  }
  for (const name of pathParameters) if (!given.some((parameter) => parameter.in === 'path' && parameter.name === name)) problems.push(`path parameter ${name} has no prose`);
  if (asQuery) {
    for (const [name, property] of Object.entries(properties)) {
      const words = given.find((parameter) => parameter.in === 'query' && parameter.name === name);
      if (words === undefined) {
        problems.push(`query parameter ${name} (read by its handler) has no prose`);
        continue;
      }
      const { name: _name, in: _in, schema: _schema, required: _required, ...rest } = words;
      parameters.push({ name, in: 'query', required: required.has(name), ...rest, schema: property });
    }
  }
  const body = BODY_METHODS.has(method) ? schema : undefined;
  const bodyProse = isObject(prose.requestBody) ? prose.requestBody : undefined;
  if (bodyProse !== undefined && body === undefined) problems.push('a request body its handler does not read');
  if (problems.length > 0) throw new OpenApiDrift(`${method} ${where}: ${problems.join('; ')}`);
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(prose)) {
    if (key === 'parameters' || key === 'requestBody') continue;
    result[key] = value;
    // Parameters and body after the words that introduce the operation.
    if (key === 'description' || (key === 'summary' && !('description' in prose))) {
      if (parameters.length > 0) result.parameters = parameters;
      if (body !== undefined) result.requestBody = requestBody(body, bodyProse, required.size > 0);
    }
  }
  return result;
}

function requestBody(schema: JsonObject, prose: JsonObject | undefined, hasRequired: boolean): JsonObject {
  const content = isObject(prose?.content) && isObject(prose.content['application/json']) ? prose.content['application/json'] : {};
  const { schema: _schema, ...examples } = content;
  const { content: _content, required, ...rest } = prose ?? {};
  return { ...rest, required: typeof required === 'boolean' ? required : hasRequired, content: { 'application/json': { schema, ...examples } } };
}

/**
 * The document for `routes` from `prose` (the document without what the
 * handlers' schemas give). Throws OpenApiDrift naming every route or field
 * the prose and the server disagree on.
 */
export function openApiDocument(routes: readonly Route[], prose: JsonObject, isAsset: (path: string) => boolean = () => false): JsonObject {
  const proseOf = isObject(prose.paths) ? prose.paths : {};
  const served = new Map(routes.filter((route) => !isAsset(route.path)).map((route) => [route.path, route]));
  const problems: string[] = [];
  const paths: JsonObject = {};
  for (const [path, item] of Object.entries(proseOf)) {
    const route = served.get(path);
    if (route === undefined || !isObject(item)) {
      problems.push(`${path}: documented, not served`);
      continue;
    }
    const pathParameters = [...path.matchAll(PATH_PARAMETER)].map((match) => match[1] as string);
    const operations: JsonObject = {};
    for (const method of METHODS) {
      const words = item[method.toLowerCase()];
      const handler = route.handlers[method];
      if (handler === undefined) {
        if (words !== undefined) problems.push(`${method} ${path}: documented, not served`);
        continue;
      }
      if (!isObject(words)) {
        problems.push(`${method} ${path}: served, with no prose`);
        continue;
      }
      try {
        operations[method.toLowerCase()] = operation(path, method, words, handler.fields, pathParameters);
      } catch (error) {
        if (!(error instanceof OpenApiDrift)) throw error;
        problems.push(error.message);
      }
    }
    paths[path] = operations;
  }
  for (const path of served.keys()) if (!(path in proseOf)) problems.push(`${path}: served, with no prose`);
  if (problems.length > 0) throw new OpenApiDrift(`the OpenAPI prose and the routes disagree:\n- ${problems.join('\n- ')}`);
  return { ...prose, paths };
}
