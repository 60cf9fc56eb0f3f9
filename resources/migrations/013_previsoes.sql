-- Forecast records (issue 17): the projection made at mid-cycle, one per meter and cycle, settled against what the cycle consumed.
CREATE TABLE previsoes (
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  mes char(7) NOT NULL CHECK (mes ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  feita_em bigint NOT NULL,
  medido_ate bigint NOT NULL,
  previsto bigint NOT NULL CHECK (previsto >= 0),
  minimo bigint NOT NULL CHECK (minimo >= 0),
  maximo bigint NOT NULL CHECK (maximo >= 0),
  real bigint CHECK (real >= 0),
  erro bigint CHECK (erro >= 0),
  apurada_em bigint,
  PRIMARY KEY (matricula, mes)
);
CREATE INDEX previsoes_em_aberto ON previsoes (mes, matricula) WHERE apurada_em IS NULL;
