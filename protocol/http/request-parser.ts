/**
 * Incremental HTTP/1.1 request parser (RFC 9112), pure: bytes in, typed
 * requests or a typed ParseError out. The caller feeds chunks as they come
 * and pulls results with `next()`, so it can stop pulling (back-pressure)
 * whenever it has enough requests in hand. The answer is the same however
 * the bytes are chunked.
 *
 * Strictness, chosen to leave no room for request smuggling:
 * - lines end in CRLF; a bare LF or CR is rejected (RFC 9112 §2.2 allows
 *   but does not require tolerating it);
 * - empty lines before a request line are skipped (§2.2);
 * - obsolete line folding is rejected (§5.2);
 * - whitespace between a field name and its colon is rejected (§5.1);
 * - Transfer-Encoding with Content-Length, or in HTTP/1.0, is rejected
 *   (§6.1, §6.3); duplicate Content-Length fields are rejected (§6.3);
 * - only the `chunked` transfer coding is implemented (501 otherwise).
 */
import { ParseError, type ParseErrorCode } from './parse-error.js';

export interface ParserLimits {
  /** Largest header section, request line included, in bytes (431 past it). */
  readonly maxHeaderBytes: number;
  /** Most header fields in one request (431 past it). */
  readonly maxHeaderCount: number;
  /** Largest body, after chunked decoding, in bytes (413 past it). */
  readonly maxBodyBytes: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: 64 * 1024,
};

/** Longest chunk-size line (size plus extensions) accepted, in bytes. */
const MAX_CHUNK_LINE_BYTES = 1024;
/** Longest request-target accepted, in bytes (RFC 9112 §3: 414 past it; §4 recommends at least 8000). */
export const MAX_TARGET_BYTES = 8 * 1024;

export interface RequestHead {
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** Path of the target, still percent-encoded; `*` for asterisk-form. */
  readonly path: string;
  /** Query string without the `?`, still encoded; empty when absent. */
  readonly query: string;
  readonly httpMinor: 0 | 1;
  /** Field values by lower-case name; repeated fields joined with `, ` (RFC 9110 §5.3). */
  readonly headers: ReadonlyMap<string, string>;
  /** Whether the connection persists after this request (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** Whether the client waits for `100 Continue` before sending the body. */
  readonly expectContinue: boolean;
  /** Body bytes announced by Content-Length, or 'chunked'. */
  readonly bodyLength: number | 'chunked';
}

export interface Request {
  readonly head: RequestHead;
  readonly body: Buffer;
}

export type ParseStep =
  | { readonly kind: 'request'; readonly request: Request }
  /** A head whose body has not fully arrived yet (the moment to send 100 Continue). */
  | { readonly kind: 'head'; readonly head: RequestHead }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly error: ParseError };

const CR = 0x0d;
const LF = 0x0a;
/** tchar (RFC 9110 §5.6.2) by char code: checked per character on the hot path, not by regex. */
const TOKEN_CHAR = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHAR[char.charCodeAt(0)] = 1;

/** Whether `text` from `start` up to `end` is a non-empty token (RFC 9110 §5.6.2). */
function isToken(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || TOKEN_CHAR[code] === 0) return false;
  }
  return true;
}
const VERSION = /^HTTP\/(\d)\.(\d)$/;
/**
 * chunk-size [ chunk-ext ] (RFC 9112 §7.1.1): the size, then only extensions,
 * each `BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ]`.
 * No whitespace after the size unless an extension follows, no empty names,
 * no unbalanced quotes.
 */
const CHUNK_TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const CHUNK_QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const CHUNK_LINE = new RegExp(`^([0-9A-Fa-f]+)(?:[\\t ]*;[\\t ]*${CHUNK_TOKEN}(?:[\\t ]*=[\\t ]*(?:${CHUNK_TOKEN}|${CHUNK_QUOTED}))?)*$`);
/**
 * Host = uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2): an IP
 * literal in brackets, or a reg-name / IPv4 address of unreserved,
 * percent-encoded and sub-delim characters; the port all digits.
 */
const HOST_VALUE = /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]*)(?::[0-9]*)?$/;
const DIGITS = /^\d+$/;
const SP = 0x20;
const HTAB = 0x09;

type State =
  | { readonly name: 'head' }
  | { readonly name: 'fixed'; readonly head: RequestHead; remaining: number }
  | { readonly name: 'chunk-size'; readonly head: RequestHead }
  | { readonly name: 'chunk-data'; readonly head: RequestHead; remaining: number }
  | { readonly name: 'chunk-end'; readonly head: RequestHead }
  | { readonly name: 'trailers'; readonly head: RequestHead; trailerBytes: number }
  | { readonly name: 'failed'; readonly error: ParseError };

