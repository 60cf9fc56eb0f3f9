-- Named operator accounts, token generations and the audit log (issue 26 §5).
CREATE TABLE operadores (
  nome varchar(40) PRIMARY KEY CHECK (nome ~ '^[a-z0-9._-]{3,40}$'),
  senha_hash text NOT NULL,
  ativo boolean NOT NULL,
  criado_em bigint NOT NULL,
  criado_por text NOT NULL
);
CREATE TABLE geracoes_token (
  principal text PRIMARY KEY,
  geracao integer NOT NULL CHECK (geracao > 0)
);
CREATE TABLE auditoria (
  id bigserial PRIMARY KEY,
  em bigint NOT NULL,
  ator text NOT NULL,
  acao text NOT NULL,
  alvo text NOT NULL,
  endereco text NOT NULL,
  status smallint NOT NULL
);
CREATE INDEX auditoria_ator ON auditoria (ator, id);
CREATE INDEX auditoria_em ON auditoria (em);
-- Append-only in the database too: an UPDATE or DELETE of an entry fails.
CREATE FUNCTION auditoria_somente_acrescentar() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'auditoria: entries are never changed or removed';
END $$;
CREATE TRIGGER auditoria_imutavel BEFORE UPDATE OR DELETE ON auditoria FOR EACH ROW EXECUTE FUNCTION auditoria_somente_acrescentar();
