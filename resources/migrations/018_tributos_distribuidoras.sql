-- Each month's effective PIS/PASEP and COFINS rates, as the distributor publishes them; an invoice takes those of its cycle's month.
CREATE TABLE pis_cofins (
  mes char(7) PRIMARY KEY CHECK (mes ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  pis numeric(8, 6) NOT NULL CHECK (pis >= 0 AND pis < 1),
  cofins numeric(8, 6) NOT NULL CHECK (cofins >= 0 AND cofins < 1),
  CHECK (pis + cofins < 1),
  atualizado_em timestamptz NOT NULL DEFAULT now()
);

-- The distributor as its invoices name it and as customers pay it (name, CNPJ, address, FEBRABAN code, PIX key and city), by SigAgente.
CREATE TABLE distribuidoras (
  sigla text PRIMARY KEY,
  registro jsonb NOT NULL,
  atualizado_em timestamptz NOT NULL DEFAULT now()
);
