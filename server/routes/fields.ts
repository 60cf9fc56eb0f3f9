/**
 * The fields of a route's request: the query string for GET and HEAD; for
 * POST the JSON (or form-encoded) body over the query string. Validated with
 * zod into typed values, or an HttpError: 400 `json_invalido`, 422 `dados_invalidos`.
 */
import { z } from 'zod';
import { isAcceptablePassword, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../../domain/auth/password.js';
import { isMatricula } from '../../protocol/meter-protocol.js';
import type { ApiAccess, Principal } from '../http/api-access.js';
import { HttpError, type ErrorDetail } from '../http/http-error.js';
import type { Answer, Handler, Route, RouteInput } from '../http/router.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `matricula`: a string of 1 to 20 digits, or a JSON number turned into its digits. */
export const matriculaSchema = z.unknown().transform((value, context): string => {
  const problem = matriculaProblem(value);
  if (problem === undefined) return String(value);
  context.addIssue({ code: 'custom', message: problem });
  return z.NEVER;
}).meta({ anyOf: [{ type: 'string', pattern: '^[0-9]{1,20}$' }, { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }] });

function matriculaProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return isMatricula(value) ? undefined : 'deve ter de 1 a 20 dígitos';
  if (typeof value !== 'number') return 'deve ser um texto de 1 a 20 dígitos';
  if (!Number.isInteger(value)) return 'deve ser um número inteiro';
  if (value < 0) return 'não pode ser negativa';
  // Past 2^53 a JSON number has already lost digits on its way here.
  if (value > Number.MAX_SAFE_INTEGER) return 'número grande demais para JSON exato; envie como texto';
  return undefined;
}

export const matriculaFields = z.object({ matricula: matriculaSchema });

function queryFields(query: URLSearchParams): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of query) if (!(name in fields)) fields[name] = value;
  return fields;
}

function bodyFields(input: RouteInput): Record<string, unknown> {
  const { body, head } = input.request;
  if (body.length === 0) return {};
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new HttpError('json_invalido', 'O corpo não é UTF-8 válido.');
  }
  const contentType = head.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  // `curl -d '{...}'` labels JSON as a form: a body that opens like JSON is read as JSON.
  if (contentType === 'application/x-www-form-urlencoded' && !/^\s*[{[]/.test(text)) return queryFields(new URLSearchParams(text));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpError('json_invalido', 'O corpo não é JSON válido.');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new HttpError('dados_invalidos', 'O corpo deve ser um objeto JSON.', { detalhes: [{ campo: '(corpo)', problema: 'deve ser um objeto JSON' }] });
  }
  return json as Record<string, unknown>;
}

/** Reads and validates a route's fields. */
export function readFields<T>(input: RouteInput, schema: z.ZodType<T>): T {
  const method = input.request.head.method;
  const fields = method === 'POST' || method === 'PUT' || method === 'PATCH' ? { ...queryFields(input.query), ...bodyFields(input) } : queryFields(input.query);
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  const detalhes: ErrorDetail[] = result.error.issues.map((issue) => ({
    campo: issue.path.length > 0 ? issue.path.join('.') : '(corpo)',
    problema: valueAt(fields, issue.path) === undefined ? 'campo obrigatório' : issue.message,
  }));
  throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes });
}


function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) current = current !== null && typeof current === 'object' ? (current as Record<PropertyKey, unknown>)[key] : undefined;
  return current;
}

/**
 * A handler that reads the fields `schema` describes, when it chooses
 * (after authenticating, so a caller without a token learns nothing from a
 * 422): `read()` validates them. The schema is carried on the handler, for
 * the OpenAPI document.
 */
export function withFields<T>(schema: z.ZodType<T>, handle: (input: RouteInput, read: () => T) => Promise<Answer>): Handler {
  return Object.assign((input: RouteInput) => handle(input, () => readFields(input, schema)), { fields: schema });
}

/**
 * A handler for fields about one matricula that, when the API requires
 * tokens, answers only a token for that matricula: 401 is decided before
 * the fields are read (nothing is told to a caller without a token), 403 after.
 */
