/**
 * `/clientes`: the customer registry. `GET` lists customers in registration
 * order, a page at a time (optionally filtered by `username` or `matricula`);
 * `POST` registers one (201, or 409 `cliente_existente`).
 */
import { z } from 'zod';
import type { Customer, Store } from '../../database/store.js';
import { DEFAULT_PROFILE, type BillingProfile, type ConsumptionGoal, type ProfileStore } from '../../database/profile-store.js';
import { parseDecimal } from '../../protocol/decimal.js';
import { decimalJson } from '../../app/views/decimals.js';
import { CONNECTIONS, MODALITIES } from '../../domain/billing/invoice.js';
import { MAX_READING_DAY, MIN_READING_DAY } from '../../domain/billing/cycle.js';
import { isUsername, normalizeUsername } from '../../protocol/customer-format.js';
import type { ApiAccess } from '../http/api-access.js';
import { isCommonPassword } from '../../domain/auth/password.js';
import { invalidCredentials, type PasswordChecks } from '../../app/auth/login.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { givenPassword, matriculaSchema, positiveInteger, refusePasswordInUrl, withFields, newPassword } from './fields.js';
import { taxpayerDigits } from '../../domain/identity.js';
import { benefitJson, holderJson } from '../../database/profile-json.js';
import { BENEFITS } from '../../domain/billing/invoice.js';
import { isDay } from '../../database/billing-rules-json.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

// Trimmed and in NFC before anything else: the name kept is the name looked up, and "joana " collides with "joana" (409).
const username = z.string({ error: 'deve ser um texto' }).transform(normalizeUsername).refine(isUsername, 'deve ter de 1 a 100 caracteres, sem ";"');

const listSchema = z.object({
  username: username.optional(),
  matricula: matriculaSchema.optional(),
  limite: positiveInteger(MAX_PAGE_SIZE).optional(),
  pagina: positiveInteger(1_000_000_000).optional(),
});
/** A customer's billing profile fields, all optional (what is not given keeps its value, or the default). */
const profileFields = {
  ligacao: z.enum(CONNECTIONS, { error: `deve ser ${CONNECTIONS.join(', ')}` }).optional(),
  modalidade: z.enum(MODALITIES, { error: `deve ser ${MODALITIES.join(' ou ')}` }).optional(),
  dia_leitura: z.number({ error: 'deve ser um dia de 1 a 28' }).int('deve ser um dia de 1 a 28').min(MIN_READING_DAY, 'deve ser um dia de 1 a 28').max(MAX_READING_DAY, 'deve ser um dia de 1 a 28').optional(),
  tarifa_social: z.boolean({ error: 'deve ser true ou false' }).optional(),
  condutores: z.union([z.literal(2), z.literal(3)], { error: 'deve ser 2 ou 3 (condutores de uma ligação bifásica)' }).optional(),
  beneficio: z
    .object({
      tipo: z.enum(BENEFITS, { error: `deve ser ${BENEFITS.join(' ou ')}` }),
      inicio: z.string().refine(isDay, 'deve ser uma data AAAA-MM-DD'),
      fim: z.string().refine(isDay, 'deve ser uma data AAAA-MM-DD').nullable().default(null),
    })
    .refine((b) => b.fim === null || b.fim >= b.inicio, { message: 'o fim deve ser no início ou depois', path: ['fim'] })
    .nullable()
    .optional(),
  titular: z
    .object({
      nome: z.string({ error: 'deve ser um texto' }).trim().min(1, 'não pode ser vazio').max(120, 'deve ter no máximo 120 caracteres'),
      cpf_cnpj: z
        .string({ error: 'deve ser um texto' })
        .transform((value, context) => {
          const digits = taxpayerDigits(value);
          if (digits === undefined) {
            context.addIssue({ code: 'custom', message: 'deve ser um CPF ou CNPJ válido (com os dígitos verificadores)' });
            return z.NEVER;
          }
          return digits;
        }),
      endereco: z.string({ error: 'deve ser um texto' }).trim().min(1, 'não pode ser vazio').max(200, 'deve ter no máximo 200 caracteres'),
      numero_cliente: z.string({ error: 'deve ser um texto' }).regex(/^[0-9A-Za-z-]{1,20}$/, 'deve ter de 1 a 20 letras, dígitos ou hífens').optional(),
    })
    .optional(),
};
const registerSchema = z.object({ username, matricula: matriculaSchema, senha: newPassword.optional(), ...profileFields });
const patchSchema = z.object(profileFields);

