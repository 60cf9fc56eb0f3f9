-- Customers' billing profiles: connection, modality, reading day, tarifa social.
CREATE TABLE perfis_faturamento (
  matricula varchar(20) PRIMARY KEY REFERENCES clientes (matricula) ON DELETE CASCADE,
  ligacao text NOT NULL CHECK (ligacao IN ('monofasica', 'bifasica', 'trifasica')),
  modalidade text NOT NULL CHECK (modalidade IN ('convencional', 'branca')),
  dia_leitura smallint NOT NULL CHECK (dia_leitura BETWEEN 1 AND 28),
  tarifa_social boolean NOT NULL,
  CHECK (NOT (tarifa_social AND modalidade = 'branca')),
  atualizado_em timestamptz NOT NULL DEFAULT now()
);
