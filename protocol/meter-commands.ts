/**
 * The two-way part of the meter protocol, in the same line format as
 * readings (a datagram carries lines of one direction; readings and these
 * lines are never mixed in one datagram):
 *
 * Server -> meter:  COMANDO;<id>;<matricula>;<tipo>;<expira_em>;<parametros>[;<hmac>]
 * Meter -> server:  RESPOSTA;<id>;<matricula>;<executado|falhou>;<detalhe>[;<hmac>]
 *                   EVENTO;<matricula>;<data_hora>;<tipo>;<detalhe>[;<hmac>]
 * Server -> meter:  ACK_EVENTO;<matricula>;<data_hora>;<tipo>[;<hmac>]   (the event is stored)
 *
 * `id`: 1 to 36 of [A-Za-z0-9-]; `expira_em` and `data_hora`: ISO-8601 UTC;
 * `parametros`: `name=value` pairs joined by `,` (names [a-z_], values
 * [0-9A-Za-z._:-]), empty when none; `detalhe`: up to 200 printable ASCII
 * characters without `;`. The HMAC (see meter-auth.ts) covers the whole
 * line before it, id and expiry included, so a command cannot be replayed
 * under another id or past its validity.
 */
import { formatIsoTimestamp, parseIsoTimestamp } from './timestamp.js';
import { isMac, MAX_DATAGRAM_BYTES } from './meter-protocol.js';

export const COMMAND_TAG = 'COMANDO';
export const ANSWER_TAG = 'RESPOSTA';
export const EVENT_TAG = 'EVENTO';
export const EVENT_ACK_TAG = 'ACK_EVENTO';
export const EVENT_TYPES = ['falta_energia', 'retorno_energia', 'violacao_tampa', 'corte_executado', 'religacao_executada', 'limite_excedido', 'relogio_ajustado', 'subtensao', 'sobretensao'] as const;
export type MeterEventType = (typeof EVENT_TYPES)[number];
const COMMAND_NAMES = ['leitura', 'corte', 'religacao', 'limite_demanda', 'sincronizar_relogio'] as const;
type CommandName = (typeof COMMAND_NAMES)[number];

const ID = /^[A-Za-z0-9-]{1,36}$/;
const MATRICULA = /^\d{1,20}$/;
const PARAMETER = /^([a-z_]{1,32})=([0-9A-Za-z._:-]{0,64})$/;
const DETAIL = /^[\x20-\x3a\x3c-\x7e]{0,200}$/;

export interface CommandLine {
  readonly id: string;
  readonly matricula: string;
  readonly type: CommandName;
  readonly expiresAt: number;
  readonly parameters: Readonly<Record<string, string>>;
}

export interface AnswerLine {
  readonly id: string;
  readonly matricula: string;
  readonly outcome: 'executado' | 'falhou';
  readonly detail: string;
}

export interface EventLine {
  readonly matricula: string;
  readonly timestamp: number;
  readonly type: MeterEventType;
  readonly detail: string;
}

/** The server's acknowledgement of one event: it is stored, the meter forgets it. */
export interface EventAck {
  readonly matricula: string;
  readonly timestamp: number;
  readonly type: MeterEventType;
}

/** A parsed line, with the text its MAC covers when it carried one. */
export type Signed<T> = T & { readonly signature?: { readonly content: string; readonly mac: string } | undefined };

export type CommandParseError = 'UNKNOWN_RECORD' | 'FIELD_COUNT' | 'INVALID_ID' | 'INVALID_MATRICULA' | 'INVALID_TYPE' | 'INVALID_TIMESTAMP' | 'INVALID_PARAMETERS' | 'INVALID_DETAIL' | 'INVALID_SIGNATURE';

function parameters(text: string): Record<string, string> | undefined {
  // No prototype: a parameter named `__proto__` or `constructor` is just a name.
  const result = Object.create(null) as Record<string, string>;
  if (text === '') return result;
  for (const pair of text.split(',')) {
    const match = PARAMETER.exec(pair);
    if (match === null || Object.hasOwn(result, match[1] as string)) return undefined;
    result[match[1] as string] = match[2] as string;
  }
  return result;
}

/** Splits off a trailing MAC (a 6th or 7th field) and says what it covers. */
function signed(line: string, fields: string[], unsigned: number): { fields: string[]; signature?: { content: string; mac: string } } | CommandParseError {
  if (fields.length === unsigned) return { fields };
  if (fields.length !== unsigned + 1) return 'FIELD_COUNT';
  const mac = fields[unsigned] as string;
  if (!isMac(mac)) return 'INVALID_SIGNATURE';
  return { fields: fields.slice(0, unsigned), signature: { content: line.slice(0, line.length - mac.length - 1), mac } };
}

export function serializeCommand(command: CommandLine): string {
  const params = Object.entries(command.parameters)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return [COMMAND_TAG, command.id, command.matricula, command.type, formatIsoTimestamp(command.expiresAt), params].join(';');
}

