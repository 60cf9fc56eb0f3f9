/**
 * Alerts that reach people, through real sockets: raised by readings (the
 * 1.5x rule, validation flags), meter events and goals; acknowledged and
 * closed; listed by meter, state and kind; and POSTed, signed, to a local
 * webhook receiver that fails before it recovers.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { hashPassword } from '../../domain/auth/password.js';
import { startTestServer, tempDir, udpClient, until, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { billingReadyServer, send } from './billing-fixtures.js';

const SECRET = 'segredo-do-webhook-de-teste';
const iso = (ms: number) => new Date(ms).toISOString();


interface Received {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

/** A webhook receiver on loopback that answers 500 to its first `failures` requests, then 204. */
async function receiver(t: Test, failures: number) {
  const received: Received[] = [];
  let refused = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (refused < failures) {
        refused++;
        response.writeHead(500).end();
        return;
      }
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ganchos`, received, refusedCount: () => refused };
}

t.test('alerts from readings and events, acknowledged and closed; every alert and event delivered to a webhook that fails, then recovers', async (t) => {
  const hook = await receiver(t, 2);
  const server = await startTestServer(t, { env: { WEBHOOK_URL: hook.url, WEBHOOK_SEGREDO: SECRET } });
  const port = server.http.port;
  const meter = await udpClient(t, server.udp.port);
  t.teardown(() => meter.close());
  const start = Date.now() - 20 * 60_000;
  const line = (minute: number, kwh: number) => `MEDICAO;13456789;${iso(start + minute * 60_000)};${kwh}`;
  // 10 kWh a minute, then 30: the 1.5x rule fires (3x is no spike to validation).
  await meter.sendForAck([line(0, 100), line(1, 110), line(2, 120), line(3, 130), line(4, 140), line(5, 150), line(6, 180)].join('\n'));
  const consumption = await until('the consumo_elevado alert', async () => (await send(port, 'GET', '/alertas?matricula=13456789&tipo=consumo_elevado')).json.alertas[0]);
  t.same([consumption.estado, consumption.chave, consumption.reconhecido_por], ['ativo', 'consumo_elevado', null]);

  // A spike an order of magnitude above: flagged, alerted; the next usable reading clears it.
  await meter.sendForAck(line(7, 5000));
  const flagged = await until('the leitura_sinalizada alert', async () => (await send(port, 'GET', '/alertas?matricula=13456789&tipo=leitura_sinalizada')).json.alertas[0]);
  t.match(flagged.detalhe, /sinalizada pela validação: pico/);
  await meter.sendForAck(line(8, 190));
  await until('the flagged alert to close', async () => ((await send(port, 'GET', `/alertas?matricula=13456789&tipo=leitura_sinalizada`)).json.alertas[0].estado === 'encerrado' ? true : undefined));

  // Meter events: the last gasp raises an alert, power back closes it; a tamper raises one; a clock adjustment raises none.
  const event = (minute: number, tipo: string, detalhe = '') => `EVENTO;13456789;${iso(start + minute * 60_000)};${tipo};${detalhe}`;
  await meter.sendForAck(event(9, 'falta_energia', 'ultimo suspiro'));
  await meter.sendForAck([event(10, 'violacao_tampa', 'tampa aberta'), event(11, 'relogio_ajustado')].join('\n'));
  await until('the falta_energia alert', async () => (await send(port, 'GET', '/alertas?matricula=13456789&tipo=falta_energia&estado=ativo')).json.alertas[0]);
  await meter.sendForAck(event(12, 'retorno_energia', 'falta de 180 s'));
  await until('power back to close it', async () => ((await send(port, 'GET', '/alertas?matricula=13456789&tipo=falta_energia')).json.alertas[0].estado === 'encerrado' ? true : undefined));
  const listed = (await send(port, 'GET', '/alertas?matricula=13456789')).json.alertas;
  t.same(listed.map((a: { tipo: string }) => a.tipo).sort(), ['consumo_elevado', 'falta_energia', 'leitura_sinalizada', 'violacao_tampa']);

  const acknowledged = await send(port, 'POST', `/alertas/${consumption.id}/reconhecimento`, undefined, { token: TEST_OPERATOR_TOKEN });
  t.same([acknowledged.status, acknowledged.json.estado, acknowledged.json.reconhecido_por], [200, 'reconhecido', 'operador'], 'acknowledging changes state: the operator, even with the API open');
  t.same((await send(port, 'POST', `/alertas/${flagged.id}/reconhecimento`, undefined, { token: TEST_OPERATOR_TOKEN })).json.erro.codigo, 'alerta_encerrado');
  t.same((await send(port, 'POST', '/alertas/nao-existe/reconhecimento', undefined, { token: TEST_OPERATOR_TOKEN })).json.erro.codigo, 'alerta_nao_encontrado');
  t.same((await send(port, 'GET', '/alertas?estado=reconhecido')).json.alertas.map((a: { id: string }) => a.id), [consumption.id]);

  // Every alert and event reached the receiver, signed, although it refused the first two attempts.
  await until('every delivery', async () => ((await send(port, 'GET', '/alertas?matricula=13456789&limite=10')).json.alertas.every((a: { entrega: { estado: string } }) => a.entrega.estado === 'entregue') ? true : undefined), 20_000);
  t.equal(hook.refusedCount(), 2, 'the receiver failed twice');
  for (const delivery of hook.received) {
    t.equal(delivery.headers['x-consumo-assinatura'], `sha256=${createHmac('sha256', SECRET).update(delivery.body).digest('hex')}`, 'signed over the body');
    t.match(delivery.headers['content-type'], /application\/json/);
  }
  const bodies = hook.received.map((d) => JSON.parse(d.body) as { tipo: string; dados: { tipo: string; id?: string } });
  t.same(bodies.filter((b) => b.tipo === 'alerta').map((b) => b.dados.tipo).sort(), ['consumo_elevado', 'falta_energia', 'leitura_sinalizada', 'violacao_tampa'], 'each alert once');
  t.same(bodies.filter((b) => b.tipo === 'ocorrencia').map((b) => b.dados.tipo).sort(), ['falta_energia', 'relogio_ajustado', 'retorno_energia', 'violacao_tampa'], 'each event once');
  const delivered = await until('every event delivery recorded', async () => {
    const events = (await send(port, 'GET', '/ocorrencias?matricula=13456789')).json.ocorrencias as { entrega: { estado: string } }[];
    return events.length === 4 && events.every((e) => e.entrega.estado === 'entregue') ? events : undefined;
  });
  t.equal(delivered.length, 4, 'each event shows its delivery');
  const retried = (await send(port, 'GET', `/alertas?matricula=13456789&tipo=consumo_elevado`)).json.alertas[0];
  t.ok(retried.entrega.tentativas >= 1, 'attempts are recorded');
  const metrics = (await send(port, 'GET', '/metricas')).bytes.toString('utf8');
  t.match(metrics, /consumo_webhook_entregas_total\{resultado="entregue"\} 8/);
  t.match(metrics, /consumo_webhook_entregas_total\{resultado="tentativa_falhou"\} 2/);
  t.match(metrics, /consumo_alertas_total\{tipo="consumo_elevado"\} 1/);
});

t.test('alerts and events whose webhook delivery was pending when the server stopped are delivered after it restarts', async (t) => {
  const down = await receiver(t, Number.MAX_SAFE_INTEGER);
  const dataDir = await tempDir(t);
  const first = await startTestServer(t, { dataDir, env: { WEBHOOK_URL: down.url, WEBHOOK_SEGREDO: SECRET } });
  const meter = await udpClient(t, first.udp.port);
  t.teardown(() => meter.close());
  const at = iso(Date.now() - 60_000);
  await meter.sendForAck(`MEDICAO;13456789;${at};100`);
  await meter.sendForAck(`EVENTO;13456789;${at};violacao_tampa;tampa aberta`);
  await until('the receiver to refuse both', async () => (down.refusedCount() >= 2 ? true : undefined));
  const pending = (await send(first.http.port, 'GET', '/ocorrencias?matricula=13456789')).json.ocorrencias[0];
  t.same(pending.entrega.estado, 'pendente', 'still pending while retried');
  await first.close();

  const up = await receiver(t, 0);
  const second = await startTestServer(t, { dataDir, env: { WEBHOOK_URL: up.url, WEBHOOK_SEGREDO: SECRET } });
  const port = second.http.port;
  await until('both delivered after the restart', async () => (up.received.length >= 2 ? true : undefined));
  const kinds = up.received.map((d) => JSON.parse(d.body) as { tipo: string; dados: { tipo: string } }).map((b) => `${b.tipo}:${b.dados.tipo}`).sort();
  t.same(kinds, ['alerta:violacao_tampa', 'ocorrencia:violacao_tampa'], 'the alert and the event, once each');
  const alert = await until('the alert delivered', async () => {
    const found = (await send(port, 'GET', '/alertas?matricula=13456789')).json.alertas[0];
    return found?.entrega.estado === 'entregue' ? found : undefined;
  });
  t.equal(alert.entrega.tentativas, 1, 'attempts count from the restart');
  const event = await until('the event delivered', async () => {
    const found = (await send(port, 'GET', '/ocorrencias?matricula=13456789')).json.ocorrencias[0];
    return found?.entrega.estado === 'entregue' ? found : undefined;
  });
  t.equal(event.tipo, 'violacao_tampa');
});

t.test('a goal on its way to be exceeded raises meta_em_risco once per cycle, and clears when the goal is raised', async (t) => {
  const server = await billingReadyServer(t, { TZ_LEGADO: 'UTC' });
  const port = server.http.port;
  const now = Date.now();
  const readings = Array.from({ length: 40 }, (_, i) => ({ matricula: '13456789', timestamp: now - (40 - i) * 21_600_000, consumo: BigInt(1_000_000 + i * 2500) }));
  await server.stores.store.append(readings);
  await send(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 50 }, { token: TEST_OPERATOR_TOKEN });
  await server.alerts.checkGoals();
  await server.alerts.checkGoals();
  const alerts = (await send(port, 'GET', '/alertas?matricula=13456789&tipo=meta_em_risco')).json.alertas;
  t.equal(alerts.length, 1, 'two passes, one alert');
  t.match(alerts[0].detalhe, /A caminho de uma fatura acima da meta/);
  t.match(alerts[0].chave, /^meta_em_risco:\d{4}-\d{2}$/);
  t.same(alerts[0].entrega, { estado: 'desativada', tentativas: 0 }, 'no webhook configured');
  await send(port, 'PUT', '/clientes/13456789/meta', { kwh_mes: 100000 }, { token: TEST_OPERATOR_TOKEN });
  await server.alerts.checkGoals();
  t.equal((await send(port, 'GET', '/alertas?matricula=13456789&tipo=meta_em_risco')).json.alertas[0].estado, 'encerrado', 'back under the goal');
});

t.test('with tokens: a customer lists and acknowledges its own meter\'s alerts only', async (t) => {
  const server = await startTestServer(t, { env: { AUTENTICACAO_API: 'obrigatoria' } });
  const port = server.http.port;
  await server.stores.store.setPasswordHash('13456789', await hashPassword('uma senha longa'));
  const token = (await send(port, 'POST', '/validacao-usuario', { username: 'amancio123', senha: 'uma senha longa' })).json.token as string;
  const mine = await server.alerts.center.raise('13456789', 'violacao_tampa', 'violacao_tampa', 'teste');
  const theirs = await server.alerts.center.raise('09812389', 'violacao_tampa', 'violacao_tampa', 'teste');
  t.equal((await send(port, 'GET', '/alertas', undefined, { token })).status, 403, 'not the fleet');
  t.equal((await send(port, 'GET', '/alertas?matricula=09812389', undefined, { token })).status, 403);
  t.same((await send(port, 'GET', '/alertas?matricula=13456789', undefined, { token })).json.alertas.map((a: { id: string }) => a.id), [mine?.id]);
  t.equal((await send(port, 'POST', `/alertas/${theirs?.id}/reconhecimento`, undefined, { token })).json.erro.codigo, 'alerta_nao_encontrado', 'another meter\'s alert does not exist for it');
  const done = await send(port, 'POST', `/alertas/${mine?.id}/reconhecimento`, undefined, { token });
  t.same([done.status, done.json.reconhecido_por], [200, 'cliente:13456789']);
  t.equal((await send(port, 'GET', '/alertas')).status, 401, 'no token');
});

t.test('the webhook followed a 307 to another path with the signed body (regression, issue 26): a 3xx is a failed delivery; WEBHOOK_URL userinfo is never echoed', async (t) => {
  const hits: string[] = [];
  const redirecting = createServer((request, response) => {
    hits.push(request.url ?? '');
    request.resume();
    request.on('end', () => (request.url === '/ganchos' ? response.writeHead(307, { Location: '/roubado' }).end() : response.writeHead(204).end()));
  });
  await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => redirecting.close(() => resolve())));
  const server = await startTestServer(t, { env: { WEBHOOK_URL: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/ganchos`, WEBHOOK_SEGREDO: SECRET } });
  await server.alerts.center.raise('13456789', 'violacao_tampa', 'violacao_tampa', 'O medidor avisou violação da tampa.');
  await until('a failed attempt', async () => ((server.alerts.webhook?.counters.failedAttempts ?? 0) >= 1 ? true : undefined));
  t.equal(server.alerts.webhook?.counters.delivered, 0, 'not delivered');
  t.notOk(hits.includes('/roubado'), 'the signed body never went where the redirect pointed');
  const { loadConfig } = await import('../../server/config.js');
  let message = '';
  try {
    loadConfig({ WEBHOOK_URL: 'ftp://usuario:senha-secreta@gancho.exemplo/x', WEBHOOK_SEGREDO: SECRET }, []);
  } catch (error) {
    message = (error as Error).message;
  }
  t.match(message, /^invalid setting WEBHOOK_URL: .*ftp:\/\/\*\*\*@gancho\.exemplo\/x/, 'the setting is named, the URL shown without its userinfo');
  t.notMatch(message, /senha-secreta|usuario/, 'neither the password nor the user');
});

