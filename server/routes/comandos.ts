/**
 * Commands to meters (issue 16): `POST /medidores/{matricula}/comandos`
 * (operator; 202 with the command, `Idempotency-Key` makes a retry answer
 * the same one), `GET /medidores/{matricula}/comandos`, `GET /comandos/{id}`
 * (operator, or the meter's customer) and `DELETE /comandos/{id}`
 * (operator: cancels one not yet final). Delivery is CommandDelivery's.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CommandStore, StoredCommand } from '../../database/command-store.js';
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { actorOf, type ApiAccess } from '../http/api-access.js';
import type { CommandDelivery } from '../udp/command-delivery.js';
import { COMMAND_TYPES, FINAL_STATES, KEYED_ONLY } from '../../domain/commands.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { invalidField, matriculaSchema, positiveInteger, withFields } from './fields.js';

export const DEFAULT_VALIDITY_S = 3600;
/** Longest validity: a week. */
export const MAX_VALIDITY_S = 7 * 86_400;
export const MIN_VALIDITY_S = 10;
const DEFAULT_PAGE = 20;
const MAX_PAGE = 200;
/** RFC 9110 token-ish: what an Idempotency-Key may be (visible ASCII, bounded). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,100}$/;
/** A demand limit in kW: up to 6 digits and 3 decimals, more than zero. */
const KW = /^\d{1,6}(\.\d{1,3})?$/;

const createSchema = z.object({
  tipo: z.enum(COMMAND_TYPES, { error: `deve ser ${COMMAND_TYPES.join(', ')}` }),
  parametros: z.record(z.string(), z.unknown(), { error: 'deve ser um objeto' }).optional(),
  validade_s: z.number({ error: 'deve ser um número de segundos' }).int('deve ser inteiro').min(MIN_VALIDITY_S, `deve ser ao menos ${MIN_VALIDITY_S}`).max(MAX_VALIDITY_S, `deve ser no máximo ${MAX_VALIDITY_S} (uma semana)`).optional(),
});
const listSchema = z.object({ pagina: positiveInteger(1_000_000).optional(), limite: positiveInteger(MAX_PAGE).optional(), access_token: z.string().optional() });
const COMMAND_ID = /^[A-Za-z0-9-]{1,36}$/;

/** The parameters of each type, checked; the wire form (text values) the meter gets. */
function parametersOf(type: StoredCommand['type'], given: Record<string, unknown> | undefined): Record<string, string> {
  const names = Object.keys(given ?? {});
  if (type !== 'limite_demanda') {
    if (names.length > 0) throw invalidField('parametros', `${type} não tem parâmetros`);
    return {};
  }
  const extra = names.filter((name) => name !== 'kw');
  if (extra.length > 0) throw invalidField(`parametros.${extra[0]}`, 'parâmetro desconhecido (limite_demanda tem só kw)');
  if (!Object.hasOwn(given ?? {}, 'kw')) throw invalidField('parametros.kw', 'campo obrigatório: o limite em kW, como "2.5", ou null para removê-lo');
  const kw = (given as Record<string, unknown>).kw;
  if (kw === null) return { kw: 'null' };
  const text = typeof kw === 'number' ? String(kw) : kw;
  if (typeof text !== 'string' || !KW.test(text) || /^0+(\.0+)?$/.test(text)) throw invalidField('parametros.kw', 'deve ser um limite em kW maior que zero, como "2.5" (até 3 decimais), ou null para removê-lo');
  return { kw: text };
}

/** A command as the API shows it. */
export function commandJson(command: StoredCommand) {
  const at = (ms: number | null) => (ms === null ? null : formatIsoTimestamp(ms));
  const kw = command.parameters.kw;
  return {
    id: command.id,
    matricula: command.matricula,
    tipo: command.type,
    parametros: command.type === 'limite_demanda' ? { kw: kw === 'null' || kw === undefined ? null : kw } : {},
    estado: command.state,
    criado_em: at(command.createdAt),
    expira_em: at(command.expiresAt),
    tentativas: command.attempts,
    ultimo_envio: at(command.lastSentAt),
    concluido_em: at(command.finishedAt),
    resultado: command.state === 'executado' ? command.outcome : null,
    motivo: command.state === 'falhou' ? command.outcome : null,
    pedido_por: command.requestedBy,
  };
}

export interface CommandRoutesDeps {
  readonly commands: CommandStore;
  readonly delivery: CommandDelivery;
  readonly store: Pick<Store, 'findCustomers' | 'recentReadings'>;
  readonly access: ApiAccess;
  /** Whether the meter has a key (can prove who it is). */
  readonly hasKey: (matricula: string) => boolean;
  readonly now?: () => number;
}

export function unknownMeter(matricula: string): HttpError {
  return new HttpError('medidor_nao_encontrado', `O medidor ${matricula} não é de nenhum cliente e nunca enviou leituras.`);
}

