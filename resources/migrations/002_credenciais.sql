-- Customers' password hashes (scrypt, self-describing text; never a password).
CREATE TABLE credenciais (
  matricula varchar(20) PRIMARY KEY REFERENCES clientes (matricula) ON DELETE CASCADE,
  senha_hash text NOT NULL CHECK (length(senha_hash) BETWEEN 1 AND 256),
  atualizada_em timestamptz NOT NULL DEFAULT now()
);