t.test('floods in the names of invented meters (regression, issue 26: 120,000 events stored, a customer\'s falta_energia never delivered): they share a capped budget, and the customer\'s event is stored and delivered', async (t) => {
  const hook = await receiver(t, 0);
  const server = await startTestServer(t, { env: { WEBHOOK_URL: hook.url, WEBHOOK_SEGREDO: SECRET, OCORRENCIAS_SEM_CLIENTE_POR_MINUTO: '40', MEDICAO_INTERVALO_MINIMO_MS: '0' } });
  const flood = await udpClient(t, server.udp.port);
  t.teardown(() => flood.close());
  const at = Date.now() - 60_000;
  // 60 invented meters, one reading each, then 10 events each.
  for (let m = 0; m < 60; m++) await flood.sendForAck(`MEDICAO;${900_000 + m};${iso(at)};1`);
  for (let m = 0; m < 60; m++) flood.send(Array.from({ length: 10 }, (_, i) => `EVENTO;${900_000 + m};${iso(at + 1000 + i)};violacao_tampa;inventado`).join('\n'));
  await until('the flood to be judged', async () => (server.commands.eventIntake.counters.stored + server.commands.eventIntake.counters.strangers >= 600 ? true : undefined));
  t.equal(server.commands.eventIntake.counters.stored, 40, 'meters of no customer: 40 events a minute, server-wide');
  t.equal(server.commands.eventIntake.counters.strangers, 560, 'the rest wait unacknowledged');
  const customer = await udpClient(t, server.udp.port);
  t.teardown(() => customer.close());
  await customer.sendForAck(`MEDICAO;13456789;${iso(at)};100`);
  customer.send(`EVENTO;13456789;${iso(at + 2000)};falta_energia;ultimo suspiro`);
  await until('the customer\'s event to be delivered', async () => (hook.received.some((r) => r.body.includes('"falta_energia"')) ? true : undefined));
  const listed = await until('the delivery to be recorded', async () => {
    const events = (await send(server.http.port, 'GET', '/ocorrencias?matricula=13456789')).json.ocorrencias as Array<{ tipo: string; entrega: { estado: string } }>;
    return events.every((e) => e.entrega.estado === 'entregue') ? events : undefined;
  });
  t.same(listed.map((e) => [e.tipo, e.entrega.estado]), [['falta_energia', 'entregue']], 'stored, delivered, and marked so');
});

