/**
 * Commands and events end to end (issue 16): real meter processes against a
 * real server. Each command is executed and its effect shows in the
 * readings; events arrive and are listed; through a relay that loses 30%
 * and duplicates some, every command is executed exactly once; forged,
 * unsigned, expired and replayed commands are ignored by the meter.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { signLine } from '../../protocol/meter-auth.js';
import { serializeCommand } from '../../protocol/meter-commands.js';
import type { RunningServer } from '../../server/app.js';
import { startTestServer, tempDir, until, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { relay, startMeter } from './meter-processes.js';
import { send } from '../server/billing-fixtures.js';

const KEYED = '13456789';
const UNKEYED = '09812389';
const KEY_HEX = '3c'.repeat(32);
const FAST = ['--intervalo-incremento', '0.02', '--intervalo-envio', '0.2', '--log-level', 'silent'];

async function keyedServer(t: Test, env: Record<string, string> = {}): Promise<{ server: RunningServer; keysFile: string; dataDir: string }> {
  const dataDir = await tempDir(t);
  const keysFile = join(dataDir, 'chaves-medidores.txt');
  await writeFile(keysFile, `${KEYED};${KEY_HEX}\n`);
  const server = await startTestServer(t, { dataDir, env: { CHAVES_MEDIDORES: keysFile, ...env } });
  return { server, keysFile, dataDir };
}

interface Json {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

async function http(server: RunningServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Json> {
  // Commands are the operator's to send.
  const answer = await send(server.http.port, method, path, body, { headers, token: TEST_OPERATOR_TOKEN });
  return { status: answer.status, body: answer.json ?? answer.bytes.toString('utf8'), headers: answer.headers };
}


async function command(server: RunningServer, matricula: string, tipo: string, parametros: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<any> {
  const answer = await http(server, 'POST', `/medidores/${matricula}/comandos`, { tipo, parametros, ...extra });
  if (answer.status !== 202) throw new Error(`POST ${tipo}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const finished = (server: RunningServer, id: string, timeoutMs?: number) =>
  until(
    async () => `command ${id} to finish: ${JSON.stringify((await http(server, 'GET', `/comandos/${id}`)).body)}`,
    async () => {
      const { body } = await http(server, 'GET', `/comandos/${id}`);
      return ['executado', 'falhou', 'expirado', 'cancelado'].includes(body.estado) ? body : undefined;
    },
    timeoutMs,
  );

async function readings(server: RunningServer, matricula: string, after: number): Promise<Array<{ t: number; consumo: number }>> {
  const { body } = await http(server, 'GET', `/medicoes?matricula=${matricula}&inicio=${new Date(after).toISOString()}&limite=1000`);
  return (body.medicoes as Array<{ data_hora: string; consumo: number }>).map((m) => ({ t: Date.parse(m.data_hora), consumo: Number(m.consumo) })).reverse();
}

t.test('each command is executed by a real meter and its effect shows in the readings', async (t) => {
  const { server, keysFile } = await keyedServer(t);
  const meter = startMeter(t, ['--matricula', KEYED, '--porta', String(server.udp.port), '--chaves', keysFile, '--incremento-minimo', '10', ...FAST]);
  await meter.until((s) => s.acknowledged >= 3);

  const before = Date.now();
  const leitura = await finished(server, (await command(server, KEYED, 'leitura')).id);
  t.equal(leitura.estado, 'executado', 'leitura: executed');
  t.ok(leitura.tentativas >= 1 && leitura.concluido_em !== null && leitura.pedido_por === 'operador');
  t.ok(Date.parse(leitura.concluido_em) - before < 2000, 'answered at once, not at the next send interval');

  const corte = await finished(server, (await command(server, KEYED, 'corte')).id);
  t.equal(corte.estado, 'executado', 'corte: executed');
  const cutAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const whileCut = await readings(server, KEYED, cutAt + 100);
  t.ok(whileCut.length >= 3, 'readings keep coming while cut');
  t.equal(new Set(whileCut.map((r) => r.consumo)).size, 1, 'the register stopped');
  const cutMeter = await until('the supply state', async () => {
    const { body } = await http(server, 'GET', `/medidores/${KEYED}`);
    return body.fornecimento === 'cortado' ? body : undefined;
  });
  t.equal(cutMeter.chave, true);
  t.match(cutMeter.endereco, /^127\.0\.0\.1:\d+$/, 'the operator sees where the meter speaks from');
  t.equal((await http(server, 'GET', '/frota')).body.medidores_cortados, 1, '/frota counts it');
  const table = (await http(server, 'GET', '/frota/medidores?somente=cortados')).body;
  t.same(table.medidores.map((m: { matricula: string; fornecimento: string }) => [m.matricula, m.fornecimento]), [[KEYED, 'cortado']]);

  t.equal((await finished(server, (await command(server, KEYED, 'religacao')).id)).estado, 'executado', 'religacao: executed');
  const backAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 800));
  const after = await readings(server, KEYED, backAt + 100);
  t.ok(after[after.length - 1]!.consumo > after[0]!.consumo, 'the register grows again');

  const limit = await finished(server, (await command(server, KEYED, 'limite_demanda', { kw: '2.5' })).id);
  t.equal(limit.estado, 'executado');
  t.same(limit.parametros, { kw: '2.5' });
  const limitAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const limited = await readings(server, KEYED, limitAt + 100);
  const steps = limited.slice(1).map((r, i) => Math.round((r.consumo - limited[i]!.consumo) * 1000));
  t.ok(steps.length >= 3 && steps.every((step) => step % 2500 === 0), `every increment capped at 2.5 kWh per tick: ${steps.join(', ')}`);
  const limiteExcedido = await until('limite_excedido', async () => {
    const { body } = await http(server, 'GET', `/ocorrencias?matricula=${KEYED}&tipo=limite_excedido`);
    return body.ocorrencias.length > 0 ? body.ocorrencias : undefined;
  });
  t.equal(limiteExcedido.length, 1, 'reported once when the limit started to bite, not per tick');
  t.match(limiteExcedido[0].detalhe, /^limite 2.5 kW atingido em 1 incremento\(s\)$/);
  t.equal((await http(server, 'GET', `/medidores/${KEYED}`)).body.limite_demanda_kw, '2.5');
  t.equal((await finished(server, (await command(server, KEYED, 'limite_demanda', { kw: null })).id)).estado, 'executado', 'the limit removed');
  t.equal((await http(server, 'GET', `/medidores/${KEYED}`)).body.limite_demanda_kw, null);

  const events = (await http(server, 'GET', `/ocorrencias?matricula=${KEYED}`)).body.ocorrencias.map((e: { tipo: string }) => e.tipo);
  t.ok(events.includes('corte_executado') && events.includes('religacao_executada'), `the meter reported its cut and reconnection: ${events.join(', ')}`);
  const history = (await http(server, 'GET', `/medidores/${KEYED}/comandos`)).body.comandos;
  t.same(history.map((c: { tipo: string }) => c.tipo), ['limite_demanda', 'limite_demanda', 'religacao', 'corte', 'leitura'], 'the history, newest first');
  const { final } = await meter.stop();
  t.equal(final?.commandsExecuted, 5, 'five commands, each executed once');
  t.equal(final?.commandsIgnored, 0);
});

t.test('a clock sync corrects a meter whose clock is an hour behind', async (t) => {
  const { server } = await keyedServer(t);
  const meter = startMeter(t, ['--matricula', UNKEYED, '--porta', String(server.udp.port), '--desvio-relogio-s=-3600', ...FAST]);
  await meter.until((s) => s.acknowledged >= 2);
  const [late] = await readings(server, UNKEYED, 0);
  t.ok(Math.abs(Date.now() - 3_600_000 - late!.t) < 60_000, 'readings stamped an hour behind');
  t.equal((await finished(server, (await command(server, UNKEYED, 'sincronizar_relogio')).id)).estado, 'executado');
  const syncedAt = Date.now();
  const fresh = await until('a reading stamped by the corrected clock', async () => {
    const list = await readings(server, UNKEYED, syncedAt - 5_000);
    return list.length > 0 ? list : undefined;
  });
  t.ok(Math.abs(fresh[fresh.length - 1]!.t - Date.now()) < 5_000, 'readings now stamped within seconds of the server');
  const [adjusted] = (await http(server, 'GET', `/ocorrencias?matricula=${UNKEYED}&tipo=relogio_ajustado`)).body.ocorrencias;
  t.match(adjusted.detalhe, /relógio ajustado em 3\d{6} ms/, 'relogio_ajustado reported with the correction');
  await meter.stop();
});

t.test('rules of the API: 409 for an unkeyed meter, 404 for an unknown one, idempotency, cancel, expiry, live events', async (t) => {
  const { server } = await keyedServer(t);
  const refused = await http(server, 'POST', `/medidores/${UNKEYED}/comandos`, { tipo: 'corte' });
  t.equal(refused.status, 409);
  t.equal(refused.body.erro.codigo, 'medidor_sem_chave');
  t.equal((await http(server, 'POST', '/medidores/555/comandos', { tipo: 'leitura' })).body.erro.codigo, 'medidor_nao_encontrado');
  t.equal((await http(server, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'explodir' })).body.erro.codigo, 'dados_invalidos');
  t.equal((await http(server, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'limite_demanda', parametros: { kw: '-1' } })).status, 422);
  t.equal((await http(server, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte', parametros: { kw: '1' } })).status, 422, 'corte has no parameters');
  t.equal((await http(server, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'leitura', validade_s: 5 })).status, 422, 'validity at least 10 s');

  const events = new AbortController();
  t.teardown(() => events.abort());
  const stream = await fetch(`http://127.0.0.1:${server.http.port}/eventos`, { signal: events.signal });
  const reader = stream.body!.getReader();
  let seen = '';
  const sawEvent = (pattern: RegExp) =>
    until('an SSE event', async () => {
      if (pattern.test(seen)) return true;
      const { value } = await reader.read();
      seen += Buffer.from(value ?? new Uint8Array()).toString('utf8');
      return pattern.test(seen) ? true : undefined;
    });

  const first = await http(server, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte', validade_s: 10 }, { 'Idempotency-Key': 'pedido-1' });
  t.equal(first.status, 202);
  t.equal(first.headers.get('location'), `/comandos/${first.body.id}`);
  t.equal(first.body.estado, 'pendente', 'the meter never spoke: nowhere to send it yet');
  const retried = await http(server, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'corte', validade_s: 10 }, { 'Idempotency-Key': 'pedido-1' });
  t.equal(retried.body.id, first.body.id, 'a retried POST answers the same command');
  t.equal(retried.headers.get('idempotent-replayed'), 'true');
  t.equal((await http(server, 'POST', `/medidores/${KEYED}/comandos`, { tipo: 'religacao' }, { 'Idempotency-Key': 'pedido-1' })).status, 400, 'the same key for another command is a mistake');

  const second = await command(server, KEYED, 'leitura');
  const cancelled = await http(server, 'DELETE', `/comandos/${second.id}`);
  t.equal(cancelled.body.estado, 'cancelado');
  await sawEvent(new RegExp(`event: comando\\ndata: \\{"id":"${second.id}"[^\\n]*"estado":"cancelado"`));
  t.pass('the cancellation was pushed on /eventos');
  const again = await http(server, 'DELETE', `/comandos/${second.id}`);
  t.equal(again.status, 409);
  t.equal(again.body.erro.codigo, 'comando_finalizado');
  t.equal((await http(server, 'GET', '/comandos/nao-existe')).body.erro.codigo, 'comando_nao_encontrado');

  const expired = await finished(server, first.body.id);
  t.equal(expired.estado, 'expirado', 'never answered within its validity: expired');
  t.equal(expired.tentativas, 0);
});

t.test('field events: last gasp, silence, power back with the readings taken meanwhile; tamper', async (t) => {
  const { server, keysFile } = await keyedServer(t);
  const meter = startMeter(t, ['--matricula', KEYED, '--porta', String(server.udp.port), '--chaves', keysFile, '--falta-energia-apos', '1', '--duracao-falta', '2', '--violacao-apos', '0.5', ...FAST]);
  const lastGasp = await until('falta_energia', async () => {
    const { body } = await http(server, 'GET', `/ocorrencias?matricula=${KEYED}&tipo=falta_energia`);
    return body.ocorrencias[0];
  });
  t.equal(lastGasp.detalhe, 'último suspiro', 'the detail arrives as written, accents and all');
  const outage = await until('the meter without power', async () => {
    const { body } = await http(server, 'GET', '/frota?intervalo_s=1&intervalos=1');
    return body.medidores_sem_energia === 1 ? body : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const during = (await http(server, 'GET', '/frota?intervalo_s=1&intervalos=1')).body;
  t.equal(during.medidores_silenciosos, 0, 'without power, not silent');
  t.equal(outage.medidores_sem_energia, 1);
  await until('retorno_energia', async () => {
    const { body } = await http(server, 'GET', `/ocorrencias?matricula=${KEYED}&tipo=retorno_energia`);
    return body.ocorrencias[0];
  });
  await until('power counted back', async () => ((await http(server, 'GET', '/frota')).body.medidores_sem_energia === 0 ? true : undefined));
  const { final } = await meter.stop();
  const all = await readings(server, KEYED, 0);
  t.equal(all.length, final!.produced, 'every reading, those taken during the outage too, is stored');
  const gaps = all.slice(1).map((r, i) => r.t - all[i]!.t);
  t.ok(Math.max(...gaps) < 1000, 'no hole in the readings across the outage');
  const types = (await http(server, 'GET', `/ocorrencias?matricula=${KEYED}`)).body.ocorrencias.map((e: { tipo: string }) => e.tipo).sort();
  t.same(types, ['falta_energia', 'retorno_energia', 'violacao_tampa'], 'each event stored once');
  t.equal(final?.eventsPending, 0, 'every event acknowledged');
  const csv = (await http(server, 'GET', `/ocorrencias?matricula=${KEYED}&formato=csv`)).body as string;
  t.match(csv, /^data_hora,matricula,tipo,detalhe,recebido_em\r\n.*,13456789,retorno_energia,falta de 2 s,/);
});

t.test('through a relay that loses 30% and duplicates some, commands run exactly once; forged, unsigned, expired and replayed ones are ignored', async (t) => {
  const { server, keysFile } = await keyedServer(t);
  const path = await relay(t, server.udp.port, () => Math.random() < 0.3, () => Math.random() < 0.2);
  const meter = startMeter(t, ['--matricula', KEYED, '--porta', String(path.port), '--chaves', keysFile, ...FAST]);
  await meter.until((s) => s.acknowledged >= 3, 30_000);
  for (const tipo of ['corte', 'religacao']) t.equal((await finished(server, (await command(server, KEYED, tipo)).id, 90_000)).estado, 'executado', `${tipo} executed`);
  const batch = ['leitura', 'sincronizar_relogio', 'leitura', 'leitura'];
  // At once, as an operator's batch: each is retried on its own until answered (1 s, 2 s, 4 s... apart).
  const sent = await Promise.all(batch.map((tipo) => command(server, KEYED, tipo)));
  for (const [i, done] of (await Promise.all(sent.map((c) => finished(server, c.id, 90_000)))).entries()) t.equal(done.estado, 'executado', `${batch[i]} executed`);
  const kinds = ['corte', 'religacao', ...batch];
  const executed = (await meter.until((s) => s.commandsExecuted >= kinds.length)).commandsExecuted;
  t.equal(executed, kinds.length, 'each executed once, however often it was sent or duplicated');

  const key = Buffer.from(KEY_HEX, 'hex');
  const captured = path.toMeter.find((datagram) => datagram.startsWith('COMANDO;') && datagram.includes(';corte;')) as string;
  const forged = (id: string, expiresAt = Date.now() + 60_000) => serializeCommand({ id, matricula: KEYED, type: 'corte', expiresAt, parameters: {} });
  path.inject(captured); // replayed: an old, genuine corte
  path.inject(forged('forjado-1')); // unsigned
  path.inject(`${forged('forjado-2')};${'0'.repeat(64)}`); // wrongly signed
  path.inject(signLine(forged('vencido-1', Date.now() - 1000), key)); // signed, but expired
  const after = await meter.until((s) => s.commandsIgnored >= 4);
  t.equal(after.commandsExecuted, kinds.length, 'none of them was executed');
  const { body } = await http(server, 'GET', `/medidores/${KEYED}`);
  t.equal(body.fornecimento, 'ligado', 'the replayed corte cut nothing');
  await meter.stop();
});
