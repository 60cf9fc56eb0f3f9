/**
 * Named operator accounts and sessions (issue 26 §5): who did it.
 *
 * - `POST /sessao` {nome, senha}: an operator signs in; a token naming the
 *   account (role `operador`). `DELETE /sessao`: signs out, revoking every
 *   token of the principal issued so far (a customer's too).
 * - `GET /operadores`, `POST /operadores` {nome, senha}: the accounts,
 *   listed and created by an operator. `PATCH /operadores/{nome}` {ativo}:
 *   disabled (every token of it revoked) or enabled again.
 *   `POST /operadores/{nome}/senha` {senha}: a new password (its tokens revoked).
 * - `GET /auditoria`: the audit log, filtered and paged, as JSON or CSV
 *   (operators only, in every mode; nothing changes it).
 */
import { z } from 'zod';
import { OPERATOR_NAME, type AccessStore, type OperatorAccount } from '../../database/access-store.js';
import type { AuditEntry, AuditStore } from '../../database/audit-store.js';
import { csvField, csvText } from '../../protocol/csv.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { actorOf, type ApiAccess } from '../http/api-access.js';
import { isCommonPassword } from '../../domain/auth/password.js';
import { HttpError } from '../http/http-error.js';
import { invalidCredentials, type PasswordChecks } from '../../app/auth/login.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { givenPassword, nextPageLink, positiveInteger, refusePasswordInUrl, withFields, newPassword } from './fields.js';
import { CSV_CONTENT_TYPE, wantsCsv } from './medicoes.js';

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

const nome = z.string({ error: 'deve ser um texto' }).regex(OPERATOR_NAME, 'deve ter de 3 a 40 caracteres a-z, 0-9, ".", "_" ou "-"');
const signInSchema = z.object({ nome, senha: givenPassword });
const createSchema = z.object({ nome, senha: newPassword });
const patchSchema = z.object({ ativo: z.boolean({ error: 'deve ser true ou false' }) });
const passwordSchema = z.object({ senha: newPassword });
const INSTANT = z.string().refine((text) => !Number.isNaN(Date.parse(text)) && /^\d{4}-\d\d-\d\d(T|$)/.test(text), 'deve ser uma data ISO-8601').transform((text) => Date.parse(text));
const auditSchema = z.object({
  ator: z.string().max(100, 'deve ter até 100 caracteres').optional(),
  acao: z.string().max(200, 'deve ter até 200 caracteres').optional(),
  de: INSTANT.optional(),
  ate: INSTANT.optional(),
  pagina: positiveInteger(1_000_000).optional(),
  limite: positiveInteger(AUDIT_PAGE_MAX).optional(),
  formato: z.enum(['json', 'csv'], { error: 'deve ser json ou csv' }).optional(),
  access_token: z.string().optional(),
});

/** An account as the API shows it: never its hash. */
function accountJson(account: OperatorAccount) {
  return { nome: account.nome, ativo: account.active, criado_em: formatIsoTimestamp(account.createdAt), criado_por: account.createdBy };
}

function auditJson(entry: AuditEntry) {
  return { id: entry.id, em: formatIsoTimestamp(entry.at), ator: entry.actor, acao: entry.action, alvo: entry.target, endereco: entry.address, status: entry.status };
}

function refuseWeak(password: string, name: string): void {
  if (isCommonPassword(password, { username: name })) {
    throw new HttpError('senha_fraca', 'Essa senha é comum demais ou repete o nome da conta; escolha outra.', { detalhes: [{ campo: 'senha', problema: 'senha comum ou igual ao nome' }] });
  }
}

const notFound = (name: string) => new HttpError('usuario_nao_cadastrado', `Nenhuma conta de operador ${name}.`);

export interface OperatorRoutesDeps {
  readonly accounts: AccessStore;
  readonly audit: AuditStore;
  readonly access: ApiAccess;
  readonly passwords: PasswordChecks;
  readonly now?: () => number;
}

