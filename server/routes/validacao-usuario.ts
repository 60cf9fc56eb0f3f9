/** `/validacao-usuario`: is there a customer with this username and/or matricula? */
import { z } from 'zod';
import { isUsername } from '../../protocol/customer-format.js';
import type { Store } from '../../database/store.js';
import { HttpError } from '../http/http-error.js';
import type { Route } from '../router.js';
import { fieldsRoute, matriculaSchema } from './fields.js';

const schema = z
  .object({
    username: z.string({ error: 'deve ser um texto' }).refine(isUsername, 'deve ter de 1 a 100 caracteres, sem ";"').optional(),
    matricula: matriculaSchema.optional(),
  })
  .refine((fields) => fields.username !== undefined || fields.matricula !== undefined, 'informe username, matricula ou ambos');

export function validacaoUsuarioRoute(store: Store): Route {
  return fieldsRoute('/validacao-usuario', schema, async (query) => {
    const [customer] = await store.findCustomers(query);
    if (customer === undefined) throw new HttpError(404, 'usuario_nao_cadastrado', 'Nenhum cliente cadastrado com esses dados.');
    return { status: 200, body: { valido: true, username: customer.username, matricula: customer.matricula } };
  });
}