t.test('the webhook queue spills to the store: deliveries that found it full are read back and delivered, none dropped', async (t) => {
  const { FileEventStore } = await import('../../database/file/event-file-store.js');
  const { FileAlertStore } = await import('../../database/file/alert-file-store.js');
  const { AlertCenter } = await import('../../app/alert-center.js');
  const { WebhookSender } = await import('../../server/webhook.js');
  const { FleetTracker } = await import('../../app/fleet.js');
  const { silentLogger } = await import('../helpers.js');
  const dir = await tempDir(t);
  const hook = await receiver(t, 0);
  const events = await FileEventStore.open(dir, silentLogger);
  const alerts = await FileAlertStore.open(dir, silentLogger);
  const webhook = new WebhookSender({ url: hook.url, secret: SECRET, logger: silentLogger, maxQueued: 3 });
  t.teardown(() => webhook.close());
  const center = new AlertCenter({ alerts, events, eventPayload: (e) => e, fleet: new FleetTracker(), logger: silentLogger, webhook, publish: () => undefined, refillMs: 100 });
  await center.start();
  t.teardown(() => center.stop());
  const stored = Array.from({ length: 20 }, (_, i) => ({ matricula: '13456789', timestamp: Date.UTC(2026, 11, 1) + i, type: 'retorno_energia' as const, detail: `n ${i}`, receivedAt: Date.UTC(2026, 11, 1), delivery: 'pendente' as const, deliveryAttempts: 0 }));
  await events.append(stored);
  center.events(stored);
  await until('every event delivered', async () => (webhook.counters.delivered >= 20 ? true : undefined));
  t.equal(hook.received.length, 20, 'each once');
  t.ok(webhook.counters.dropped > 0, `the queue was full ${webhook.counters.dropped} times: they spilled to the store and came back`);
  t.equal(webhook.counters.delivered, 20);
  await until('every delivery recorded', async () => ((await events.pendingDeliveries()).length === 0 ? true : undefined));
});
