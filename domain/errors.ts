/**
 * The domain's one error type: a rule or a use case refusing what it was
 * asked, with a code from a closed union. Callers match on `code`, never on
 * the message; the HTTP layer turns each code into its wire answer in one
 * table (server/http/http-error.ts), and jobs decide by code what to skip.
 * Messages are in Portuguese: they reach the API's users as they are.
 */
export const DOMAIN_ERROR_CODES = [
  'usuario_nao_cadastrado',
  'sem_medicoes',
  'medicoes_insuficientes',
  'ciclo_aberto',
  'ciclo_invalido',
  'leituras_inconsistentes',
  'faturamento_nao_configurado',
  'tarifa_indisponivel',
  'tributos_indisponiveis',
  'tarifa_social_branca',
  'credenciais_invalidas',
  'muitas_tentativas',
  'muitas_requisicoes',
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  /** When trying again can succeed, in seconds (a limit that clears with time). */
  readonly retryAfterS: number | undefined;

  constructor(code: DomainErrorCode, message: string, options: { retryAfterS?: number } = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.retryAfterS = options.retryAfterS;
  }
}

/** Whether `error` is a DomainError, with one of `codes` when any are given. */
export function isDomainError(error: unknown, ...codes: readonly DomainErrorCode[]): error is DomainError {
  return error instanceof DomainError && (codes.length === 0 || codes.includes(error.code));
}
