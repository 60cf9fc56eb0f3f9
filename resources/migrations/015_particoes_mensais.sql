-- History partitioned by month (issue 18): medicoes (by data_hora) and ocorrencias (by data_hora, ms since the epoch)
-- become range-partitioned by calendar month in UTC, one partition per month from the oldest row's month to three
-- months ahead (at most ten years back), and a default partition for anything outside them. Every row is copied into the new table in this
-- transaction (the migration runs in one, under the migrations' advisory lock): nothing is lost, and on failure
-- nothing changes. Servers create the coming months' partitions themselves afterwards (database/postgres/partitions.ts).
SET LOCAL TimeZone = 'UTC';

CREATE TABLE medicoes_particionada (LIKE medicoes INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (data_hora);
CREATE TABLE medicoes_padrao PARTITION OF medicoes_particionada DEFAULT;
CREATE TABLE ocorrencias_particionada (LIKE ocorrencias INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (data_hora);
CREATE TABLE ocorrencias_padrao PARTITION OF ocorrencias_particionada DEFAULT;

DO $$
DECLARE
  ahead timestamptz := date_trunc('month', now()) + interval '3 months';
  mes timestamptz;
  ultimo timestamptz;
BEGIN
  SELECT date_trunc('month', min(data_hora)), date_trunc('month', max(data_hora)) INTO mes, ultimo FROM medicoes;
  -- Months with rows, at most ten years back, to three months ahead; rows outside them go to the default partition.
  mes := greatest(least(coalesce(mes, date_trunc('month', now())), date_trunc('month', now())), date_trunc('month', now()) - interval '10 years');
  ultimo := ahead;
  WHILE mes <= ultimo LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF medicoes_particionada FOR VALUES FROM (%L) TO (%L)', 'medicoes_' || to_char(mes, 'YYYY_MM'), mes, mes + interval '1 month');
    mes := mes + interval '1 month';
  END LOOP;
  SELECT date_trunc('month', to_timestamp(min(data_hora) / 1000.0)), date_trunc('month', to_timestamp(max(data_hora) / 1000.0)) INTO mes, ultimo FROM ocorrencias;
  -- Months with rows, at most ten years back, to three months ahead; rows outside them go to the default partition.
  mes := greatest(least(coalesce(mes, date_trunc('month', now())), date_trunc('month', now())), date_trunc('month', now()) - interval '10 years');
  ultimo := ahead;
  WHILE mes <= ultimo LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF ocorrencias_particionada FOR VALUES FROM (%s) TO (%s)', 'ocorrencias_' || to_char(mes, 'YYYY_MM'),
      (extract(epoch FROM mes) * 1000)::bigint, (extract(epoch FROM mes + interval '1 month') * 1000)::bigint);
    mes := mes + interval '1 month';
  END LOOP;
END $$;

INSERT INTO medicoes_particionada SELECT * FROM medicoes;
INSERT INTO ocorrencias_particionada SELECT * FROM ocorrencias;
DROP TABLE medicoes;
DROP TABLE ocorrencias;
ALTER TABLE medicoes_particionada RENAME TO medicoes;
ALTER TABLE ocorrencias_particionada RENAME TO ocorrencias;
ALTER TABLE medicoes ADD CONSTRAINT medicoes_pkey PRIMARY KEY (matricula, data_hora);
ALTER TABLE ocorrencias ADD CONSTRAINT ocorrencias_pkey PRIMARY KEY (matricula, data_hora, tipo);
CREATE INDEX ocorrencias_recentes ON ocorrencias (data_hora DESC);
CREATE INDEX ocorrencias_entrega_pendente ON ocorrencias (recebido_em) WHERE entrega = 'pendente';
ANALYZE medicoes;
ANALYZE ocorrencias;
