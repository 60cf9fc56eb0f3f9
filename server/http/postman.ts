/**
 * The Postman collection, generated from the OpenAPI document: one request
 * per example an operation carries (`x-postman`: its folder, its place in
 * the run's order, its name, query, headers, body and test scripts), the
 * operation's method and path filled in; an operation without examples
 * gets one from its parameters' and body's examples, with the operator's
 * token, so every documented operation has a request. The document's
 * top-level `x-postman` holds the collection's info and variables, and the
 * requests that belong to no operation (an unknown route, a refused method).
 */

import { isObject, type Json, type JsonObject } from './openapi.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Where the requests of operations without examples go, after every other folder. */
const DEFAULT_FOLDER = 'Demais rotas (geradas do documento)';

interface Placed {
  readonly folder: string;
  readonly order: number;
  readonly item: JsonObject;
}

/** A `{name}` segment of an OpenAPI path as a Postman variable. */
const segments = (path: string): string[] => path.split('/').slice(1).map((segment) => segment.replace(/^\{(\w+)\}$/, '{{$1}}'));

function request(method: string, path: readonly Json[], example: JsonObject): JsonObject {
  const query = Array.isArray(example.consulta) ? example.consulta : [];
  const pairs = query.filter(isObject).map((pair) => `${String(pair.key)}=${String(pair.value)}`);
  const url: JsonObject = { raw: `{{baseUrl}}/${path.join('/')}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}`, host: ['{{baseUrl}}'], path: [...path] };
  if (query.length > 0) url.query = query;
  const result: JsonObject = { method, header: Array.isArray(example.cabecalhos) ? example.cabecalhos : [], url };
  if (example.corpo !== undefined) result.body = example.corpo;
  if (typeof example.descricao === 'string') result.description = example.descricao;
  return result;
}

/** A request built from what the operation documents: its parameters' examples and its body's. */
function defaultExample(path: string, operation: JsonObject): JsonObject {
  const parameters = Array.isArray(operation.parameters) ? operation.parameters.filter(isObject) : [];
  const consulta = parameters.filter((parameter) => parameter.in === 'query' && parameter.example !== undefined).map((parameter) => ({ key: String(parameter.name), value: String(parameter.example) }));
  const headers: JsonObject[] = [{ key: 'Authorization', value: 'Bearer {{token_admin}}' }];
  const example: JsonObject = { nome: typeof operation.summary === 'string' ? operation.summary : path, consulta, cabecalhos: headers };
  const body = isObject(operation.requestBody) && isObject(operation.requestBody.content) ? operation.requestBody.content['application/json'] : undefined;
  if (isObject(body)) {
    const examples = isObject(body.examples) ? Object.values(body.examples).filter(isObject) : [];
    const value = body.example ?? examples[0]?.value;
    if (value !== undefined) {
      headers.unshift({ key: 'Content-Type', value: 'application/json' });
      example.corpo = { mode: 'raw', raw: JSON.stringify(value, null, 2), options: { raw: { language: 'json' } } };
    }
  }
  example.eventos = [{ listen: 'test', script: { type: 'text/javascript', exec: ["pm.test('respondida sem erro do servidor', () => pm.expect(pm.response.code).to.be.below(500));"] } }];
  return example;
}

export function postmanCollection(document: JsonObject): JsonObject {
  const settings = isObject(document['x-postman']) ? document['x-postman'] : {};
  const placed: Placed[] = [];
  for (const [path, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const examples = Array.isArray(operation['x-postman']) ? operation['x-postman'].filter(isObject) : [];
      if (examples.length === 0) examples.push({ ...defaultExample(path, operation), pasta: DEFAULT_FOLDER, ordem: Number.MAX_SAFE_INTEGER });
      for (const example of examples) {
        const itemPath = Array.isArray(example.caminho) ? example.caminho : segments(path);
        const entry: JsonObject = { name: String(example.nome), request: request(typeof example.metodo === 'string' ? example.metodo : method.toUpperCase(), itemPath, example) };
        if (Array.isArray(example.eventos)) entry.event = example.eventos;
        placed.push({ folder: String(example.pasta), order: Number(example.ordem), item: entry });
      }
    }
  }
  for (const loose of Array.isArray(settings.avulsas) ? settings.avulsas.filter(isObject) : []) {
    if (isObject(loose.item)) placed.push({ folder: String(loose.pasta), order: Number(loose.ordem), item: loose.item });
  }
  placed.sort((a, b) => a.order - b.order);
  const folders = new Map<string, JsonObject[]>();
  for (const { folder, item } of placed) {
    const items = folders.get(folder) ?? [];
    items.push(item);
    folders.set(folder, items);
  }
  return {
    info: settings.info ?? { name: 'API', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
    item: [...folders].map(([name, item]) => ({ name, item })),
    variable: settings.variable ?? [],
  };
}
