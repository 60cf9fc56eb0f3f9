-- Webhook delivery of meter events (issue 17), as alerts have it: a pending delivery is resent after a restart. Events stored before had no webhook record: desativada.
ALTER TABLE ocorrencias
  ADD COLUMN entrega text NOT NULL DEFAULT 'desativada' CHECK (entrega IN ('pendente', 'entregue', 'falhou', 'desativada')),
  ADD COLUMN tentativas_entrega integer NOT NULL DEFAULT 0;
CREATE INDEX ocorrencias_entrega_pendente ON ocorrencias (recebido_em) WHERE entrega = 'pendente';
