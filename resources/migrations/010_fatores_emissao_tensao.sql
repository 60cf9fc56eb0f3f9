-- Each month's grid emission factor (kg CO2e per kWh), set by the operator; months without one use CO2E_FATOR_PADRAO.
CREATE TABLE fatores_emissao (
  mes char(7) PRIMARY KEY CHECK (mes ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  kg_co2e_kwh numeric(12, 6) NOT NULL CHECK (kg_co2e_kwh >= 0),
  atualizado_em timestamptz NOT NULL DEFAULT now()
);

-- Meters also report voltage sags and swells beyond 10% of nominal.
ALTER TABLE ocorrencias DROP CONSTRAINT ocorrencias_tipo_check;
ALTER TABLE ocorrencias ADD CONSTRAINT ocorrencias_tipo_check
  CHECK (tipo IN ('falta_energia', 'retorno_energia', 'violacao_tampa', 'corte_executado', 'religacao_executada', 'limite_excedido', 'relogio_ajustado', 'subtensao', 'sobretensao'));
