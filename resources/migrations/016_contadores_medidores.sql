-- Keyed meters' invocation counters (issue 26): the newest accepted on a signed answer or event; a line not above it is a replay.
CREATE TABLE contadores_medidores (
  matricula varchar(20) PRIMARY KEY CHECK (matricula ~ '^[0-9]{1,20}$'),
  contador bigint NOT NULL CHECK (contador > 0)
);
