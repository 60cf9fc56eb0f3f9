/**
 * HTTP/1.1 response serialization (RFC 9112 §4, §6). Pure: the caller
 * supplies the Date value and decides whether the body is sent (HEAD).
 */

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface ResponseParts {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: Buffer;
}

export const CONTINUE_RESPONSE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/**
 * Serializes a complete response with Content-Length in bytes. With
 * `omitBody` (HEAD, RFC 9110 §9.3.2) the headers still describe the body
 * a GET would have received. 204 responses carry no Content-Length (RFC 9110 §8.6).
 */
export function serializeResponse(response: ResponseParts, date: string, omitBody: boolean): Buffer {
  let head = `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? 'Unknown'}\r\nDate: ${date}\r\n`;
  for (const [name, value] of response.headers) head += `${name}: ${value}\r\n`;
  if (response.status !== 204) head += `Content-Length: ${response.body.length}\r\n`;
  head += '\r\n';
  if (omitBody || response.body.length === 0) return Buffer.from(head, 'latin1');
  const headLength = Buffer.byteLength(head, 'latin1');
  const bytes = Buffer.allocUnsafe(headLength + response.body.length);
  bytes.write(head, 0, 'latin1');
  response.body.copy(bytes, headLength);
  return bytes;
}
