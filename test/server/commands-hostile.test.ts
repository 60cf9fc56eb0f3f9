/**
 * Commands and events under hostile clients (issue 16): a customer's token
 * never commands a meter or cancels a command, reads only its own meter,
 * commands and events; a forged answer cannot finish a command; a flood of
 * events from one meter is rate-limited without losing the others.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { signLine } from '../../protocol/meter-auth.js';
import { serializeAnswer, serializeEvent } from '../../protocol/meter-commands.js';
import { EVENTS_PER_METER_PER_MINUTE } from '../../server/udp/meter-events.js';
import { meterSocket, readingLine, startTestServer, tempDir, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { send } from './billing-fixtures.js';
import { MeterSigner } from '../../meter/meter-signer.js';

const ADMIN = 'token-do-operador-de-teste-0123456789abcdef';
const KEYED = '13456789';
const OTHER = '98765432';
const KEY = Buffer.from('7e'.repeat(32), 'hex');

t.test('a customer token cannot command meters, and sees only its own meter', async (t) => {
  const dataDir = await tempDir(t);
  const keysFile = join(dataDir, 'chaves.txt');
  await writeFile(keysFile, `${KEYED};${KEY.toString('hex')}\n${OTHER};${'11'.repeat(32)}\n`);
  const server = await startTestServer(t, { dataDir, env: { AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: ADMIN, CHAVES_MEDIDORES: keysFile } });
  const port = server.http.port;
  for (const matricula of [KEYED, OTHER]) await send(port, 'POST', `/clientes/${matricula}/senha`, { senha: 'senha-de-teste-123' }, { token: ADMIN });
  const login = await send(port, 'POST', '/validacao-usuario', { matricula: KEYED, senha: 'senha-de-teste-123' });
  const customer = (login.json as { token: string }).token;
  const theirs = await send(port, 'POST', `/medidores/${OTHER}/comandos`, { tipo: 'leitura' }, { token: ADMIN });
  t.equal(theirs.status, 202, 'the operator commands');
  const id = (theirs.json as { id: string }).id;

  t.equal((await send(port, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte' }, { token: customer })).status, 403, 'a customer never commands, even its own meter');
  t.equal((await send(port, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte' })).status, 401, 'no token: 401');
  t.equal((await send(port, 'DELETE', `/comandos/${id}`, undefined, { token: customer })).status, 403, 'nor cancels');
  t.equal((await send(port, 'GET', `/comandos/${id}`, undefined, { token: customer })).status, 403, "nor reads another meter's command");
  t.equal((await send(port, 'GET', `/medidores/${OTHER}/comandos`, undefined, { token: customer })).status, 403);
  t.equal((await send(port, 'GET', `/medidores/${OTHER}`, undefined, { token: customer })).status, 403, 'nor another meter');
  t.equal((await send(port, 'GET', `/ocorrencias?matricula=${OTHER}`, undefined, { token: customer })).status, 403, "nor another meter's events");
  t.equal((await send(port, 'GET', '/ocorrencias', undefined, { token: customer })).status, 403, "nor every meter's");
  const own = await send(port, 'GET', `/medidores/${KEYED}`, undefined, { token: customer });
  t.equal(own.status, 200, 'its own meter');
  t.equal((own.json as { endereco: unknown }).endereco, null, 'without the address it speaks from');
  t.equal((await send(port, 'GET', `/ocorrencias?matricula=${KEYED}`, undefined, { token: customer })).status, 200, 'its own events');
  t.equal((await send(port, 'GET', `/comandos/${id}`, undefined, { token: ADMIN })).status, 200);
});

t.test('a forged answer does not finish a command; an event flood is rate-limited and loses nothing', async (t) => {
  const dataDir = await tempDir(t);
  const keysFile = join(dataDir, 'chaves.txt');
  await writeFile(keysFile, `${KEYED};${KEY.toString('hex')}\n`);
  const server = await startTestServer(t, { dataDir, env: { CHAVES_MEDIDORES: keysFile } });
  const { received, send: toServer } = await meterSocket(t);
  const sendUdp = (text: string) => toServer(text, server.udp.port);
  // Signs as the keyed meter does: answers and events with its invocation counter.
  const meter = new MeterSigner(KEY);
  sendUdp(signLine(readingLine(KEYED, new Date(Date.now() - 1000).toISOString(), '10'), KEY));
  const created = await send(server.http.port, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte' }, { token: TEST_OPERATOR_TOKEN });
  const id = (created.json as { id: string }).id;
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  await until(() => received.some((line) => line.startsWith(`COMANDO;${id};`)));
  t.ok(received.some((line) => line.startsWith(`COMANDO;${id};${KEYED};corte;`)), 'the command went to where the meter spoke from');

  // Anyone can send an answer line; only the meter's key makes it count.
  const answer = serializeAnswer({ id, matricula: KEYED, outcome: 'executado', detail: 'forjado' });
  sendUdp(answer);
  sendUdp(`${answer};${'0'.repeat(64)}`);
  sendUdp(signLine(serializeAnswer({ id, matricula: KEYED, outcome: 'executado', detail: 'outra chave' }), Buffer.alloc(32, 1)));
  await until(() => server.commands.delivery.counters.answersIgnored >= 3);
  t.equal(server.commands.delivery.counters.answersIgnored, 3, 'forged answers ignored and counted');
  t.equal(((await send(server.http.port, 'GET', `/comandos/${id}`)).json as { estado: string }).estado, 'enviado', 'the command is still waiting for the meter');
  sendUdp(meter.counted(serializeAnswer({ id, matricula: KEYED, outcome: 'executado', detail: 'fornecimento cortado' })));
  await until(() => server.commands.delivery.openCount === 0);
  t.equal(((await send(server.http.port, 'GET', `/comandos/${id}`)).json as { estado: string; resultado: string }).resultado, 'fornecimento cortado', "the meter's own answer finishes it");
  const sync = ((await send(server.http.port, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'sincronizar_relogio' }, { token: TEST_OPERATOR_TOKEN })).json as { id: string }).id;
  await until(() => received.some((line) => line.startsWith(`COMANDO;${sync};`)));
  sendUdp(meter.counted(serializeAnswer({ id: sync, matricula: KEYED, outcome: 'falhou', detail: 'relogio sem bateria' })));
  await until(() => server.commands.delivery.openCount === 0);
  const failed = (await send(server.http.port, 'GET', `/comandos/${sync}`)).json as { estado: string; motivo: string; resultado: null; concluido_em: string };
  t.same([failed.estado, failed.motivo, failed.resultado], ['falhou', 'relogio sem bateria', null], "a failure keeps the meter's reason");
  t.ok(failed.concluido_em !== null);

  // A flood of distinct, genuine events: the first EVENTS_PER_METER_PER_MINUTE are stored and acknowledged, the rest wait.
  const base = Date.now() - 60_000;
  const lines = Array.from({ length: EVENTS_PER_METER_PER_MINUTE + 20 }, (_, i) => meter.counted(serializeEvent({ matricula: KEYED, timestamp: base + i, type: 'violacao_tampa', detail: `n ${i}` })));
  // Eight to a datagram: with the counter and the MAC, ten would pass MAX_DATAGRAM_BYTES.
  for (let i = 0; i < lines.length; i += 8) sendUdp(lines.slice(i, i + 8).join('\n'));
  const acks = () => received.filter((line) => line.startsWith('ACK_EVENTO;')).length;
  await until(() => server.commands.eventIntake.counters.deferred >= 20 && acks() >= EVENTS_PER_METER_PER_MINUTE);
  t.equal(server.commands.eventIntake.counters.stored, EVENTS_PER_METER_PER_MINUTE, JSON.stringify(server.commands.eventIntake.counters));
  t.equal(server.commands.eventIntake.counters.deferred, 20, 'the rest left unacknowledged, for the meter to resend');
  t.equal(acks(), EVENTS_PER_METER_PER_MINUTE, 'only what was stored is acknowledged');
  sendUdp(serializeEvent({ matricula: KEYED, timestamp: base, type: 'falta_energia', detail: 'sem assinatura' }));
  await until(() => server.commands.eventIntake.counters.ignored >= 1);
  t.equal(server.commands.eventIntake.counters.ignored, 1, 'an unsigned event of a keyed meter is ignored');
  const metrics = (await send(server.http.port, 'GET', '/metricas')).bytes.toString('utf8');
  t.match(metrics, /\nconsumo_comandos_respostas_ignoradas_total 3\n/, 'the forged answers show in /metricas');
  t.match(metrics, /\nconsumo_comandos_abertos 0\n/);
  t.match(metrics, new RegExp(`\\nconsumo_ocorrencias_total\\{resultado="armazenada"\\} ${EVENTS_PER_METER_PER_MINUTE}\\n`));
  t.match(metrics, /\nconsumo_ocorrencias_total\{resultado="adiada"\} 20\n/);
});

t.test('events in the names of invented meters are neither stored nor acknowledged (regression: they filled the event store)', async (t) => {
  const server = await startTestServer(t);
  const sender = createSocket('udp4');
  t.teardown(() => sender.close());
  sender.bind(0, '127.0.0.1');
  await once(sender, 'listening');
  const answers: string[] = [];
  sender.on('message', (message) => answers.push(message.toString('latin1')));
  const at = Date.now() - 1000;
  for (let m = 0; m < 50; m++) sender.send(Array.from({ length: 10 }, (_, i) => serializeEvent({ matricula: String(700_000 + m), timestamp: at + i, type: 'violacao_tampa', detail: '' })).join('\n'), server.udp.port, '127.0.0.1');
  sender.send(`EVENTO;1;${new Date(at).toISOString()};violacao_tampa;${'x'.repeat(60)}\n`.repeat(30), server.udp.port, '127.0.0.1');
  for (let i = 0; i < 200 && server.commands.eventIntake.counters.unknown < 500; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(server.commands.eventIntake.counters.unknown, 500, 'every one of them waits');
  t.equal(server.commands.eventIntake.counters.stored, 0);
  t.equal(server.readings.ingest.counters.malformed, 1, 'a datagram larger than the protocol allows is dropped whole');
  t.same(answers, [], 'nothing answered: no reflection towards whoever sent them');
  t.same(await server.stores.events.list({ from: 0, to: Number.MAX_SAFE_INTEGER }, 0, 10), []);
});

t.test('replayed meter message steers commands (regression, issue 26): captured signed lines sent again move nothing and are counted', async (t) => {
  const dataDir = await tempDir(t);
  const keysFile = join(dataDir, 'chaves.txt');
  await writeFile(keysFile, `${KEYED};${KEY.toString('hex')}\n`);
  let server = await startTestServer(t, { dataDir, env: { CHAVES_MEDIDORES: keysFile } });
  const genuine = await meterSocket(t);
  const attacker = await meterSocket(t);
  const meter = new MeterSigner(KEY);
  const waitFor = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    t.ok(check(), what);
  };
  const commandTo = async (tipo: string): Promise<string> => ((await send(server.http.port, 'POST', `/medidores/${KEYED}/comandos`, { tipo }, { token: TEST_OPERATOR_TOKEN })).json as { id: string }).id;
  const stateOf = async (id: string): Promise<string> => ((await send(server.http.port, 'GET', `/comandos/${id}`)).json as { estado: string }).estado;

  // The genuine meter speaks: a reading, an event, and the answer to a command. A relay keeps copies.
  genuine.send(signLine(readingLine(KEYED, new Date(Date.now() - 2000).toISOString(), '10'), KEY), server.udp.port);
  // As a meter does, the event is sent again (signed with a new counter) until acknowledged: a datagram lost on a loaded
  // machine must not fail the test. The relay keeps the last copy.
  const eventLine = serializeEvent({ matricula: KEYED, timestamp: Date.now() - 1000, type: 'violacao_tampa', detail: 'tampa aberta' });
  let event = '';
  for (let attempt = 0; attempt < 15 && !genuine.received.some((line) => line.startsWith('ACK_EVENTO;')); attempt++) {
    event = meter.counted(eventLine);
    genuine.send(event, server.udp.port);
    for (let i = 0; i < 100 && !genuine.received.some((line) => line.startsWith('ACK_EVENTO;')); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await waitFor('the genuine event is acknowledged', () => genuine.received.some((line) => line.startsWith('ACK_EVENTO;')));
  const read = await commandTo('leitura');
  await waitFor('the command reaches the meter', () => genuine.received.some((line) => line.startsWith(`COMANDO;${read};`)));
  const answer = meter.counted(serializeAnswer({ id: read, matricula: KEYED, outcome: 'executado', detail: 'leitura enviada' }));
  genuine.send(answer, server.udp.port);
  await waitFor('the answer finishes it', () => server.commands.delivery.openCount === 0);

  // The attacker replays the captured lines every 50 ms, and a signed line of the old form (no counter).
  const oldForm = signLine(serializeEvent({ matricula: KEYED, timestamp: Date.now() - 500, type: 'falta_energia', detail: '' }), KEY);
  const replay = setInterval(() => {
    attacker.send(event, server.udp.port);
    attacker.send(answer, server.udp.port);
    attacker.send(oldForm, server.udp.port);
  }, 50);
  t.teardown(() => clearInterval(replay));
  await waitFor('replays are refused and counted', () => server.commands.eventIntake.counters.replayed >= 6 && server.commands.delivery.counters.answersReplayed >= 3);
  const reconnect = await commandTo('religacao');
  await waitFor('the religacao goes to the genuine meter', () => genuine.received.some((line) => line.startsWith(`COMANDO;${reconnect};`)));
  genuine.send(meter.counted(serializeAnswer({ id: reconnect, matricula: KEYED, outcome: 'executado', detail: 'fornecimento religado' })), server.udp.port);
  await waitFor('and is executed', () => server.commands.delivery.openCount === 0);
  t.equal(await stateOf(reconnect), 'executado');
  t.same(attacker.received.filter((line) => line !== ''), [], 'the replayer was never sent a command, nor an acknowledgement');
  const metrics = (await send(server.http.port, 'GET', '/metricas')).bytes.toString('utf8');
  t.match(metrics, /\nconsumo_mensagens_repetidas_total [1-9]\d*\n/, 'replays show in /metricas');
  t.match(metrics, /\nconsumo_ocorrencias_total\{resultado="repetida"\} [1-9]\d*\n/);

  // The newest accepted counter is durable: after a restart the same lines are still replays.
  clearInterval(replay);
  await server.close();
  server = await startTestServer(t, { dataDir, env: { CHAVES_MEDIDORES: keysFile } });
  attacker.send(event, server.udp.port);
  attacker.send(answer, server.udp.port);
  await waitFor('after a restart the replay is refused again', () => server.commands.eventIntake.counters.replayed >= 1 && server.commands.delivery.counters.answersReplayed >= 1);
  t.equal(server.commands.eventIntake.counters.stored, 0, 'nothing stored from it');
  const fresh = meter.counted(serializeEvent({ matricula: KEYED, timestamp: Date.now() - 100, type: 'violacao_tampa', detail: 'de novo' }));
  const readingAcks = () => genuine.received.filter((line) => line.startsWith(`ACK;${KEYED};`)).length;
  const before = readingAcks();
  genuine.send(signLine(readingLine(KEYED, new Date(Date.now() - 50).toISOString(), '11'), KEY), server.udp.port);
  await waitFor('the meter\'s reading is taken after the restart', () => readingAcks() > before);
  genuine.send(fresh, server.udp.port);
  await waitFor('a fresh event from the meter is still taken', () => server.commands.eventIntake.counters.stored === 1);
});