export function operadoresRoutes({ accounts, audit, access, passwords, now = Date.now }: OperatorRoutesDeps): Route[] {
  const signIn = withFields(signInSchema, async (input: RouteInput, read): Promise<Answer> => {
    refusePasswordInUrl(input, ['senha']);
    const fields = read();
    const account = await accounts.operator(fields.nome);
    const ok = await passwords.checkHash(input.remoteAddress, `operador:${fields.nome}`, account?.passwordHash, fields.senha);
    if (!ok || account === undefined || !account.active) throw invalidCredentials();
    const { token, expiresAt } = await access.issueOperator(account.nome);
    return { status: 200, body: { papel: 'operador', nome: account.nome, token, tipo_token: 'Bearer', expira_em: formatIsoTimestamp(expiresAt * 1000) } };
  });
  const signOut = async (input: RouteInput): Promise<Answer> => {
    const principal = await access.whoIs(input.request);
    if (principal.papel === 'operador' && principal.nome === undefined) {
      throw new HttpError('requisicao_invalida', 'O token de operador da configuração (API_TOKEN_ADMIN ou DATA_DIR/token-operador) não se revoga por aqui: troque-o na configuração.');
    }
    await access.revoke(principal);
    return { status: 200, body: { sessao: 'encerrada', revogados_ate: formatIsoTimestamp(now()) } };
  };
  const list = async (input: RouteInput): Promise<Answer> => {
    await access.authenticateChange(input.request);
    return { status: 200, body: { operadores: (await accounts.operators()).map(accountJson) } };
  };
  const create = withFields(createSchema, async (input: RouteInput, read): Promise<Answer> => {
    const principal = await access.authenticateChange(input.request);
    refusePasswordInUrl(input, ['senha']);
    const fields = read();
    refuseWeak(fields.senha, fields.nome);
    const account: OperatorAccount = { nome: fields.nome, passwordHash: await passwords.hash(fields.senha, input.remoteAddress), active: true, createdAt: now(), createdBy: actorOf(principal) };
    if (!(await accounts.createOperator(account))) throw new HttpError('cliente_existente', `Já existe a conta de operador ${fields.nome}.`, { detalhes: [{ campo: 'nome', problema: 'já cadastrado' }] });
    access.accountChanged(account);
    return { status: 201, body: accountJson(account), headers: [['Location', `/operadores/${account.nome}`]] };
  });
  const nameOf = (input: RouteInput): string => {
    const parsed = nome.safeParse(input.params.nome);
    if (!parsed.success) throw notFound(String(input.params.nome).slice(0, 40));
    return parsed.data;
  };
  const patch = withFields(patchSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const name = nameOf(input);
    const { ativo } = read();
    const updated = await accounts.updateOperator(name, { active: ativo });
    if (updated === undefined) throw notFound(name);
    access.accountChanged(updated);
    // Disabled: every token it holds stops at once, and one enabled again signs in afresh.
    await access.revoke({ papel: 'operador', nome: name });
    return { status: 200, body: accountJson(updated) };
  });
  const setPassword = withFields(passwordSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    refusePasswordInUrl(input, ['senha']);
    const name = nameOf(input);
    const { senha } = read();
    refuseWeak(senha, name);
    const updated = await accounts.updateOperator(name, { passwordHash: await passwords.hash(senha, input.remoteAddress) });
    if (updated === undefined) throw notFound(name);
    access.accountChanged(updated);
    await access.revoke({ papel: 'operador', nome: name });
    return { status: 200, body: { nome: name, senha_definida: true } };
  });
  const auditLog = withFields(auditSchema, async (input: RouteInput, read): Promise<Answer> => {
    const fields = read();
    // The log names who did what to whom: the operator's alone, whatever AUTENTICACAO_API says of reading.
    const principal = await access.whoIs(input.request, fields.access_token);
    if (principal.papel !== 'operador') throw new HttpError('acesso_negado', 'O registro de auditoria é só para o operador.');
    const page = fields.pagina ?? 1;
    const limit = fields.limite ?? AUDIT_PAGE_DEFAULT;
    const found = await audit.list({ actor: fields.ator, action: fields.acao, from: fields.de, to: fields.ate }, (page - 1) * limit, limit + 1);
    const entries = found.slice(0, limit);
    if (wantsCsv(fields.formato, input)) {
      const rows = entries.map((e) => [String(e.id), formatIsoTimestamp(e.at), csvText(e.actor), csvText(e.action), csvText(e.target), csvField(e.address), String(e.status)].join(','));
      return {
        status: 200,
        contentType: CSV_CONTENT_TYPE,
        headers: [['Content-Disposition', 'attachment; filename="auditoria.csv"']],
        stream: async function* () {
          yield ['id,em,ator,acao,alvo,endereco,status', ...rows].join('\r\n') + '\r\n';
        },
      };
    }
    return { status: 200, body: { registros: entries.map(auditJson), pagina: page, limite: limit, proxima: found.length > limit ? nextPageLink('/auditoria', input, page) : null } };
  });
  return [
    { path: '/operadores', handlers: { GET: list, POST: create }, traits: { heavy: true } },
    { path: '/operadores/{nome}', handlers: { PATCH: patch } },
    { path: '/operadores/{nome}/senha', handlers: { POST: setPassword }, traits: { heavy: true } },
    { path: '/auditoria', handlers: { GET: auditLog }, traits: { heavy: true } },
    { path: '/sessao/operador', handlers: { POST: signIn }, traits: { heavy: true } },
    { path: '/sessao/encerrar', handlers: { POST: signOut } },
  ];
}
