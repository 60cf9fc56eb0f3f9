-- Approved tariffs (ANEEL's Tarifa de Aplicação, B1 residential), in R$/kWh without taxes.
-- Two tariffs of one key never overlap: checked under an advisory lock by the server.
CREATE TABLE tarifas (
  distribuidora text NOT NULL CHECK (length(distribuidora) BETWEEN 1 AND 100),
  modalidade text NOT NULL CHECK (modalidade IN ('convencional', 'branca')),
  posto text NOT NULL CHECK (posto IN ('nao_se_aplica', 'ponta', 'intermediario', 'fora_ponta')),
  vigencia_inicio date NOT NULL,
  vigencia_fim date CHECK (vigencia_fim IS NULL OR vigencia_fim >= vigencia_inicio),
  te numeric(20, 8) NOT NULL CHECK (te >= 0),
  tusd numeric(20, 8) NOT NULL CHECK (tusd >= 0),
  resolucao text NOT NULL DEFAULT '',
  PRIMARY KEY (distribuidora, modalidade, posto, vigencia_inicio)
);
