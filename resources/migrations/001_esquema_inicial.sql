-- Customers and readings. Applied once, in a transaction, by the server itself.
CREATE TABLE clientes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 100 AND position(';' IN username) = 0),
  matricula varchar(20) NOT NULL UNIQUE CHECK (matricula ~ '^[0-9]{1,20}$'),
  criado_em timestamptz NOT NULL DEFAULT now()
);

-- One row per reading; the primary key keeps a reading from ever being stored
-- twice and serves "the newest N readings of a meter" as a backward index scan.
CREATE TABLE medicoes (
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  data_hora timestamptz NOT NULL,
  consumo numeric(18, 3) NOT NULL CHECK (consumo >= 0),
  PRIMARY KEY (matricula, data_hora)
);
