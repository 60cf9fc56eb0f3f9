-- Hourly rollups of each meter's readings (issue 30; domain/readings/rollups.ts): per UTC hour, readings stored,
-- readings flagged, usable readings (not pico, not regressiva) and the oldest and newest usable one. Kept up to date
-- in the same statement that inserts readings (database/postgres/postgres-store.ts), so they always agree with
-- medicoes; filled here from the readings already stored. A plain table: a year of a meter is 8,760 rows at most,
-- and RETENCAO_MESES deletes the months it drops from medicoes (database/postgres/partitions.ts).
SET LOCAL TimeZone = 'UTC';

CREATE TABLE consumo_horas (
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  hora timestamptz NOT NULL CHECK (date_trunc('hour', hora, 'UTC') = hora),
  leituras integer NOT NULL CHECK (leituras > 0),
  sinalizadas integer NOT NULL CHECK (sinalizadas BETWEEN 0 AND leituras),
  utilizaveis integer NOT NULL CHECK (utilizaveis BETWEEN 0 AND leituras),
  primeira_em timestamptz,
  primeira_consumo numeric(18, 3),
  ultima_em timestamptz,
  ultima_consumo numeric(18, 3),
  PRIMARY KEY (matricula, hora),
  CHECK ((utilizaveis = 0) = (primeira_em IS NULL) AND (utilizaveis = 0) = (ultima_em IS NULL))
);

INSERT INTO consumo_horas
SELECT matricula, date_trunc('hour', data_hora, 'UTC'), count(*), count(qualidade), count(*) FILTER (WHERE util),
  min(data_hora) FILTER (WHERE util), (array_agg(consumo ORDER BY data_hora) FILTER (WHERE util))[1],
  max(data_hora) FILTER (WHERE util), (array_agg(consumo ORDER BY data_hora DESC) FILTER (WHERE util))[1]
FROM (SELECT matricula, data_hora, consumo, qualidade, (qualidade IS NULL OR NOT string_to_array(qualidade, ',') && '{pico,regressiva}'::text[]) AS util FROM medicoes) m
GROUP BY 1, 2;