export function matriculaHandler<T extends { matricula: string }>(schema: z.ZodType<T>, access: ApiAccess, answer: (fields: T, input: RouteInput) => Promise<Answer>): Handler {
  return withFields(schema, async (input, read) => {
    const principal = await access.authenticate(input.request);
    const fields = read();
    access.authorize(principal, fields.matricula);
    return answer(fields, input);
  });
}

/** A matricula handler answered by POST (fields in the body) and GET (fields in the query string) alike. */
export function matriculaRoute<T extends { matricula: string }>(path: string, schema: z.ZodType<T>, access: ApiAccess, answer: (fields: T) => Promise<Answer>): Route {
  const handler = matriculaHandler(schema, access, answer);
  return { path, handlers: { GET: handler, POST: handler } };
}

/** A password as given to be checked: never checked when longer than this (the accepted ones are at most 128 characters). */
const MAX_GIVEN_PASSWORD_LENGTH = 1024;
export const givenPassword = z
  .string({ error: 'deve ser um texto' })
  .max(MAX_GIVEN_PASSWORD_LENGTH, `deve ter no máximo ${MAX_GIVEN_PASSWORD_LENGTH} caracteres`)
  .meta({ description: 'A senha, como digitada.' });

/** A new password: its length, and not one of the common passwords (domain/auth/password.ts). */
export const newPassword = z
  .string({ error: 'deve ser um texto' })
  .refine(isAcceptablePassword, `deve ter de ${MIN_PASSWORD_CHARS} a ${MAX_PASSWORD_CHARS} caracteres`)
  .meta({ minLength: MIN_PASSWORD_CHARS, maxLength: MAX_PASSWORD_CHARS, description: `De ${MIN_PASSWORD_CHARS} a ${MAX_PASSWORD_CHARS} caracteres e fora da lista de senhas comuns; guardada só como hash scrypt, nunca ecoada.` });

/** 400 `senha_na_url` for a password in the query string, where logs and browser history keep it. */
export function refusePasswordInUrl(input: RouteInput, fields: readonly string[] = ['senha', 'senha_atual']): void {
  if (fields.some((field) => input.query.has(field))) throw new HttpError('senha_na_url', 'Envie a senha no corpo de um POST, nunca na URL.');
}

/** 422 `dados_invalidos` for one field. */
export function invalidField(campo: string, problema: string): HttpError {
  return new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo, problema }] });
}

/** A positive whole number given as text, at most `max`. */
export const positiveInteger = (max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'deve ser um número inteiro')
    .transform(Number)
    .pipe(z.number().min(1, 'deve ser ao menos 1').max(max, `deve ser no máximo ${max}`))
    // Documented as the number it is (a query string carries its digits).
    .meta({ type: 'integer', minimum: 1, maximum: max, pattern: undefined });

/**
 * For a route that answers one meter or, without `matricula`, the whole
 * fleet: a customer's token must name its own matricula (403 otherwise);
 * the fleet is the operator's (or anyone's with the API open). The token
 * may come as `access_token` (EventSource, downloads). Resolves the caller.
 */
export async function authorizeMeterOrFleet(access: ApiAccess, input: RouteInput, matricula: string | undefined): Promise<Principal | undefined> {
  const token = input.query.get('access_token') ?? undefined;
  const principal = await access.authenticate(input.request, token);
  if (principal?.papel === 'cliente' && matricula === undefined) throw new HttpError('acesso_negado', 'Informe a matrícula do seu medidor (matricula=...).');
  if (matricula !== undefined) access.authorize(principal, matricula);
  else await access.authenticateOperator(input.request, token);
  return principal;
}

/** The link to the next page: this request's query with `pagina` one more, never the token. */
export function nextPageLink(path: string, input: RouteInput, page: number): string {
  const next = new URLSearchParams(input.request.head.query);
  next.set('pagina', String(page + 1));
  next.delete('access_token');
  return `${path}?${next.toString()}`;
}
