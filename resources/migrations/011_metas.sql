-- A customer's monthly goal: consumption (kWh) or invoice total (R$), at most one of them.
ALTER TABLE perfis_faturamento
  ADD COLUMN meta_kwh numeric(15, 3) CHECK (meta_kwh > 0),
  ADD COLUMN meta_valor numeric(14, 2) CHECK (meta_valor > 0),
  ADD CONSTRAINT uma_meta CHECK (meta_kwh IS NULL OR meta_valor IS NULL);