/** 404 unless the head-end knows the meter: a customer's, or one that sent a reading. */
export async function knownMeter(store: Pick<Store, 'findCustomers' | 'recentReadings'>, matricula: string): Promise<void> {
  const [customer] = await store.findCustomers({ matricula, limit: 1 });
  if (customer !== undefined) return;
  const [reading] = await store.recentReadings(matricula, 1);
  if (reading === undefined) throw unknownMeter(matricula);
}

/** The `{matricula}` of a path, or 404 (a path that names no meter names no resource). */
export function pathMatricula(input: RouteInput): string {
  const parsed = matriculaSchema.safeParse(input.params.matricula);
  if (!parsed.success) throw new HttpError('medidor_nao_encontrado', 'A matrícula do caminho deve ter de 1 a 20 dígitos.');
  return parsed.data;
}

export function comandosRoutes({ commands, delivery, store, access, hasKey, now = Date.now }: CommandRoutesDeps): Route[] {
  const create = withFields(createSchema, async (input: RouteInput, read): Promise<Answer> => {
    const principal = await access.authenticateChange(input.request);
    const matricula = pathMatricula(input);
    const fields = read();
    const parameters = parametersOf(fields.tipo, fields.parametros);
    const key = input.request.head.headers.get('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw invalidField('Idempotency-Key', 'deve ter de 1 a 100 caracteres ASCII visíveis');
    if (KEYED_ONLY.has(fields.tipo) && !hasKey(matricula)) {
      throw new HttpError('medidor_sem_chave', `O medidor ${matricula} não tem chave (CHAVES_MEDIDORES): ${fields.tipo} só vai a um medidor que prova quem é e assina a resposta.`);
    }
    await knownMeter(store, matricula);
    const createdAt = now();
    const { command, created } = await commands.create({
      id: randomUUID(),
      matricula,
      type: fields.tipo,
      parameters,
      state: 'pendente',
      createdAt,
      expiresAt: createdAt + (fields.validade_s ?? DEFAULT_VALIDITY_S) * 1000,
      attempts: 0,
      lastSentAt: null,
      finishedAt: null,
      outcome: null,
      // Who asked, as the audit log names them: `operador` (the bootstrap token) or `operador:<nome>`.
      requestedBy: actorOf(principal),
      idempotencyKey: key ?? null,
    });
    // The same key for another meter or another command is a client's mistake, not a retry.
    if (!created && (command.matricula !== matricula || command.type !== fields.tipo || JSON.stringify(command.parameters) !== JSON.stringify(parameters))) {
      throw new HttpError('requisicao_invalida', 'Esta Idempotency-Key já foi usada para outro comando.');
    }
    if (created) delivery.accepted(command);
    return { status: 202, body: commandJson(command), headers: [['Location', `/comandos/${command.id}`], ...(created ? [] : ([['Idempotent-Replayed', 'true']] as const))] };
  });
  const list = withFields(listSchema, async (input: RouteInput, read): Promise<Answer> => {
    const principal = await access.authenticate(input.request, input.query.get('access_token') ?? undefined);
    const matricula = pathMatricula(input);
    access.authorize(principal, matricula);
    const { pagina = 1, limite = DEFAULT_PAGE } = read();
    const found = await commands.listByMeter(matricula, (pagina - 1) * limite, limite + 1);
    const next = new URLSearchParams(input.request.head.query);
    next.set('pagina', String(pagina + 1));
    next.delete('access_token');
    return { status: 200, body: { matricula, comandos: found.slice(0, limite).map(commandJson), pagina, limite, proxima: found.length > limite ? `/medidores/${matricula}/comandos?${next.toString()}` : null } };
  });
  const find = async (input: RouteInput): Promise<StoredCommand> => {
    const id = input.params.id ?? '';
    const command = COMMAND_ID.test(id) ? await commands.get(id) : undefined;
    if (command === undefined) throw new HttpError('comando_nao_encontrado', `Não há comando ${id}.`);
    return command;
  };
  const show = async (input: RouteInput): Promise<Answer> => {
    const principal = await access.authenticate(input.request, input.query.get('access_token') ?? undefined);
    const command = await find(input);
    access.authorize(principal, command.matricula);
    return { status: 200, body: commandJson(command) };
  };
  const cancel = async (input: RouteInput): Promise<Answer> => {
    await access.authenticateChange(input.request);
    const command = await find(input);
    // Cancelled by this request, or not at all: one already final (cancelled before, too) is a conflict.
    const after = FINAL_STATES.has(command.state) ? command : await delivery.cancel(command);
    if (after === command || after.state !== 'cancelado') throw new HttpError('comando_finalizado', `O comando já terminou (${after.state}); só se cancela um comando pendente ou enviado.`);
    return { status: 200, body: commandJson(after) };
  };
  return [
    { path: '/medidores/{matricula}/comandos', handlers: { POST: create, GET: list } },
    { path: '/comandos/{id}', handlers: { GET: show, DELETE: cancel } },
  ];
}
