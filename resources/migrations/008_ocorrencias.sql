-- Events reported by meters (issue 16): one row per meter, instant and type (a resent copy is the same row).
CREATE TABLE ocorrencias (
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  data_hora bigint NOT NULL,
  tipo text NOT NULL CHECK (tipo IN ('falta_energia', 'retorno_energia', 'violacao_tampa', 'corte_executado', 'religacao_executada', 'limite_excedido', 'relogio_ajustado')),
  detalhe text NOT NULL,
  recebido_em bigint NOT NULL,
  PRIMARY KEY (matricula, data_hora, tipo)
);
CREATE INDEX ocorrencias_recentes ON ocorrencias (data_hora DESC);
CREATE INDEX ocorrencias_por_medidor ON ocorrencias (matricula, data_hora DESC);
