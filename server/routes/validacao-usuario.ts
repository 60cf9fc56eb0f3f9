/** `/validacao-usuario`: is there a customer with this username and/or matricula? */
import { z } from 'zod';
import { isUsername } from '../../protocol/customer-format.js';
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../api-access.js';
import { HttpError } from '../http/http-error.js';
import type { Route } from '../router.js';
import { fieldsRoute, matriculaSchema } from './fields.js';

const schema = z
  .object({
    username: z.string({ error: 'deve ser um texto' }).refine(isUsername, 'deve ter de 1 a 100 caracteres, sem ";"').optional(),
    matricula: matriculaSchema.optional(),
  })
  .refine((fields) => fields.username !== undefined || fields.matricula !== undefined, 'informe username, matricula ou ambos');

/** The customer's data and a token for the routes about its matricula (needed when AUTENTICACAO_API=obrigatoria). */
export function validacaoUsuarioRoute(store: Store, access: ApiAccess): Route {
  return fieldsRoute('/validacao-usuario', schema, async (query) => {
    const [customer] = await store.findCustomers(query);
    if (customer === undefined) throw new HttpError(404, 'usuario_nao_cadastrado', 'Nenhum cliente cadastrado com esses dados.');
    const { token, expiresAt } = access.issue(customer);
    return {
      status: 200,
      body: { valido: true, username: customer.username, matricula: customer.matricula, token, tipo_token: 'Bearer', expira_em: formatIsoTimestamp(expiresAt * 1000) },
    };
  });
}
