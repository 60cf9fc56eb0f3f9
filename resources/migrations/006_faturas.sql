-- Issued invoices (immutable documents; only the state changes, to cancelled) and their numbering per year.
CREATE TABLE faturas (
  numero char(11) PRIMARY KEY CHECK (numero ~ '^[0-9]{4}-[0-9]{6}$'),
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  ciclo char(7) NOT NULL CHECK (ciclo ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  estado text NOT NULL CHECK (estado IN ('emitida', 'cancelada')),
  emitida_em timestamptz NOT NULL,
  cancelada_em timestamptz,
  motivo_cancelamento text,
  substitui char(11) REFERENCES faturas (numero),
  -- The JSON text as issued: key order and decimals exactly as answered (jsonb would reorder them).
  documento text NOT NULL
);
-- A cycle of a customer has at most one invoice in force, whatever the servers do.
CREATE UNIQUE INDEX faturas_em_vigor ON faturas (matricula, ciclo) WHERE estado = 'emitida';
CREATE INDEX faturas_por_matricula ON faturas (matricula, emitida_em DESC);

CREATE TABLE contadores_fatura (
  ano integer PRIMARY KEY,
  ultimo integer NOT NULL
);
