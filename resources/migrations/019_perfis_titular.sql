-- A bifásica connection's conductors (2: custo de disponibilidade of 30 kWh; 3 or unset: 50), who the invoice is addressed to, and the household's social benefit with its validity.
ALTER TABLE perfis_faturamento ADD COLUMN condutores smallint CHECK (condutores IN (2, 3));
ALTER TABLE perfis_faturamento ADD COLUMN titular jsonb;
ALTER TABLE perfis_faturamento ADD COLUMN beneficio jsonb;
