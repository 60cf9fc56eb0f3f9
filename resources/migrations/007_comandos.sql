-- Commands to meters (issue 16): their state machine's current state, changed by compare-and-set.
CREATE TABLE comandos (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9-]{1,36}$'),
  matricula varchar(20) NOT NULL CHECK (matricula ~ '^[0-9]{1,20}$'),
  tipo text NOT NULL CHECK (tipo IN ('leitura', 'corte', 'religacao', 'limite_demanda', 'sincronizar_relogio')),
  parametros jsonb NOT NULL DEFAULT '{}',
  estado text NOT NULL CHECK (estado IN ('pendente', 'enviado', 'executado', 'falhou', 'expirado', 'cancelado')),
  criado_em bigint NOT NULL,
  expira_em bigint NOT NULL,
  tentativas integer NOT NULL DEFAULT 0,
  ultimo_envio bigint,
  concluido_em bigint,
  resultado text,
  pedido_por text NOT NULL,
  chave_idempotencia text,
  UNIQUE (pedido_por, chave_idempotencia)
);
CREATE INDEX comandos_por_medidor ON comandos (matricula, criado_em DESC);
CREATE INDEX comandos_abertos ON comandos (criado_em) WHERE estado IN ('pendente', 'enviado');