type ProfileFields = z.infer<typeof patchSchema>;

/** The profile a request asks for, over what the customer had; 422 for tarifa social with the branca modality (ANEEL: not offered to it). */
function mergeProfile(current: BillingProfile, fields: ProfileFields): BillingProfile {
  const merged: BillingProfile = {
    ...current,
    matricula: current.matricula,
    connection: fields.ligacao ?? current.connection,
    modality: fields.modalidade ?? current.modality,
    readingDay: fields.dia_leitura ?? current.readingDay,
    socialTariff: fields.tarifa_social ?? current.socialTariff,
    conductors: (fields.ligacao ?? current.connection) === 'bifasica' ? (fields.condutores ?? current.conductors) : undefined,
    benefit: fields.beneficio === undefined ? current.benefit : fields.beneficio === null ? undefined : { kind: fields.beneficio.tipo, from: fields.beneficio.inicio, to: fields.beneficio.fim },
    holder: fields.titular === undefined ? current.holder : { name: fields.titular.nome, taxpayer: fields.titular.cpf_cnpj, address: fields.titular.endereco, customerNumber: fields.titular.numero_cliente },
  };
  if (fields.condutores !== undefined && merged.connection !== 'bifasica') {
    throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'condutores', problema: 'só uma ligação bifásica tem 2 ou 3 condutores' }] });
  }
  if (merged.modality === 'branca' && merged.benefit !== undefined) {
    throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'beneficio', problema: 'a tarifa social e o desconto social não se aplicam à modalidade branca' }] });
  }
  if (merged.modality === 'branca' && merged.socialTariff) {
    throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'tarifa_social', problema: 'a tarifa social não se aplica à modalidade branca' }] });
  }
  return merged;
}

/** A customer as the API shows it: registry and billing profile. */
export function customerJson(customer: Customer, profile: BillingProfile) {
  const base = {
    username: customer.username,
    matricula: customer.matricula,
    ligacao: profile.connection,
    ...(profile.connection === 'bifasica' ? { condutores: profile.conductors ?? 3 } : {}),
    modalidade: profile.modality,
    dia_leitura: profile.readingDay,
    tarifa_social: profile.socialTariff,
    ...(profile.benefit === undefined ? {} : { beneficio: benefitJson(profile.benefit) }),
    ...(profile.holder === undefined ? {} : { titular: holderJson(profile.holder) }),
  };
  return profile.goal === undefined ? base : { ...base, meta: goalJson(profile.goal) };
}

/** A goal as the API shows it: `{"kwh_mes": 150}` or `{"valor_mes": 120.5}` (exact decimals). */
export function goalJson(goal: ConsumptionGoal) {
  return goal.kind === 'kwh' ? { kwh_mes: decimalJson(goal.kwh, 3) } : { valor_mes: decimalJson(goal.cents, 2) };
}
const passwordSchema = z.object({ senha: newPassword, senha_atual: givenPassword.optional() });

