/**
 * `/clientes`: the customer registry. `GET` lists customers in registration
 * order, a page at a time (optionally filtered by `username` or `matricula`);
 * `POST` registers one (201, or 409 `cliente_existente`).
 */
import { z } from 'zod';
import type { Store } from '../../database/store.js';
import { isUsername } from '../../protocol/customer-format.js';
import type { ApiAccess } from '../api-access.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../router.js';
import { matriculaSchema, positiveInteger, readFields } from './fields.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

const username = z.string({ error: 'deve ser um texto' }).refine(isUsername, 'deve ter de 1 a 100 caracteres, sem ";"');

const listSchema = z.object({
  username: username.optional(),
  matricula: matriculaSchema.optional(),
  limite: positiveInteger(MAX_PAGE_SIZE).optional(),
  pagina: positiveInteger(1_000_000_000).optional(),
});
const registerSchema = z.object({ username, matricula: matriculaSchema });

export function clientesRoute(store: Store, access: ApiAccess): Route {
  const list = async (input: RouteInput): Promise<Answer> => {
    access.authenticateOperator(input.request);
    const { username: name, matricula, limite = DEFAULT_PAGE_SIZE, pagina = 1 } = readFields(input, listSchema);
    // One more than a page tells whether another page follows.
    const found = await store.findCustomers({ username: name, matricula, offset: (pagina - 1) * limite, limit: limite + 1 });
    const next = new URLSearchParams(input.request.head.query);
    next.set('pagina', String(pagina + 1));
    return {
      status: 200,
      body: {
        clientes: found.slice(0, limite).map((customer) => ({ username: customer.username, matricula: customer.matricula })),
        pagina,
        limite,
        proxima: found.length > limite ? `/clientes?${next.toString()}` : null,
      },
    };
  };
  const register = async (input: RouteInput): Promise<Answer> => {
    access.authenticateOperator(input.request);
    const customer = readFields(input, registerSchema);
    const { skipped } = await store.addCustomers([customer]);
    if (skipped.length > 0) {
      const [byName, byMatricula] = await Promise.all([store.findCustomers({ username: customer.username }), store.findCustomers({ matricula: customer.matricula })]);
      const detalhes = [
        ...(byName.length > 0 ? [{ campo: 'username', problema: 'já cadastrado' }] : []),
        ...(byMatricula.length > 0 ? [{ campo: 'matricula', problema: 'já cadastrada' }] : []),
      ];
      throw new HttpError(409, 'cliente_existente', 'Já existe cliente com esse username ou essa matrícula.', { detalhes });
    }
    return { status: 201, body: { username: customer.username, matricula: customer.matricula }, headers: [['Location', `/clientes?matricula=${customer.matricula}`]] };
  };
  return { path: '/clientes', handlers: { GET: list, POST: register } };
}
