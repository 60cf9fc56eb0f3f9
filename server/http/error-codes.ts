/**
 * Every error code of the wire API, with its HTTP status: the one closed
 * table. An HttpError can only carry a code from here, and the README's
 * error table is checked against it by a test.
 */
export const WIRE_ERRORS = {
  json_invalido: 400,
  requisicao_invalida: 400,
  senha_na_url: 400,
  credenciais_invalidas: 401,
  nao_autenticado: 401,
  token_invalido: 401,
  acesso_negado: 403,
  origem_nao_permitida: 403,
  rota_nao_encontrada: 404,
  sem_medicoes: 404,
  fatura_nao_encontrada: 404,
  comando_nao_encontrado: 404,
  medidor_nao_encontrado: 404,
  alerta_nao_encontrado: 404,
  usuario_nao_cadastrado: 404,
  metodo_nao_permitido: 405,
  tempo_esgotado: 408,
  cliente_existente: 409,
  ciclo_aberto: 409,
  fatura_cancelada: 409,
  faturamento_nao_configurado: 409,
  tarifa_indisponivel: 409,
  tributos_indisponiveis: 409,
  medidor_sem_chave: 409,
  comando_finalizado: 409,
  alerta_encerrado: 409,
  leituras_inconsistentes: 409,
  medicoes_insuficientes: 409,
  corpo_muito_grande: 413,
  url_muito_longa: 414,
  expectativa_nao_suportada: 417,
  dados_invalidos: 422,
  senha_fraca: 422,
  muitas_requisicoes: 429,
  muitas_tentativas: 429,
  cabecalhos_muito_grandes: 431,
  /** Never sent: the client had gone. Seen only in /metricas (status 499). */
  cliente_desistiu: 499,
  erro_interno: 500,
  nao_implementado: 501,
  banco_indisponivel: 503,
  servidor_ocupado: 503,
  versao_http_nao_suportada: 505,
} as const;

export type WireErrorCode = keyof typeof WIRE_ERRORS;
