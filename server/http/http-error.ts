/**
 * The HTTP layer's one error type, and the one function that turns any
 * error into an HTTP answer `{"erro": {"codigo", "mensagem", "detalhes"?}}`.
 */
import type { Logger } from 'pino';
import { ParseError } from '../../protocol/http/parse-error.js';
import type { HeaderList } from '../../protocol/http/response.js';
import type { JsonValue } from '../../protocol/json.js';
import { StoreError } from '../../database/store.js';
import { DomainError, type DomainErrorCode } from '../../domain/errors.js';
import { WIRE_ERRORS, type WireErrorCode } from './error-codes.js';

export interface ErrorDetail {
  readonly campo: string;
  readonly problema: string;
}

export class HttpError extends Error {
  readonly status: number;
  /** Stable snake_case code in Portuguese, part of the wire API (error-codes.ts). */
  readonly codigo: WireErrorCode;
  readonly detalhes: readonly ErrorDetail[] | undefined;
  readonly headers: HeaderList;

  constructor(codigo: WireErrorCode, mensagem: string, options: { detalhes?: readonly ErrorDetail[]; headers?: HeaderList } = {}) {
    super(mensagem);
    this.name = 'HttpError';
    this.status = WIRE_ERRORS[codigo];
    this.codigo = codigo;
    this.detalhes = options.detalhes;
    this.headers = options.headers ?? [];
  }
}

/** The client left while its request was being worked on: the work stops, nobody is answered, nothing is logged above debug. */
export class ClientGoneError extends Error {
  readonly expected = true;

  constructor() {
    super('the client left; work on its request stopped');
    this.name = 'ClientGoneError';
  }
}

/** Wire codes for the statuses a request parse error can produce. */
const PARSE_ERROR_CODES: Readonly<Record<number, WireErrorCode>> = {
  400: 'requisicao_invalida',
  413: 'corpo_muito_grande',
  414: 'url_muito_longa',
  417: 'expectativa_nao_suportada',
  431: 'cabecalhos_muito_grandes',
  501: 'nao_implementado',
  505: 'versao_http_nao_suportada',
};

/** The wire code of each domain error code: most are the same word; the billing rules' own refusals of a cycle's data are `dados_invalidos`. */
const DOMAIN_ERROR_WIRE_CODES: Readonly<Record<DomainErrorCode, WireErrorCode>> = {
  usuario_nao_cadastrado: 'usuario_nao_cadastrado',
  sem_medicoes: 'sem_medicoes',
  medicoes_insuficientes: 'medicoes_insuficientes',
  ciclo_aberto: 'ciclo_aberto',
  ciclo_invalido: 'dados_invalidos',
  leituras_inconsistentes: 'leituras_inconsistentes',
  faturamento_nao_configurado: 'faturamento_nao_configurado',
  tarifa_indisponivel: 'tarifa_indisponivel',
  tributos_indisponiveis: 'tributos_indisponiveis',
  tarifa_social_branca: 'dados_invalidos',
  credenciais_invalidas: 'credenciais_invalidas',
  muitas_tentativas: 'muitas_tentativas',
  muitas_requisicoes: 'muitas_requisicoes',
};

export interface ErrorAnswer {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: JsonValue;
}

/** The one place where errors become HTTP answers. Unknown errors are bugs: 500, generic body, logged. */
export function errorAnswer(error: unknown, logger: Logger): ErrorAnswer {
  let httpError: HttpError;
  if (error instanceof HttpError) {
    httpError = error;
  } else if (error instanceof DomainError) {
    const headers: HeaderList = error.retryAfterS === undefined ? [] : [['Retry-After', String(error.retryAfterS)]];
    httpError = new HttpError(DOMAIN_ERROR_WIRE_CODES[error.code], error.message, { headers });
  } else if (error instanceof ParseError) {
    httpError = new HttpError(PARSE_ERROR_CODES[error.status] ?? 'requisicao_invalida', error.message);
  } else if (error instanceof ClientGoneError) {
    logger.debug('client left before its answer was ready');
    httpError = new HttpError('cliente_desistiu', 'O cliente fechou a conexão.');
  } else if (error instanceof StoreError && (error.code === 'UNAVAILABLE' || error.code === 'CLOSED')) {
    logger.warn({ err: error }, 'storage unavailable while answering a request');
    httpError = new HttpError('banco_indisponivel', 'O banco de dados está indisponível; tente novamente em instantes.', {
      headers: [['Retry-After', '5']],
    });
  } else {
    logger.error({ err: error }, 'bug: unexpected error while answering a request');
    httpError = new HttpError('erro_interno', 'Erro interno do servidor.');
  }
  const erro: Record<string, JsonValue> = { codigo: httpError.codigo, mensagem: httpError.message };
  if (httpError.detalhes !== undefined) erro.detalhes = httpError.detalhes.map((detail) => ({ ...detail }));
  return { status: httpError.status, headers: httpError.headers, body: { erro } };
}
