-- Daily rollups of each meter's readings (issue 30; domain/readings/rollups.ts rollUpDays): per local day of one time
-- zone (the server's TZ_LEGADO, kept in consumo_dias_fuso), the merge of the day's hourly rollups (consumo_horas), so
-- a month of a meter is 31 rows whatever its readings. Kept up to date in the statement that inserts readings
-- (database/postgres/postgres-store.ts); filled from consumo_horas when the store opens with a zone other than the one
-- recorded here (at first: none), and the days of a month RETENCAO_MESES drops are written again from the hours left.
CREATE TABLE consumo_dias (
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  dia date NOT NULL,
  leituras integer NOT NULL CHECK (leituras > 0),
  sinalizadas integer NOT NULL CHECK (sinalizadas BETWEEN 0 AND leituras),
  utilizaveis integer NOT NULL CHECK (utilizaveis BETWEEN 0 AND leituras),
  primeira_em timestamptz,
  primeira_consumo numeric(18, 3),
  ultima_em timestamptz,
  ultima_consumo numeric(18, 3),
  PRIMARY KEY (matricula, dia),
  CHECK ((utilizaveis = 0) = (primeira_em IS NULL) AND (utilizaveis = 0) = (ultima_em IS NULL))
);

-- The zone of consumo_dias' days: one row once filled.
CREATE TABLE consumo_dias_fuso (
  unica boolean PRIMARY KEY DEFAULT true CHECK (unica),
  fuso text NOT NULL
);
