-- The B1 residential subclasses that bill a customer since Lei 15.235/2025: the Tarifa Social's and the Desconto Social's rows by band.
ALTER TABLE tarifas ADD COLUMN subclasse text NOT NULL DEFAULT 'residencial'
  CHECK (subclasse IN ('residencial', 'tarifa_social_1', 'tarifa_social_2', 'desconto_social_1', 'desconto_social_2'));
ALTER TABLE tarifas DROP CONSTRAINT tarifas_pkey;
ALTER TABLE tarifas ADD PRIMARY KEY (distribuidora, modalidade, posto, subclasse, vigencia_inicio);