export class RequestParser {
  private readonly limits: ParserLimits;
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of `buffer` already scanned for line ends while waiting for more. */
  private scanned = 0;
  private state: State = { name: 'head' };
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;
  private headAnnounced = false;

  constructor(limits: ParserLimits = DEFAULT_PARSER_LIMITS) {
    this.limits = limits;
  }

  /** Bytes received and not yet returned as part of a request. */
  get bufferedBytes(): number {
    return this.buffer.length + this.bodyBytes;
  }

  /** True between requests: no byte of a next request has arrived. */
  get idle(): boolean {
    return this.state.name === 'head' && this.buffer.length === 0;
  }

  feed(chunk: Buffer): void {
    if (this.state.name === 'failed' || chunk.length === 0) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  next(): ParseStep {
    try {
      return this.step();
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.state = { name: 'failed', error };
      this.buffer = Buffer.alloc(0);
      this.bodyParts = [];
      return { kind: 'error', error };
    }
  }

  private step(): ParseStep {
    for (;;) {
      const state = this.state;
      switch (state.name) {
        case 'failed':
          return { kind: 'error', error: state.error };
        case 'head': {
          const head = this.parseHead();
          if (head === undefined) return { kind: 'incomplete' };
          if (head.bodyLength === 0) return this.complete(head);
          this.state = head.bodyLength === 'chunked' ? { name: 'chunk-size', head } : { name: 'fixed', head, remaining: head.bodyLength };
          this.headAnnounced = false;
          break;
        }
        case 'fixed': {
          const taken = this.takeBody(state.remaining);
          state.remaining -= taken;
          if (state.remaining > 0) return this.announce(state.head);
          return this.complete(state.head);
        }
        case 'chunk-size': {
          const line = this.takeLine(MAX_CHUNK_LINE_BYTES, 'INVALID_CHUNK');
          if (line === undefined) return this.announce(state.head);
          const match = CHUNK_LINE.exec(line);
          if (match === null) throw new ParseError('INVALID_CHUNK', 'Tamanho de bloco (chunk) inválido.');
          const size = Number.parseInt(match[1] as string, 16);
          if (!Number.isSafeInteger(size) || this.bodyBytes + size > this.limits.maxBodyBytes) {
            throw new ParseError('BODY_TOO_LARGE', `O corpo excede ${this.limits.maxBodyBytes} bytes.`);
          }
          this.state = size === 0 ? { name: 'trailers', head: state.head, trailerBytes: 0 } : { name: 'chunk-data', head: state.head, remaining: size };
          break;
        }
        case 'chunk-data': {
          state.remaining -= this.takeBody(state.remaining);
          if (state.remaining > 0) return this.announce(state.head);
          this.state = { name: 'chunk-end', head: state.head };
          break;
        }
        case 'chunk-end': {
          if (this.buffer.length < 2) return this.announce(state.head);
          if (this.buffer[0] !== CR || this.buffer[1] !== LF) throw new ParseError('INVALID_CHUNK', 'Bloco (chunk) sem CRLF ao final.');
          this.buffer = this.buffer.subarray(2);
          this.state = { name: 'chunk-size', head: state.head };
          break;
        }
        case 'trailers': {
          // Trailer fields are read and discarded (RFC 9112 §7.1.2): nothing here needs them.
          const line = this.takeLine(this.limits.maxHeaderBytes - state.trailerBytes, 'HEADER_OVERFLOW');
          if (line === undefined) return this.announce(state.head);
          if (line.length === 0) return this.complete(state.head);
          state.trailerBytes += line.length + 2;
          const name = parseFieldName(line, 0, line.length);
          parseFieldValue(line, name.length + 1, line.length, name);
          break;
        }
      }
    }
  }

  /** Reports the head once while its body is still arriving. */
  private announce(head: RequestHead): ParseStep {
    if (this.headAnnounced) return { kind: 'incomplete' };
    this.headAnnounced = true;
    return { kind: 'head', head };
  }

  private complete(head: RequestHead): ParseStep {
    const body = this.bodyParts.length === 1 ? (this.bodyParts[0] as Buffer) : Buffer.concat(this.bodyParts, this.bodyBytes);
    this.bodyParts = [];
    this.bodyBytes = 0;
    this.state = { name: 'head' };
    return { kind: 'request', request: { head, body } };
  }

  private takeBody(wanted: number): number {
    const taken = Math.min(wanted, this.buffer.length);
    if (taken > 0) {
      this.bodyParts.push(this.buffer.subarray(0, taken));
      this.bodyBytes += taken;
      this.buffer = this.buffer.subarray(taken);
    }
    return taken;
  }

  /** Takes one CRLF-terminated line (without CRLF), or undefined if it has not all arrived. */
  private takeLine(maxBytes: number, tooLong: ParseErrorCode): string | undefined {
    const lf = this.buffer.indexOf(LF);
    if (lf === -1 ? this.buffer.length > maxBytes : lf - 1 > maxBytes) {
      throw new ParseError(tooLong, 'Linha de bloco (chunk) ou de trailer longa demais.');
    }
    if (lf === -1) return undefined;
    if (lf === 0 || this.buffer[lf - 1] !== CR) throw new ParseError('INVALID_LINE_ENDING', 'Linha terminada sem CRLF.');
    const line = this.buffer.toString('latin1', 0, lf - 1);
    this.buffer = this.buffer.subarray(lf + 1);
    return line;
  }

  /** Parses a complete header section from the buffer, or returns undefined to wait for more. */
  private parseHead(): RequestHead | undefined {
    const buffer = this.buffer;
    let lineStart = 0;
    const from = this.scanned;
    // Skip empty lines before the request line (RFC 9112 §2.2).
    while (buffer.length - lineStart >= 2 && buffer[lineStart] === CR && buffer[lineStart + 1] === LF) lineStart += 2;
    if (lineStart > 0) {
      this.buffer = buffer.subarray(lineStart);
      this.scanned = 0;
      return this.parseHead();
    }
    // Find the empty line that ends the section, checking every line end on the way.
    let previousLineEnd = from - 1;
    for (let lf = buffer.indexOf(LF, from); lf !== -1; lf = buffer.indexOf(LF, lf + 1)) {
      if (lf === 0 || buffer[lf - 1] !== CR) throw new ParseError('INVALID_LINE_ENDING', 'Linha terminada sem CRLF.');
      if (lf > this.limits.maxHeaderBytes) break;
      previousLineEnd = lf;
      if (lf >= 3 && buffer[lf - 2] === LF) {
        const end = lf + 1;
        this.buffer = buffer.subarray(end);
        this.scanned = 0;
        return this.interpretHead(buffer.toString('latin1', 0, lf - 3));
      }
    }
    if (buffer.length > this.limits.maxHeaderBytes) {
      const firstLf = buffer.indexOf(LF);
      // The request line alone past the limit: its target is what is too long (RFC 9112 §3).
      if (firstLf === -1 || firstLf > this.limits.maxHeaderBytes) throw new ParseError('URI_TOO_LONG', `O alvo da requisição (URL) excede ${MAX_TARGET_BYTES} bytes.`);
      throw new ParseError('HEADER_OVERFLOW', `A seção de cabeçalhos excede ${this.limits.maxHeaderBytes} bytes.`);
    }
    // Resume the scan at the last complete line next time (its CR check is done).
    this.scanned = previousLineEnd + 1;
    return undefined;
  }

  /**
   * Reads a header section (without its final CRLF CRLF) into a head.
   * Walks it by index: splitting it into arrays of lines and words cost
   * more than the rest of the parse together.
   */
  private interpretHead(text: string): RequestHead {
    const firstCrlf = text.indexOf('\r\n');
    let fieldLines = 0;
    for (let crlf = firstCrlf; crlf !== -1; crlf = text.indexOf('\r\n', crlf + 2)) fieldLines++;
    if (fieldLines > this.limits.maxHeaderCount) {
      throw new ParseError('HEADER_OVERFLOW', `Mais de ${this.limits.maxHeaderCount} cabeçalhos.`);
    }
    const requestLineEnd = firstCrlf === -1 ? text.length : firstCrlf;
    const firstCr = text.indexOf('\r');
    if (firstCr !== -1 && firstCr < requestLineEnd) throw new ParseError('INVALID_LINE_ENDING', 'CR isolado na linha de requisição.');
    // Exactly two spaces: method SP request-target SP HTTP-version (RFC 9112 §3).
    const firstSpace = text.indexOf(' ');
    const secondSpace = firstSpace === -1 ? -1 : text.indexOf(' ', firstSpace + 1);
    const thirdSpace = secondSpace === -1 ? -1 : text.indexOf(' ', secondSpace + 1);
    if (secondSpace === -1 || secondSpace >= requestLineEnd || (thirdSpace !== -1 && thirdSpace < requestLineEnd)) {
      throw new ParseError('INVALID_METHOD', 'Linha de requisição malformada: esperado "MÉTODO alvo HTTP/1.1".');
    }
    if (!isToken(text, 0, firstSpace)) throw new ParseError('INVALID_METHOD', 'Método HTTP inválido.');
    const method = text.slice(0, firstSpace);
    const target = text.slice(firstSpace + 1, secondSpace);
    if (target.length > MAX_TARGET_BYTES) throw new ParseError('URI_TOO_LONG', `O alvo da requisição (URL) excede ${MAX_TARGET_BYTES} bytes.`, method);
    if (!isVisible(target)) throw new ParseError('INVALID_URL', 'Alvo da requisição (URL) inválido.', method);
    try {
      return this.interpretFields(text, method, target, requestLineEnd, secondSpace);
    } catch (error) {
      // An error answer to HEAD carries no body (RFC 9110 §9.3.2): the error keeps the method.
      if (error instanceof ParseError && error.method === undefined) throw new ParseError(error.code, error.message, method);
      throw error;
    }
  }

  private interpretFields(text: string, method: string, target: string, requestLineEnd: number, secondSpace: number): RequestHead {
    const version = text.slice(secondSpace + 1, requestLineEnd);
    const httpMinor = version === 'HTTP/1.1' ? 1 : parseOtherVersion(version);

    const headers = new Map<string, string>();
    let hostCount = 0;
    let contentLengthCount = 0;
    for (let lineStart = requestLineEnd + 2; lineStart < text.length + 2; ) {
      const crlf = text.indexOf('\r\n', lineStart);
      const lineEnd = crlf === -1 ? text.length : crlf;
      const name = parseFieldName(text, lineStart, lineEnd);
      const value = parseFieldValue(text, lineStart + name.length + 1, lineEnd, name);
      if (name === 'host') hostCount++;
      if (name === 'content-length') contentLengthCount++;
      const existing = headers.get(name);
      headers.set(name, existing === undefined ? value : `${existing}, ${value}`);
      lineStart = lineEnd + 2;
    }

    if (httpMinor === 1 && hostCount === 0) throw new ParseError('MISSING_HOST', 'Requisição HTTP/1.1 sem cabeçalho Host.');
    if (hostCount > 1) throw new ParseError('DUPLICATE_HOST', 'Mais de um cabeçalho Host.');
    const host = headers.get('host');
    if (host !== undefined && !HOST_VALUE.test(host)) throw new ParseError('INVALID_HOST', 'Cabeçalho Host inválido.');

    const { path, query } = splitTarget(method, target);
    const connection = tokenList(headers.get('connection'));
    const keepAlive = httpMinor === 1 ? !connection.includes('close') : connection.includes('keep-alive') && !connection.includes('close');
    return {
      method,
      target,
      path,
      query,
      httpMinor,
      headers,
      keepAlive,
      expectContinue: parseExpect(headers.get('expect'), httpMinor),
      bodyLength: this.bodyLength(headers, httpMinor, contentLengthCount),
    };
  }

  /** Message body length of a request (RFC 9112 §6.3). */
  private bodyLength(headers: ReadonlyMap<string, string>, httpMinor: 0 | 1, contentLengthCount: number): number | 'chunked' {
    const transferEncoding = headers.get('transfer-encoding');
    const contentLength = headers.get('content-length');
    if (transferEncoding !== undefined) {
      if (httpMinor === 0) throw new ParseError('TRANSFER_ENCODING_IN_HTTP_1_0', 'Transfer-Encoding não é permitido em HTTP/1.0.');
      if (contentLength !== undefined) {
        throw new ParseError('TRANSFER_ENCODING_WITH_CONTENT_LENGTH', 'Content-Length e Transfer-Encoding na mesma requisição.');
      }
      const codings = tokenList(transferEncoding);
      if (codings.length === 0 || codings.some((coding) => coding.length === 0)) {
        throw new ParseError('INVALID_TRANSFER_ENCODING', 'Transfer-Encoding malformado.');
      }
      if (codings.length === 1 && codings[0] === 'chunked') return 'chunked';
      const chunkedAt = codings.indexOf('chunked');
      // chunked last (the framing is known) after codings this server does not implement: 501 (RFC 9112 §6.1).
      if (chunkedAt === codings.length - 1 && chunkedAt === codings.lastIndexOf('chunked')) {
        throw new ParseError('UNSUPPORTED_TRANSFER_CODING', `Codificação de transferência não suportada: ${transferEncoding}.`);
      }
      // chunked anywhere but last, or twice: the body's length cannot be known (RFC 9112 §6.3).
      if (chunkedAt !== -1) throw new ParseError('INVALID_TRANSFER_ENCODING', 'chunked deve ser a última e única codificação.');
      throw new ParseError('UNSUPPORTED_TRANSFER_CODING', `Codificação de transferência não suportada: ${transferEncoding}.`);
    }
    if (contentLength === undefined) return 0;
    if (contentLengthCount > 1 || contentLength.includes(',')) {
      throw new ParseError('DUPLICATE_CONTENT_LENGTH', 'Content-Length repetido.');
    }
    if (!DIGITS.test(contentLength)) throw new ParseError('INVALID_CONTENT_LENGTH', 'Content-Length inválido.');
    const length = Number(contentLength);
    if (length > this.limits.maxBodyBytes) throw new ParseError('BODY_TOO_LARGE', `O corpo excede ${this.limits.maxBodyBytes} bytes.`);
    return length;
  }
}

/** The lower-case name of the field line from `start` to `end` (RFC 9112 §5). */
function parseFieldName(text: string, start: number, end: number): string {
  const first = text.charCodeAt(start);
  if (first === SP || first === HTAB) throw new ParseError('OBSOLETE_LINE_FOLDING', 'Dobra de linha obsoleta (obs-fold) não é aceita.');
  const colon = text.indexOf(':', start);
  if (colon === -1 || colon > end || !isToken(text, start, colon)) throw new ParseError('INVALID_HEADER_TOKEN', 'Nome de cabeçalho inválido.');
  return text.slice(start, colon).toLowerCase();
}

/** The value of a field line, from just after its colon to `end`, without surrounding whitespace (RFC 9112 §5.1). */
function parseFieldValue(text: string, start: number, end: number, name: string): string {
  while (start < end && isWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--;
  // Field values: VCHAR, obs-text, SP and HTAB; no other control byte, NUL included (RFC 9110 §5.5).
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if ((code < SP && code !== HTAB) || code === 0x7f) throw new ParseError('INVALID_HEADER_VALUE', `Valor inválido no cabeçalho ${name}.`);
  }
  return text.slice(start, end);
}

/** Whether `text` is one or more visible ASCII characters (a request-target's bytes). */
function isVisible(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

function isWhitespace(code: number): boolean {
  return code === SP || code === HTAB;
}

/** The minor version of any request line version but `HTTP/1.1` (the common case, checked first). */
function parseOtherVersion(version: string): 0 {
  const versionMatch = VERSION.exec(version);
  if (versionMatch === null) throw new ParseError('INVALID_VERSION', 'Versão HTTP malformada.');
  if (versionMatch[1] !== '1' || versionMatch[2] !== '0') {
    throw new ParseError('UNSUPPORTED_VERSION', `Versão ${version} não suportada; use HTTP/1.1 ou HTTP/1.0.`);
  }
  return 0;
}

function tokenList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((token) => token.trim().toLowerCase());
}

function parseExpect(value: string | undefined, httpMinor: 0 | 1): boolean {
  if (value === undefined) return false;
  // RFC 9110 §10.1.1: an HTTP/1.0 client cannot wait for 100 Continue; ignore it there.
  if (value.toLowerCase() === '100-continue') return httpMinor === 1;
  throw new ParseError('UNSUPPORTED_EXPECTATION', `Expectativa não suportada: ${value}.`);
}

/** Path and query of a request-target in origin, absolute or asterisk form (RFC 9112 §3.2). */
function splitTarget(method: string, target: string): { path: string; query: string } {
  if (target === '*') {
    if (method !== 'OPTIONS') throw new ParseError('INVALID_URL', 'O alvo "*" só é válido com OPTIONS.');
    return { path: '*', query: '' };
  }
  let originForm = target;
  if (!target.startsWith('/')) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new ParseError('INVALID_URL', 'Alvo da requisição (URL) inválido.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ParseError('INVALID_URL', 'Alvo da requisição (URL) inválido.');
    originForm = url.pathname + url.search;
  }
  const questionMark = originForm.indexOf('?');
  if (questionMark === -1) return { path: originForm, query: '' };
  return { path: originForm.slice(0, questionMark), query: originForm.slice(questionMark + 1) };
}
