-- Alerts (issue 17): one open alert (ativo or reconhecido) per meter and key, their acknowledgement and webhook delivery.
CREATE TABLE alertas (
  id text PRIMARY KEY,
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  tipo text NOT NULL,
  chave text NOT NULL,
  estado text NOT NULL CHECK (estado IN ('ativo', 'reconhecido', 'encerrado')),
  detalhe text NOT NULL,
  criado_em bigint NOT NULL,
  reconhecido_por text,
  reconhecido_em bigint,
  encerrado_em bigint,
  entrega text NOT NULL CHECK (entrega IN ('pendente', 'entregue', 'falhou', 'desativada')),
  tentativas_entrega integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX alertas_um_aberto ON alertas (matricula, chave) WHERE estado <> 'encerrado';
CREATE INDEX alertas_recentes ON alertas (criado_em DESC);
CREATE INDEX alertas_entrega_pendente ON alertas (criado_em) WHERE entrega = 'pendente';
