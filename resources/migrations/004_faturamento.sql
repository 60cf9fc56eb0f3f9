-- Billing parameter versions (their JSON form, as the API takes it) and each month's bandeira.
CREATE TABLE parametros_faturamento (
  vigencia_inicio date PRIMARY KEY,
  parametros jsonb NOT NULL,
  atualizado_em timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bandeiras (
  mes char(7) PRIMARY KEY CHECK (mes ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  bandeira text NOT NULL CHECK (bandeira IN ('verde', 'amarela', 'vermelha_1', 'vermelha_2', 'escassez_hidrica')),
  adicional_kwh numeric(20, 8) NOT NULL CHECK (adicional_kwh >= 0),
  atualizado_em timestamptz NOT NULL DEFAULT now()
);