export function clientesRoute(store: Store, profiles: ProfileStore, access: ApiAccess, passwords: PasswordChecks): Route {
  // One read of the profiles for the whole page, not one per customer.
  const pageJson = async (customers: readonly Customer[]) => {
    const profileList = await profiles.profilesOf(customers.map((customer) => customer.matricula));
    return customers.map((customer, i) => customerJson(customer, profileList[i] as BillingProfile));
  };
  const list = withFields(listSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateOperator(input.request);
    const { username: name, matricula, limite = DEFAULT_PAGE_SIZE, pagina = 1 } = read();
    // One more than a page tells whether another page follows.
    const found = await store.findCustomers({ username: name, matricula, offset: (pagina - 1) * limite, limit: limite + 1 });
    const next = new URLSearchParams(input.request.head.query);
    next.set('pagina', String(pagina + 1));
    return {
      status: 200,
      body: {
        clientes: await pageJson(found.slice(0, limite)),
        pagina,
        limite,
        proxima: found.length > limite ? `/clientes?${next.toString()}` : null,
      },
    };
  });
  const register = withFields(registerSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    refusePasswordInUrl(input);
    const { senha, username: name, matricula, ...profileRequest } = read();
    if (senha !== undefined) refuseWeakPassword(senha, { username: name, matricula });
    const customer = { username: name, matricula };
    const profile = mergeProfile({ matricula, ...DEFAULT_PROFILE }, profileRequest);
    const { skipped } = await store.addCustomers([customer]);
    if (skipped.length > 0) {
      const [byName, byMatricula] = await Promise.all([store.findCustomers({ username: customer.username }), store.findCustomers({ matricula: customer.matricula })]);
      const detalhes = [
        ...(byName.length > 0 ? [{ campo: 'username', problema: 'já cadastrado' }] : []),
        ...(byMatricula.length > 0 ? [{ campo: 'matricula', problema: 'já cadastrada' }] : []),
      ];
      throw new HttpError('cliente_existente', 'Já existe cliente com esse username ou essa matrícula.', { detalhes });
    }
    if (senha !== undefined) await passwords.set(customer.matricula, senha, input.remoteAddress);
    if (Object.values(profileRequest).some((value) => value !== undefined)) await profiles.setProfile(profile);
    return {
      status: 201,
      body: { ...customerJson(customer, profile), senha_definida: senha !== undefined },
      headers: [['Location', `/clientes/${customer.matricula}`]],
    };
  });
  return { path: '/clientes', handlers: { GET: list, POST: register }, traits: { heavy: true } };
}

/**
 * `/clientes/{matricula}`: one customer with its billing profile (`GET`, the
 * operator or the customer), and `PATCH` (the operator) to change the
 * profile: connection, modality, reading day, tarifa social.
 */
export function clienteRoute(store: Store, profiles: ProfileStore, access: ApiAccess): Route {
  const find = async (input: RouteInput): Promise<Customer> => {
    const matricula = matriculaSchema.safeParse(input.params.matricula);
    const [customer] = matricula.success ? await store.findCustomers({ matricula: matricula.data, limit: 1 }) : [];
    if (customer === undefined) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    return customer;
  };
  const show = async (input: RouteInput): Promise<Answer> => {
    const principal = await access.authenticate(input.request);
    if (input.params.matricula !== undefined) access.authorize(principal, input.params.matricula);
    const customer = await find(input);
    return { status: 200, body: customerJson(customer, await profiles.profile(customer.matricula)) };
  };
  const patch = withFields(patchSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const customer = await find(input);
    const profile = mergeProfile(await profiles.profile(customer.matricula), read());
    if (!(await profiles.setProfile(profile))) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    return { status: 200, body: customerJson(customer, profile) };
  });
  return { path: '/clientes/{matricula}', handlers: { GET: show, PATCH: patch } };
}

/**
 * `POST /clientes/{matricula}/senha`: sets or resets a customer's password.
 * The operator may set any; a customer, with its own token, its own, giving
 * the current one (`senha_atual`) too.
 */
export function senhaRoute(store: Store, access: ApiAccess, passwords: PasswordChecks): Route {
  const change = withFields(passwordSchema, async (input: RouteInput, read): Promise<Answer> => {
    refusePasswordInUrl(input);
    const matricula = matriculaSchema.safeParse(input.params.matricula);
    if (!matricula.success) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    const principal = await access.authenticateChange(input.request, matricula.data);
    const fields = read();
    const [owner] = await store.findCustomers({ matricula: matricula.data, limit: 1 });
    refuseWeakPassword(fields.senha, { username: owner?.username, matricula: matricula.data });
    if (principal?.papel !== 'operador') {
      if (fields.senha_atual === undefined) {
        throw new HttpError('dados_invalidos', 'Dados inválidos na requisição.', { detalhes: [{ campo: 'senha_atual', problema: 'obrigatória sem o token de operador' }] });
      }
      const [customer] = await store.findCustomers({ matricula: matricula.data });
      if (!(await passwords.check(input.remoteAddress, customer, `matricula:${matricula.data}`, fields.senha_atual))) throw invalidCredentials();
    }
    if (!(await passwords.set(matricula.data, fields.senha, input.remoteAddress))) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    // Every token issued with the old password stops now.
    await access.revoke({ papel: 'cliente', matricula: matricula.data });
    return { status: 200, body: { matricula: matricula.data, senha_definida: true } };
  });
  return { path: '/clientes/{matricula}/senha', handlers: { POST: change }, traits: { heavy: true } };
}

