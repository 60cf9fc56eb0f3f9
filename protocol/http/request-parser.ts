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

const EMPTY = Buffer.alloc(0);

export class RequestParser {
  private readonly limits: ParserLimits;
  /**
   * Bytes received: those from `start` on are not consumed yet. An offset
   * rather than a new view per request: making a Buffer view cost more than
   * reading the request it held (bench/RESULTS.md, section 17).
   */
  private buffer: Buffer = EMPTY;
  private start = 0;
  /** Bytes after `start` already scanned for line ends while waiting for more. */
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
    return this.buffer.length - this.start + this.bodyBytes;
  }

  /** True between requests: no byte of a next request has arrived. */
  get idle(): boolean {
    return this.state.name === 'head' && this.buffer.length === this.start;
  }

  feed(chunk: Buffer): void {
    if (this.state.name === 'failed' || chunk.length === 0) return;
    if (this.buffer.length === this.start) this.buffer = chunk;
    else this.buffer = Buffer.concat([this.buffer.subarray(this.start), chunk]);
    this.start = 0;
  }

  next(): ParseStep {
    try {
      return this.step();
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.state = { name: 'failed', error };
      this.buffer = EMPTY;
      this.start = 0;
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
          if (this.buffer.length - this.start < 2) return this.announce(state.head);
          if (this.buffer[this.start] !== CR || this.buffer[this.start + 1] !== LF) throw new ParseError('INVALID_CHUNK', 'Bloco (chunk) sem CRLF ao final.');
          this.start += 2;
          this.state = { name: 'chunk-size', head: state.head };
          break;
        }
        case 'trailers': {
          // Trailer fields are read and discarded (RFC 9112 §7.1.2): nothing here needs them.
          const line = this.takeLine(this.limits.maxHeaderBytes - state.trailerBytes, 'HEADER_OVERFLOW');
          if (line === undefined) return this.announce(state.head);
          if (line.length === 0) return this.complete(state.head);
          state.trailerBytes += line.length + 2;
          const colon = fieldNameEnd(line, 0, line.length);
          parseFieldValue(line, colon + 1, line.length, fieldName(line, 0, colon));
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
    const parts = this.bodyParts;
    const body = parts.length === 0 ? EMPTY : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.bodyBytes);
    if (parts.length > 0) this.bodyParts = [];
    this.bodyBytes = 0;
    this.state = { name: 'head' };
    return { kind: 'request', request: { head, body } };
  }

  private takeBody(wanted: number): number {
    const taken = Math.min(wanted, this.buffer.length - this.start);
    if (taken > 0) {
      this.bodyParts.push(this.buffer.subarray(this.start, this.start + taken));
      this.bodyBytes += taken;
      this.start += taken;
    }
    return taken;
  }

  /** Takes one CRLF-terminated line (without CRLF), or undefined if it has not all arrived. */
  private takeLine(maxBytes: number, tooLong: ParseErrorCode): string | undefined {
    const { buffer, start } = this;
    const lf = buffer.indexOf(LF, start);
    if (lf === -1 ? buffer.length - start > maxBytes : lf - start - 1 > maxBytes) {
      throw new ParseError(tooLong, 'Linha de bloco (chunk) ou de trailer longa demais.');
    }
    if (lf === -1) return undefined;
    if (lf === start || buffer[lf - 1] !== CR) throw new ParseError('INVALID_LINE_ENDING', 'Linha terminada sem CRLF.');
    const line = buffer.toString('latin1', start, lf - 1);
    this.start = lf + 1;
    return line;
  }

  /** Parses a complete header section from the buffer, or returns undefined to wait for more. */
  private parseHead(): RequestHead | undefined {
    const buffer = this.buffer;
    // Skip empty lines before the request line (RFC 9112 §2.2).
    while (buffer.length - this.start >= 2 && buffer[this.start] === CR && buffer[this.start + 1] === LF) {
      this.start += 2;
      this.scanned = 0;
    }
    const start = this.start;
    const limit = start + this.limits.maxHeaderBytes;
    // Find the empty line that ends the section, checking every line end on the way.
    let previousLineEnd = start + this.scanned - 1;
    for (let lf = buffer.indexOf(LF, start + this.scanned); lf !== -1; lf = buffer.indexOf(LF, lf + 1)) {
      if (lf === start || buffer[lf - 1] !== CR) throw new ParseError('INVALID_LINE_ENDING', 'Linha terminada sem CRLF.');
      if (lf > limit) break;
      previousLineEnd = lf;
      if (lf >= start + 3 && buffer[lf - 2] === LF) {
        this.start = lf + 1;
        this.scanned = 0;
        return this.interpretHead(buffer.toString('latin1', start, lf - 3));
      }
    }
    if (buffer.length > limit) {
      const firstLf = buffer.indexOf(LF, start);
      // The request line alone past the limit: its target is what is too long (RFC 9112 §3).
      if (firstLf === -1 || firstLf > limit) throw new ParseError('URI_TOO_LONG', `O alvo da requisição (URL) excede ${MAX_TARGET_BYTES} bytes.`);
      throw new ParseError('HEADER_OVERFLOW', `A seção de cabeçalhos excede ${this.limits.maxHeaderBytes} bytes.`);
    }
    // Resume the scan at the last complete line next time (its CR check is done).
    this.scanned = previousLineEnd + 1 - start;
    return undefined;
  }

  /**
   * Reads a header section (without its final CRLF CRLF) into a head.
   * Walks it by index: splitting it into arrays of lines and words cost
   * more than the rest of the parse together. Every LF in it follows a CR
   * (parseHead checked), and a CR anywhere else is refused below.
   */
  private interpretHead(text: string): RequestHead {
    const firstLf = text.indexOf('\n');
    const requestLineEnd = firstLf === -1 ? text.length : firstLf - 1;
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
    const method = knownMethod(text, firstSpace);
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
    const httpMinor = text.startsWith('HTTP/1.1', secondSpace + 1) && secondSpace + 9 === requestLineEnd ? 1 : parseOtherVersion(text.slice(secondSpace + 1, requestLineEnd));

    const headers = new Map<string, string>();
    let fieldLines = 0;
    let hostCount = 0;
    let contentLengthCount = 0;
    let transferEncoding = false;
    for (let lineStart = requestLineEnd + 2; lineStart < text.length + 2; ) {
      if (++fieldLines > this.limits.maxHeaderCount) throw new ParseError('HEADER_OVERFLOW', `Mais de ${this.limits.maxHeaderCount} cabeçalhos.`);
      const lf = text.indexOf('\n', lineStart);
      const lineEnd = lf === -1 ? text.length : lf - 1;
      const colon = fieldNameEnd(text, lineStart, lineEnd);
      const name = fieldName(text, lineStart, colon);
      const value = parseFieldValue(text, colon + 1, lineEnd, name);
      if (name === 'host') hostCount++;
      else if (name === 'content-length') contentLengthCount++;
      else if (name === 'transfer-encoding') transferEncoding = true;
      const existing = headers.get(name);
      headers.set(name, existing === undefined ? value : `${existing}, ${value}`);
      lineStart = lineEnd + 2;
    }

    if (httpMinor === 1 && hostCount === 0) throw new ParseError('MISSING_HOST', 'Requisição HTTP/1.1 sem cabeçalho Host.');
    if (hostCount > 1) throw new ParseError('DUPLICATE_HOST', 'Mais de um cabeçalho Host.');
    const host = headers.get('host');
    if (host !== undefined && !isHostValue(host)) throw new ParseError('INVALID_HOST', 'Cabeçalho Host inválido.');

    const { path, query } = splitTarget(method, target);
    const connection = headers.get('connection');
    const keepAlive = connection === undefined ? httpMinor === 1 : keepsAlive(tokenList(connection), httpMinor);
    const expect = headers.get('expect');
    return {
      method,
      target,
      path,
      query,
      httpMinor,
      headers,
      keepAlive,
      expectContinue: expect === undefined ? false : parseExpect(expect, httpMinor),
      bodyLength: contentLengthCount === 0 && !transferEncoding ? 0 : this.bodyLength(headers, httpMinor, contentLengthCount),
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

/** Where the name of the field line from `start` to `end` ends (its colon), checking it is a token (RFC 9112 §5). */
function fieldNameEnd(text: string, start: number, end: number): number {
  const first = text.charCodeAt(start);
  if (first === SP || first === HTAB) throw new ParseError('OBSOLETE_LINE_FOLDING', 'Dobra de linha obsoleta (obs-fold) não é aceita.');
  const colon = text.indexOf(':', start);
  if (colon === -1 || colon > end || !isToken(text, start, colon)) throw new ParseError('INVALID_HEADER_TOKEN', 'Nome de cabeçalho inválido.');
  return colon;
}

/**
 * Field names the server reads or clients commonly send, by length: a name
 * among them is returned as this very string (no new string to lower-case,
 * and its hash already known to the map it goes into).
 */
const KNOWN_NAMES: ReadonlyArray<readonly string[]> = (() => {
  const names = [
    'host', 'accept', 'user-agent', 'connection', 'content-length', 'content-type', 'transfer-encoding', 'expect',
    'authorization', 'origin', 'referer', 'cookie', 'accept-encoding', 'accept-language', 'cache-control', 'pragma',
    'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'idempotency-key', 'last-event-id', 'if-none-match',
    'forwarded', 'x-forwarded-for', 'upgrade-insecure-requests', 'postman-token', 'dnt', 'priority', 'te',
  ];
  const byLength: string[][] = [];
  for (const name of names) (byLength[name.length] ??= []).push(name);
  return byLength;
})();

/** The lower-case name of a field whose name runs from `start` to `colon`. */
function fieldName(text: string, start: number, colon: number): string {
  const candidates = KNOWN_NAMES[colon - start];
  if (candidates !== undefined) {
    for (const known of candidates) {
      let i = 0;
      // Token characters: `| 0x20` lower-cases letters and maps no other token character onto a letter or '-'.
      while (i < known.length && (text.charCodeAt(start + i) | 0x20) === known.charCodeAt(i)) i++;
      if (i === known.length) return known;
    }
  }
  return text.slice(start, colon).toLowerCase();
}

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** The method from the start of `text` to `end`: one of the common ones as a constant string, else a slice. */
function knownMethod(text: string, end: number): string {
  for (const method of METHODS) if (method.length === end && text.startsWith(method)) return method;
  return text.slice(0, end);
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

function tokenList(value: string): string[] {
  return value.split(',').map((token) => token.trim().toLowerCase());
}

/** Whether the connection persists, given the Connection field's tokens (RFC 9112 §9.3). */
function keepsAlive(connection: readonly string[], httpMinor: 0 | 1): boolean {
  return httpMinor === 1 ? !connection.includes('close') : connection.includes('keep-alive') && !connection.includes('close');
}

/** Host characters by char code: 1 in a reg-name or IPv4 address, 2 inside an IP literal's brackets, 3 both (RFC 3986 §3.2.2). */
const HOST_CHAR = new Uint8Array(128);
for (const char of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._~!$&'()*+,;=-") HOST_CHAR[char.charCodeAt(0)] = 3;
HOST_CHAR['%'.charCodeAt(0)] = 1;
HOST_CHAR[':'.charCodeAt(0)] = 2;

/**
 * Host = uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2): an IP
 * literal in brackets, or a reg-name / IPv4 address of unreserved,
 * percent-encoded and sub-delim characters; the port all digits.
 */
function isHostValue(value: string): boolean {
  let i = 0;
  if (value.charCodeAt(0) === 0x5b) {
    for (i = 1; i < value.length && value.charCodeAt(i) !== 0x5d; i++) {
      const code = value.charCodeAt(i);
      if (code >= 128 || ((HOST_CHAR[code] as number) & 2) === 0) return false;
    }
    if (i === 1 || i === value.length) return false;
    i++;
  } else {
    for (; i < value.length && value.charCodeAt(i) !== 0x3a; i++) {
      const code = value.charCodeAt(i);
      if (code >= 128 || ((HOST_CHAR[code] as number) & 1) === 0) return false;
    }
  }
  if (i === value.length) return true;
  if (value.charCodeAt(i) !== 0x3a) return false;
  for (i++; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function parseExpect(value: string, httpMinor: 0 | 1): boolean {
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
