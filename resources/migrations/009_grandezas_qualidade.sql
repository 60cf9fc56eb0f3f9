-- A reading's instantaneous electrical quantities, each optional (NULL when the meter did not send it).
ALTER TABLE medicoes
  ADD COLUMN tensao_v numeric(13, 3) CHECK (tensao_v >= 0),
  ADD COLUMN corrente_a numeric(13, 3) CHECK (corrente_a >= 0),
  ADD COLUMN potencia_kw numeric(13, 3) CHECK (potencia_kw >= 0),
  ADD COLUMN fator_potencia numeric(4, 3) CHECK (fator_potencia BETWEEN 0 AND 1),
  ADD COLUMN frequencia_hz numeric(10, 3) CHECK (frequencia_hz >= 0);

-- The reading's quality flags as judged when it was stored (database/reading-quality.ts), comma-separated; NULL when valid.
ALTER TABLE medicoes ADD COLUMN qualidade text CHECK (qualidade ~ '^[a-z_]+(,[a-z_]+)*$');
