/**
 * `/validacao-usuario`: is there a customer with this username and/or
 * matricula? (the original's meaning, no token). With `senha`, the login:
 * a token when the password is right, 401 `credenciais_invalidas` otherwise
 * (the same answer, after the same work, whether the customer exists or not).
 */
import { z } from 'zod';
import { isUsername, normalizeUsername } from '../../protocol/customer-format.js';
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import { HttpError } from '../http/http-error.js';
import { invalidCredentials, type PasswordChecks } from '../../app/auth/login.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { givenPassword, matriculaSchema, refusePasswordInUrl, withFields } from './fields.js';

const schema = z
  .object({
    username: z.string({ error: 'deve ser um texto' }).transform(normalizeUsername).refine(isUsername, 'deve ter de 1 a 100 caracteres, sem ";"').optional(),
    matricula: matriculaSchema.optional(),
    senha: givenPassword.optional(),
  })
  .refine((fields) => fields.username !== undefined || fields.matricula !== undefined, 'informe username, matricula ou ambos');

/**
 * `tokensRequired` (AUTENTICACAO_API=obrigatoria): a lookup without `senha`
 * tells nothing of who is a customer (422: the password is required).
 */
export function validacaoUsuarioRoute(store: Store, access: ApiAccess, passwords: PasswordChecks, tokensRequired = false): Route {
  const handler = withFields(schema, async (input: RouteInput, read): Promise<Answer> => {
    refusePasswordInUrl(input, ['senha']);
    const fields = read();
    if (fields.senha === undefined) {
      if (tokensRequired) throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'senha', problema: 'obrigatória com AUTENTICACAO_API=obrigatoria' }] });
      passwords.lookup(input.remoteAddress);
    }
    const [customer] = await store.findCustomers({ username: fields.username, matricula: fields.matricula });
    if (fields.senha === undefined) {
      if (customer === undefined) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com esses dados.');
      return { status: 200, body: { valido: true, username: customer.username, matricula: customer.matricula } };
    }
    const identifier = fields.matricula !== undefined ? `matricula:${fields.matricula}` : `username:${fields.username}`;
    if (!(await passwords.check(input.remoteAddress, customer, identifier, fields.senha)) || customer === undefined) throw invalidCredentials();
    const { token, expiresAt } = await access.issue(customer);
    return {
      status: 200,
      body: { valido: true, username: customer.username, matricula: customer.matricula, token, tipo_token: 'Bearer', expira_em: formatIsoTimestamp(expiresAt * 1000) },
    };
  });
  return { path: '/validacao-usuario', handlers: { GET: handler, POST: handler } };
}

/**
 * `GET /sessao`: whom the request's token names (`{"papel": "operador"}` or
 * `{"papel": "cliente", "matricula": …}`), in every mode; 401 without a
 * valid one. The dashboard checks an operator token with it.
 */
export function sessaoRoute(access: ApiAccess): Route {
  const handler = async (input: RouteInput): Promise<Answer> => {
    const principal = await access.whoIs(input.request);
    if (principal.papel === 'cliente') return { status: 200, body: { papel: 'cliente', matricula: principal.matricula } };
    return { status: 200, body: principal.nome === undefined ? { papel: 'operador' } : { papel: 'operador', nome: principal.nome } };
  };
  return { path: '/sessao', handlers: { GET: handler } };
}
