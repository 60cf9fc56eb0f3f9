/**
 * The two-way part of the meter protocol, in the same line format as
 * readings (a datagram carries lines of one direction; readings and these
 * lines are never mixed in one datagram):
 *
 * Server -> meter:  COMANDO;<id>;<matricula>;<tipo>;<expira_em>;<parametros>[;<hmac>]
 * Meter -> server:  RESPOSTA;<id>;<matricula>;<executado|falhou>;<detalhe>[[;<contador>];<hmac>]
 *                   EVENTO;<matricula>;<data_hora>;<tipo>;<detalhe>[[;<contador>];<hmac>]
 * Server -> meter:  ACK_EVENTO;<matricula>;<data_hora>;<tipo>[;<hmac>]   (the event is stored)
 *
 * `id`: 1 to 36 of [A-Za-z0-9-]; `expira_em` and `data_hora`: ISO-8601 UTC;
 * `parametros`: `name=value` pairs joined by `,` (names [a-z_], values
 * [0-9A-Za-z._:-]), empty when none; `detalhe`: up to 200 characters of
 * UTF-8 text (Portuguese as written: `último suspiro`), without `;` or
 * control characters. The HMAC (see meter-auth.ts) covers the whole
 * line before it, id and expiry included, so a command cannot be replayed
 * under another id or past its validity. `contador` (signed lines of a
 * meter only): the meter's invocation counter, 1 to 19 digits, that goes up
 * with every line it signs (as DLMS's invocation counter does), covered by
 * the HMAC: the server takes a keyed meter's answer or event only when its
 * counter is above every one it took before, so a captured line replayed
 * later is refused.
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
/** A detail as bytes (one latin1 character each): printable ASCII but `;`, or the bytes of UTF-8 sequences; decoded and checked by `detailText`. */
const DETAIL_BYTES = /^[\x20-\x3a\x3c-\x7e\x80-\xff]{0,800}$/;
const ASCII_DETAIL = /^[\x20-\x3a\x3c-\x7e]{0,200}$/;
export const MAX_DETAIL_CHARACTERS = 200;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/u;

/** A detail's text from its bytes; undefined unless valid UTF-8 of at most MAX_DETAIL_CHARACTERS printable characters. */
function detailText(bytes: string): string | undefined {
  if (ASCII_DETAIL.test(bytes)) return bytes;
  if (!DETAIL_BYTES.test(bytes)) return undefined;
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return undefined;
  }
  return [...text].length > MAX_DETAIL_CHARACTERS || CONTROL_OR_FORMAT.test(text) ? undefined : text;
}

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

/** A parsed line, with the text its MAC covers and its invocation counter when it carried them. */
export type Signed<T> = T & { readonly signature?: { readonly content: string; readonly mac: string } | undefined; readonly counter?: bigint | undefined };

/** An invocation counter as written: 1 to 19 digits, no leading zero (below 2^63, a PostgreSQL bigint). */
const COUNTER = /^[1-9]\d{0,18}$/;
/** The largest counter a line may carry (2^63 - 1). */
export const MAX_COUNTER = (1n << 63n) - 1n;

/** `content` with its invocation counter: what a keyed meter then signs (signLine). */
export function withCounter(content: string, counter: bigint): string {
  return `${content};${counter}`;
}

export type CommandParseError = 'UNKNOWN_RECORD' | 'FIELD_COUNT' | 'INVALID_ID' | 'INVALID_MATRICULA' | 'INVALID_TYPE' | 'INVALID_TIMESTAMP' | 'INVALID_PARAMETERS' | 'INVALID_DETAIL' | 'INVALID_SIGNATURE' | 'INVALID_COUNTER';

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

/**
 * Splits off a trailing MAC, and the invocation counter before it when
 * `counted` lines may carry one, and says what the MAC covers.
 */
function signed(line: string, fields: string[], unsigned: number, counted = false): { fields: string[]; signature?: { content: string; mac: string }; counter?: bigint } | CommandParseError {
  if (fields.length === unsigned) return { fields };
  const withCount = counted && fields.length === unsigned + 2;
  if (fields.length !== unsigned + 1 && !withCount) return 'FIELD_COUNT';
  const mac = fields[fields.length - 1] as string;
  if (!isMac(mac)) return 'INVALID_SIGNATURE';
  const signature = { content: line.slice(0, line.length - mac.length - 1), mac };
  if (!withCount) return { fields: fields.slice(0, unsigned), signature };
  const counter = fields[unsigned] as string;
  if (!COUNTER.test(counter) || BigInt(counter) > MAX_COUNTER) return 'INVALID_COUNTER';
  return { fields: fields.slice(0, unsigned), signature, counter: BigInt(counter) };
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
  const split = signed(line, all, 5, true);
  if (typeof split === 'string') return split;
  const [, id = '', matricula = '', outcome = '', detail = ''] = split.fields;
  if (!ID.test(id)) return 'INVALID_ID';
  if (!MATRICULA.test(matricula)) return 'INVALID_MATRICULA';
  if (outcome !== 'executado' && outcome !== 'falhou') return 'INVALID_TYPE';
  const text = detailText(detail);
  if (text === undefined) return 'INVALID_DETAIL';
  return { id, matricula, outcome, detail: text, signature: split.signature, counter: split.counter };
}

export function serializeEvent(event: EventLine): string {
  return [EVENT_TAG, event.matricula, formatIsoTimestamp(event.timestamp), event.type, event.detail].join(';');
}

export function parseEventLine(line: string): Signed<EventLine> | CommandParseError {
  const all = line.split(';');
  if (all[0] !== EVENT_TAG) return 'UNKNOWN_RECORD';
  const split = signed(line, all, 5, true);
  if (typeof split === 'string') return split;
  const [, matricula = '', when = '', type = '', detail = ''] = split.fields;
  if (!MATRICULA.test(matricula)) return 'INVALID_MATRICULA';
  const timestamp = parseIsoTimestamp(when);
  if (timestamp === undefined) return 'INVALID_TIMESTAMP';
  if (!EVENT_TYPES.includes(type as MeterEventType)) return 'INVALID_TYPE';
  const text = detailText(detail);
  if (text === undefined) return 'INVALID_DETAIL';
  return { matricula, timestamp, type: type as MeterEventType, detail: text, signature: split.signature, counter: split.counter };
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