export function parseCommandLine(line: string): Signed<CommandLine> | CommandParseError {
  const all = line.split(';');
  if (all[0] !== COMMAND_TAG) return 'UNKNOWN_RECORD';
  const split = signed(line, all, 6);
  if (typeof split === 'string') return split;
  const [, id = '', matricula = '', type = '', expires = '', params = ''] = split.fields;
  if (!ID.test(id)) return 'INVALID_ID';
  if (!MATRICULA.test(matricula)) return 'INVALID_MATRICULA';
  if (!COMMAND_NAMES.includes(type as CommandName)) return 'INVALID_TYPE';
  const expiresAt = parseIsoTimestamp(expires);
  if (expiresAt === undefined) return 'INVALID_TIMESTAMP';
  const parsed = parameters(params);
  if (parsed === undefined) return 'INVALID_PARAMETERS';
  return { id, matricula, type: type as CommandName, expiresAt, parameters: parsed, signature: split.signature };
}

export function serializeAnswer(answer: AnswerLine): string {
  return [ANSWER_TAG, answer.id, answer.matricula, answer.outcome, answer.detail].join(';');
}

export function parseAnswerLine(line: string): Signed<AnswerLine> | CommandParseError {
  const all = line.split(';');
  if (all[0] !== ANSWER_TAG) return 'UNKNOWN_RECORD';
  const split = signed(line, all, 5);
  if (typeof split === 'string') return split;
  const [, id = '', matricula = '', outcome = '', detail = ''] = split.fields;
  if (!ID.test(id)) return 'INVALID_ID';
  if (!MATRICULA.test(matricula)) return 'INVALID_MATRICULA';
  if (outcome !== 'executado' && outcome !== 'falhou') return 'INVALID_TYPE';
  if (!DETAIL.test(detail)) return 'INVALID_DETAIL';
  return { id, matricula, outcome, detail, signature: split.signature };
}

export function serializeEvent(event: EventLine): string {
  return [EVENT_TAG, event.matricula, formatIsoTimestamp(event.timestamp), event.type, event.detail].join(';');
}

export function parseEventLine(line: string): Signed<EventLine> | CommandParseError {
  const all = line.split(';');
  if (all[0] !== EVENT_TAG) return 'UNKNOWN_RECORD';
  const split = signed(line, all, 5);
  if (typeof split === 'string') return split;
  const [, matricula = '', when = '', type = '', detail = ''] = split.fields;
  if (!MATRICULA.test(matricula)) return 'INVALID_MATRICULA';
  const timestamp = parseIsoTimestamp(when);
  if (timestamp === undefined) return 'INVALID_TIMESTAMP';
  if (!EVENT_TYPES.includes(type as MeterEventType)) return 'INVALID_TYPE';
  if (!DETAIL.test(detail)) return 'INVALID_DETAIL';
  return { matricula, timestamp, type: type as MeterEventType, detail, signature: split.signature };
}

export function serializeEventAck(ack: EventAck): string {
  return [EVENT_ACK_TAG, ack.matricula, formatIsoTimestamp(ack.timestamp), ack.type].join(';');
}

export function parseEventAckLine(line: string): Signed<EventAck> | CommandParseError {
  const all = line.split(';');
  if (all[0] !== EVENT_ACK_TAG) return 'UNKNOWN_RECORD';
  const split = signed(line, all, 4);
  if (typeof split === 'string') return split;
  const [, matricula = '', when = '', type = ''] = split.fields;
  if (!MATRICULA.test(matricula)) return 'INVALID_MATRICULA';
  const timestamp = parseIsoTimestamp(when);
  if (timestamp === undefined) return 'INVALID_TIMESTAMP';
  if (!EVENT_TYPES.includes(type as MeterEventType)) return 'INVALID_TYPE';
  return { matricula, timestamp, type: type as MeterEventType, signature: split.signature };
}

/** Which kind of line `line` is, by its tag alone (cheap: what a datagram is dispatched by). */
export function lineTag(line: string): string {
  const end = line.indexOf(';');
  return end === -1 ? line : line.slice(0, end);
}

/**
 * A datagram's lines grouped by tag, in order (empty lines dropped); none
 * when it is larger than any datagram of this protocol. Each group goes to
 * the parser of its kind.
 */
export function linesByTag(bytes: Uint8Array): { readonly groups: ReadonlyMap<string, string[]>; readonly lines: number } {
  const groups = new Map<string, string[]>();
  if (bytes.byteLength > MAX_DATAGRAM_BYTES) return { groups, lines: 1 };
  let lines = 0;
  // latin1: one char per byte, so a non-ASCII byte fails the grammar instead of a decoder.
  for (const line of Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').split('\n')) {
    if (line === '') continue;
    lines++;
    const tag = lineTag(line);
    const group = groups.get(tag);
    if (group === undefined) groups.set(tag, [line]);
    else group.push(line);
  }
  return { groups, lines };
}