/** 422 `senha_fraca` for a password people commonly choose, or the account's own name or matricula. */
function refuseWeakPassword(password: string, account: { readonly username?: string | undefined; readonly matricula: string }): void {
  if (isCommonPassword(password, { matricula: account.matricula, ...(account.username === undefined ? {} : { username: account.username }) })) {
    throw new HttpError('senha_fraca', 'Essa senha é comum demais (está entre as mais usadas em vazamentos) ou repete o usuário ou a matrícula; escolha outra.', { detalhes: [{ campo: 'senha', problema: 'senha comum ou igual ao usuário ou à matrícula' }] });
  }
}

const goalSchema = z
  .object({
    kwh_mes: z.union([z.string(), z.number()]).transform((value, context) => positiveDecimal(value, 3, context, 'um consumo mensal em kWh, maior que 0, com até 3 casas')).meta({ description: 'kWh por mês: > 0, até 3 casas' }).optional(),
    valor_mes: z.union([z.string(), z.number()]).transform((value, context) => positiveDecimal(value, 2, context, 'um valor mensal em reais, maior que 0, com até 2 casas')).meta({ description: 'R$ por mês: > 0, até 2 casas' }).optional(),
  })
  .refine((goal) => (goal.kwh_mes === undefined) !== (goal.valor_mes === undefined), { message: 'informe kwh_mes ou valor_mes (um dos dois)', path: ['meta'] });

function positiveDecimal(value: string | number, scale: number, context: z.RefinementCtx, what: string): bigint {
  const parsed = parseDecimal(String(value), { scale, maxSignificantDigits: 12 });
  if (parsed === undefined || parsed === 0n) {
    context.addIssue({ code: 'custom', message: `deve ser ${what}` });
    return z.NEVER;
  }
  return parsed;
}

/**
 * `/clientes/{matricula}/meta`: the customer's monthly goal, in kWh or in
 * reais (`GET`, `PUT`, `DELETE`), by the customer itself or the operator.
 * The forecast warns when the cycle is on its way past it.
 */
export function metaRoute(store: Store, profiles: ProfileStore, access: ApiAccess): Route {
  /** The profile the path names; reading it follows the read rules, changing it needs the customer's or the operator's credential. */
  const profileOf = async (input: RouteInput, change: boolean): Promise<BillingProfile> => {
    const matricula = matriculaSchema.safeParse(input.params.matricula);
    if (change) await access.authenticateChange(input.request, matricula.success ? matricula.data : undefined);
    else access.authorize(await access.authenticate(input.request), input.params.matricula ?? '');
    if (!matricula.success) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    if ((await store.findCustomers({ matricula: matricula.data, limit: 1 })).length === 0) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    return profiles.profile(matricula.data);
  };
  const answer = (profile: BillingProfile): Answer => ({ status: 200, body: { matricula: profile.matricula, meta: profile.goal === undefined ? null : goalJson(profile.goal) } });
  const show = async (input: RouteInput): Promise<Answer> => answer(await profileOf(input, false));
  const put = withFields(goalSchema, async (input: RouteInput, read): Promise<Answer> => {
    const current = await profileOf(input, true);
    const fields = read();
    const goal: ConsumptionGoal = fields.kwh_mes !== undefined ? { kind: 'kwh', kwh: fields.kwh_mes } : { kind: 'valor', cents: fields.valor_mes as bigint };
    const profile = { ...current, goal };
    if (!(await profiles.setProfile(profile))) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    return answer(profile);
  });
  const remove = async (input: RouteInput): Promise<Answer> => {
    const { goal: _removed, ...profile } = await profileOf(input, true);
    if (!(await profiles.setProfile(profile))) throw new HttpError('usuario_nao_cadastrado', 'Nenhum cliente cadastrado com essa matrícula.');
    return answer(profile);
  };
  return { path: '/clientes/{matricula}/meta', handlers: { GET: show, PUT: put, DELETE: remove } };
}
