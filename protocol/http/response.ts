/**
 * HTTP/1.1 response serialization (RFC 9112 §4, §6). Pure: the caller
 * supplies the Date value and decides whether the body is sent (HEAD).
 */

/** Every status of RFC 9110 §15 with its reason phrase (and 499, counted in metrics, never sent). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface ResponseParts {
  readonly status: number;
  /** Names and values in visible ASCII: the head is sent byte for byte as written. */
  readonly headers: HeaderList;
  /** The body as text, sent as UTF-8. */
  readonly body: string;
  /**
   * A body produced while it is sent (CSV exports, Server-Sent Events),
   * instead of `body`. Ends early when `signal` aborts: the client left or
   * the server is stopping.
   */
  readonly stream?: ((signal: AbortSignal) => AsyncIterable<string | Uint8Array>) | undefined;
}

/** How a streamed body is delimited (RFC 9112 §6.3): chunked for HTTP/1.1, by closing the connection for HTTP/1.0. */
export type StreamFraming = 'chunked' | 'close';

export const CONTINUE_RESPONSE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/**
 * Serializes a complete response with Content-Length in bytes, as text to
 * send as UTF-8: the socket encodes it straight into its write, with no
 * intermediate buffer (the head is ASCII, so it is the same bytes either
 * way). With `omitBody` (HEAD, RFC 9110 §9.3.2) the headers still describe
 * the body a GET would have received. 204 and 304 responses carry no
 * Content-Length and no body (RFC 9110 §8.6, §15.4.5).
 */
export function serializeResponse(response: ResponseParts, date: string, omitBody: boolean): string {
  const bodiless = response.status === 204 || response.status === 304;
  const head = headText(response, date, bodiless ? '' : `Content-Length: ${Buffer.byteLength(response.body, 'utf8')}\r\n`);
  return omitBody || bodiless ? head : head + response.body;
}

function headText(response: ResponseParts, date: string, framing: string): string {
  let head = `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? 'Unknown'}\r\nDate: ${date}\r\n`;
  for (const [name, value] of response.headers) head += `${name}: ${value}\r\n`;
  return `${head}${framing}\r\n`;
}

/** The status line and headers of a streamed response; its body follows as `encodeChunk` pieces. */
export function serializeStreamHead(response: ResponseParts, date: string, framing: StreamFraming): string {
  return headText(response, date, framing === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : '');
}

/** One piece of a streamed body (text is sent as UTF-8, bytes as they are), framed (RFC 9112 §7.1); an empty piece frames nothing. */
export function encodeChunk(piece: string | Uint8Array, framing: StreamFraming): Buffer {
  const data = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  if (framing === 'close' || data.length === 0) return data;
  const size = `${data.length.toString(16)}\r\n`;
  const bytes = Buffer.allocUnsafe(size.length + data.length + 2);
  bytes.write(size, 0, 'latin1');
  data.copy(bytes, size.length);
  bytes.write('\r\n', size.length + data.length, 'latin1');
  return bytes;
}

/** The end of a chunked body: the last chunk and an empty trailer section (RFC 9112 §7.1). */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
