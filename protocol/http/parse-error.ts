/**
 * Why a request could not be parsed. Codes are stable (llhttp-style); each
 * maps to the HTTP status RFC 9110/9112 prescribes. After any of them the
 * connection's framing is unknown, so the server answers and closes.
 */
export const PARSE_ERROR_STATUS = {
  INVALID_METHOD: 400,
  INVALID_URL: 400,
  URI_TOO_LONG: 414,
  INVALID_VERSION: 400,
  UNSUPPORTED_VERSION: 505,
  INVALID_HEADER_TOKEN: 400,
  INVALID_HEADER_VALUE: 400,
  OBSOLETE_LINE_FOLDING: 400,
  INVALID_LINE_ENDING: 400,
  HEADER_OVERFLOW: 431,
  MISSING_HOST: 400,
  DUPLICATE_HOST: 400,
  INVALID_HOST: 400,
  INVALID_CONTENT_LENGTH: 400,
  DUPLICATE_CONTENT_LENGTH: 400,
  TRANSFER_ENCODING_WITH_CONTENT_LENGTH: 400,
  TRANSFER_ENCODING_IN_HTTP_1_0: 400,
  INVALID_TRANSFER_ENCODING: 400,
  UNSUPPORTED_TRANSFER_CODING: 501,
  INVALID_CHUNK: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_EXPECTATION: 417,
} as const;

export type ParseErrorCode = keyof typeof PARSE_ERROR_STATUS;

export class ParseError extends Error {
  readonly code: ParseErrorCode;
  readonly status: number;
  /** The request's method, when the request line was read before the error (an answer to HEAD has no body). */
  readonly method: string | undefined;

  constructor(code: ParseErrorCode, message: string, method?: string) {
    super(message);
    this.name = 'ParseError';
    this.code = code;
    this.status = PARSE_ERROR_STATUS[code];
    this.method = method;
  }
}
