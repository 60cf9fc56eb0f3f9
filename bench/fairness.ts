/**
 * `npm run bench:justica`: the figures of issue 26 (safe by default and fair
 * to every customer), each against a baseline taken in the same run, on a
 * server process with a file store:
 *
 * 1. A real customer's login, once a second from its own address, alone and
 *    while 100 addresses each guess its password under the per-address
 *    limit: p50/p99 and refusals; and a meter's UDP ACK meanwhile (the
 *    password checks must not delay the log's fsync).
 * 2. One meter's UDP ACK round trip and /saude, alone and while 50 loops
 *    reconnect to /eventos with Last-Event-ID (customer A's token) and
 *    customer A keeps 4 heavy requests (a year of hours) in flight: p99 of
 *    each; and 3. customer B's one-day /consumo meanwhile.
 * 4. The time from `religacao` to `executado` for a keyed meter, alone and
 *    while a relay replays its captured EVENTO and RESPOSTA every 50 ms.
 * 5. A real customer's webhook delivery latency, and the server's peak RSS,
 *    during a flood of events from invented meters (3,000 x 40 = 120,000).
 *
 * Options: --segundos 10 --medidores-inventados 3000
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signLine } from '../protocol/meter-auth.js';
import { parseCommandLine, serializeAnswer, serializeEvent } from '../protocol/meter-commands.js';
import { MeterSigner } from '../meter/meter-signer.js';
import { hashPassword } from '../domain/auth/password.js';
import { ackRoundTrips, parseCli, percentile, startTarget, type RunningTarget } from './lib.js';
import { DAY_MS } from '../protocol/timestamp.js';

const values = parseCli('bench:justica', 'Fairness and replay figures of issue 26, each against a baseline in the same run.', {
  segundos: { default: '10', help: 'seconds each measurement lasts' },
  'medidores-inventados': { default: '3000', help: 'invented meters in the event flood (40 events each)' },
});
const SECONDS = Number(values.segundos);
const INVENTED = Number(values['medidores-inventados']);
if (!Number.isInteger(SECONDS) || SECONDS < 2 || !Number.isInteger(INVENTED) || INVENTED < 1 || INVENTED > 20_000) {
  process.stderr.write('bench:justica: --segundos at least 2, --medidores-inventados 1 to 20000\n');
  process.exit(1);
}

const OPERATOR = 'bench-operador-0123456789abcdefghijklmnop';
const A = '10000000';
const B = '10000001';
const DONA = '10000002';
const KEYED = '10000003';
const KEY = Buffer.from('5a'.repeat(32), 'hex');
const PASSWORD = 'senha-do-bench-longa';
const HEAVY = `/consumo?matricula=${A}&agrupar=hora&fuso=UTC&inicio=${new Date(Date.now() - 364 * DAY_MS).toISOString().slice(0, 10)}`;
const LIGHT = `/consumo?matricula=${B}&agrupar=hora&fuso=UTC&inicio=${new Date(Date.now() - DAY_MS).toISOString().slice(0, 10)}`;

const ms = (n: number): string => `${n.toFixed(1)} ms`;
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

async function preload(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const start = Date.now() - 365 * DAY_MS;
  const lines: string[] = [];
  for (let i = 0; i < 2 * 24 * 365; i++) lines.push(`${new Date(start + i * 1_800_000).toISOString()};${A};${i * 2}\n`);
  for (let i = 0; i < 96; i++) lines.push(`${new Date(Date.now() - DAY_MS + i * 900_000).toISOString()};${B};${i}\n`);
  lines.sort();
  await writeFile(join(dataDir, 'medicoes.log'), lines.join(''));
  await writeFile(join(dataDir, 'clientes.txt'), `a;${A}\nb;${B}\ndona;${DONA}\nchaveado;${KEYED}\n`);
  const hash = await hashPassword(PASSWORD);
  await writeFile(join(dataDir, 'senhas.txt'), `${A};${hash}\n${B};${hash}\n${DONA};${hash}\n`, { mode: 0o600 });
  await writeFile(join(dataDir, 'chaves-medidores.txt'), `${KEYED};${KEY.toString('hex')}\n`);
}

/** One HTTP/1.1 request on its own connection from `localAddress`; status, body and time. */
async function ask(port: number, method: string, path: string, options: { from?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const socket = connect({ port, host: '127.0.0.1', localAddress: options.from ?? '127.0.0.1' });
  await once(socket, 'connect');
  const body = options.body ?? '';
  const head = Object.entries({ Host: 'bench', Connection: 'close', 'Content-Length': String(Buffer.byteLength(body)), ...(options.headers ?? {}) })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n${body}`);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  await once(socket, 'close');
  const status = Number(text.slice(9, 12));
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4), ms: performance.now() - started };
}

async function tokenOf(port: number, matricula: string): Promise<string> {
  const answer = await ask(port, 'POST', '/validacao-usuario', { from: '127.0.9.9', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ matricula, senha: PASSWORD }) });
  return (JSON.parse(answer.body) as { token: string }).token;
}

/** 1. The owner's logins, once a second, with `guessers` addresses guessing meanwhile. */
async function logins(server: RunningTarget, guessers: number): Promise<string> {
  let stop = false;
  const flood = Array.from({ length: guessers }, async (_, g) => {
    // Under the per-address limit of 30 a minute: one guess every 2.5 s per address.
    for (let i = 0; !stop; i++) {
      await ask(server.httpPort, 'POST', '/validacao-usuario', { from: `127.0.3.${1 + g}`, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ matricula: DONA, senha: `chute-${g}-${i}-longo` }) }).catch(() => undefined);
      await sleep(2500);
    }
  });
  // Each new address's first guess is checked as early as the owner's (nobody can tell them apart yet): measured once every guesser has failed once.
  await sleep(guessers === 0 ? 0 : 25_000);
  const times: number[] = [];
  let refused = 0;
  // Durable writes meanwhile: a meter's reading-to-ACK (the log's fsync shares nothing with the password checks' thread).
  const acks = ackRoundTrips(server.udpPort, '20000001', SECONDS, Date.now() - (guessers === 0 ? 4 : 3) * 3_600_000);
  for (let i = 0; i < SECONDS; i++) {
    const answer = await ask(server.httpPort, 'POST', '/validacao-usuario', { from: '127.0.4.1', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ matricula: DONA, senha: PASSWORD }) });
    if (answer.status === 200) times.push(answer.ms);
    else refused++;
    await sleep(1000);
  }
  stop = true;
  await Promise.all(flood);
  times.sort((a, b) => a - b);
  const rtts = await acks;
  return `p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}, refused ${refused} of ${SECONDS}; a meter's ACK meanwhile p50 ${ms(percentile(rtts, 50))}, p99 ${ms(percentile(rtts, 99))}`;
}

/** 2 and 3: ACK p99, /saude p99 and B's /consumo, alone and under replay loops plus A's heavy requests. */
async function loaded(server: RunningTarget, underLoad: boolean, startAt: number): Promise<string> {
  let stop = false;
  const work: Array<Promise<unknown>> = [];
  if (underLoad) {
    const token = await tokenOf(server.httpPort, A);
    const auth = { Authorization: `Bearer ${token}` };
    const lastId = String(Date.now() - 300 * DAY_MS);
    // 50 loops reconnecting to /eventos from an old Last-Event-ID, as a reconnect storm does.
    for (let l = 0; l < 50; l++) {
      work.push(
        (async () => {
          while (!stop) {
            const socket = connect({ port: server.httpPort, host: '127.0.0.1', localAddress: `127.0.5.${1 + l}` });
            socket.on('error', () => undefined);
            await once(socket, 'connect').catch(() => undefined);
            socket.write(`GET /eventos?matricula=${A} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ${token}\r\nLast-Event-ID: ${lastId}\r\n\r\n`);
            await sleep(50);
            socket.destroy();
          }
        })(),
      );
    }
    // Customer A keeps 4 heavy requests in flight.
    for (let h = 0; h < 4; h++) {
      work.push(
        (async () => {
          while (!stop) await ask(server.httpPort, 'GET', HEAVY, { from: `127.0.6.${1 + h}`, headers: auth }).catch(() => undefined);
        })(),
      );
    }
    await sleep(1000);
  }
  const saude: number[] = [];
  const light: number[] = [];
  const tokenB = await tokenOf(server.httpPort, B);
  const probes = (async () => {
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      saude.push((await ask(server.httpPort, 'GET', '/saude', { from: '127.0.7.1' })).ms);
      light.push((await ask(server.httpPort, 'GET', LIGHT, { from: '127.0.7.2', headers: { Authorization: `Bearer ${tokenB}` } })).ms);
      await sleep(100);
    }
  })();
  const rtts = await ackRoundTrips(server.udpPort, '20000000', SECONDS, startAt);
  await probes;
  stop = true;
  await Promise.all(work);
  saude.sort((a, b) => a - b);
  light.sort((a, b) => a - b);
  return `ACK p99 ${ms(percentile(rtts, 99))}; /saude p99 ${ms(percentile(saude, 99))}; customer B's /consumo (a day) p50 ${ms(percentile(light, 50))}, p99 ${ms(percentile(light, 99))}`;
}

/** 4. A minimal keyed meter in this process: reads, answers commands, reports an event; optionally a replayer of its lines. */
async function reconnectTime(server: RunningTarget, replay: boolean): Promise<string> {
  const meter = createSocket('udp4');
  meter.bind(0, '127.0.0.1');
  await once(meter, 'listening');
  const signer = new MeterSigner(KEY);
  const captured: string[] = [];
  meter.on('message', (message) => {
    for (const line of message.toString('latin1').split('\n')) {
      const command = parseCommandLine(line);
      if (typeof command === 'string' || command.matricula !== KEYED) continue;
      const answer = signer.counted(serializeAnswer({ id: command.id, matricula: KEYED, outcome: 'executado', detail: command.type }));
      captured.push(answer);
      meter.send(answer, server.udpPort, '127.0.0.1');
    }
  });
  meter.send(signLine(`MEDICAO;${KEYED};${new Date().toISOString()};${Date.now() % 1_000_000}`, KEY), server.udpPort, '127.0.0.1');
  const event = signer.counted(serializeEvent({ matricula: KEYED, timestamp: Date.now() - 1000, type: 'violacao_tampa', detail: 'bench' }));
  captured.push(event);
  meter.send(event, server.udpPort, '127.0.0.1');
  await sleep(300);
  const attacker = createSocket('udp4');
  attacker.bind(0, '127.0.0.1');
  await once(attacker, 'listening');
  let misdirected = 0;
  attacker.on('message', (message) => (misdirected += message.toString('latin1').split('\n').filter((line) => line.startsWith('COMANDO;')).length));
  const timer = replay ? setInterval(() => captured.forEach((line) => attacker.send(line, server.udpPort, '127.0.0.1')), 50) : undefined;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const posted = await ask(server.httpPort, 'POST', `/medidores/${KEYED}/comandos`, { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${OPERATOR}` }, body: JSON.stringify({ tipo: i % 2 === 0 ? 'religacao' : 'corte' }) });
    const id = (JSON.parse(posted.body) as { id: string }).id;
    for (;;) {
      const state = (JSON.parse((await ask(server.httpPort, 'GET', `/comandos/${id}`, { headers: { Authorization: `Bearer ${OPERATOR}` } })).body) as { estado: string }).estado;
      if (state !== 'pendente' && state !== 'enviado') break;
      if (performance.now() - started > 30_000) break;
      await sleep(20);
    }
    times.push(performance.now() - started);
  }
  if (timer !== undefined) clearInterval(timer);
  meter.close();
  attacker.close();
  times.sort((a, b) => a - b);
  return `median ${ms(percentile(times, 50))}, max ${ms(times.at(-1) ?? NaN)} over 5 commands; commands sent to the replayer: ${misdirected}`;
}

/** 5. A customer's webhook delivery latency and the server's peak RSS during an event flood from invented meters. */
async function eventFlood(server: RunningTarget, hookTimes: Map<string, number>): Promise<string> {
  const idle = await server.rssBytes();
  const flood = createSocket('udp4');
  flood.bind(0, '127.0.0.1');
  await once(flood, 'listening');
  const at = Date.now() - 60_000;
  for (let m = 0; m < INVENTED; m++) flood.send(`MEDICAO;${30_000_000 + m};${new Date(at).toISOString()};1`, server.udpPort, '127.0.0.1');
  await sleep(1000);
  let peak = idle;
  const sampler = setInterval(() => void server.rssBytes().then((rss) => (peak = Math.max(peak, rss))), 100);
  const started = performance.now();
  for (let m = 0; m < INVENTED; m++) {
    const lines = Array.from({ length: 40 }, (_, i) => serializeEvent({ matricula: String(30_000_000 + m), timestamp: at + 1000 + i, type: i % 2 === 0 ? 'violacao_tampa' : 'falta_energia', detail: 'inventado' }));
    for (let i = 0; i < 40; i += 8) flood.send(lines.slice(i, i + 8).join('\n'), server.udpPort, '127.0.0.1');
    if (m % 100 === 0) await sleep(1);
  }
  const floodMs = performance.now() - started;
  // The customer's own meter, right after the flood.
  const customer = createSocket('udp4');
  customer.bind(0, '127.0.0.1');
  await once(customer, 'listening');
  customer.send(`MEDICAO;${B};${new Date().toISOString()};500`, server.udpPort, '127.0.0.1');
  await sleep(200);
  const eventAt = Date.now() - 100;
  const sentAt = performance.now();
  customer.send(`EVENTO;${B};${new Date(eventAt).toISOString()};falta_energia;ultimo suspiro`, server.udpPort, '127.0.0.1');
  const key = `${B}|${new Date(eventAt).toISOString()}`;
  const deadline = Date.now() + 60_000;
  while (!hookTimes.has(key) && Date.now() < deadline) await sleep(20);
  clearInterval(sampler);
  flood.close();
  customer.close();
  const delivered = hookTimes.get(key);
  const metrics = (await ask(server.httpPort, 'GET', '/metricas')).body;
  const stored = /consumo_ocorrencias_total\{resultado="armazenada"\} (\d+)/.exec(metrics)?.[1];
  const limited = /consumo_ocorrencias_total\{resultado="sem_cliente_limitada"\} (\d+)/.exec(metrics)?.[1];
  return (
    `${INVENTED} invented meters x 40 events sent in ${(floodMs / 1000).toFixed(1)} s: ${stored} stored, ${limited} held back by the budget; ` +
    `the customer's falta_energia delivered to the webhook in ${delivered === undefined ? 'never (60 s)' : ms(delivered - sentAt)}; RSS idle ${(idle / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`
  );
}

const dir = await mkdtemp(join(tmpdir(), 'consumo-justica-'));
const hookTimes = new Map<string, number>();
const hook = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const match = /"data_hora":"([^"]+)","matricula":"(\d+)","tipo":"falta_energia"/.exec(body);
    if (match !== null) hookTimes.set(`${match[2]}|${match[1]}`, performance.now());
    response.writeHead(204).end();
  });
});
hook.listen(0, '127.0.0.1');
await once(hook, 'listening');
try {
  const dataDir = join(dir, 'data');
  await preload(dataDir);
  const env = {
    DATA_DIR: dataDir,
    API_TOKEN_ADMIN: OPERATOR,
    AUTENTICACAO_API: 'obrigatoria',
    CHAVES_MEDIDORES: join(dataDir, 'chaves-medidores.txt'),
    WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/gancho`,
    WEBHOOK_SEGREDO: 'segredo-do-gancho-de-bench',
    HTTP_MAX_CONEXOES_POR_ORIGEM: '10000',
  };
  const server = await startTarget('projeto', env);
  try {
    process.stdout.write(`1. a real customer's login, once a second for ${SECONDS} s from its own address\n`);
    process.stdout.write(`   alone (baseline)                      ${await logins(server, 0)}\n`);
    process.stdout.write(`   while 100 addresses guess under their limit ${await logins(server, 100)}\n`);
    process.stdout.write(`2-3. one meter's ACK (a reading every 20 ms), /saude and another customer's one-day /consumo, ${SECONDS} s\n`);
    process.stdout.write(`   alone (baseline)                      ${await loaded(server, false, Date.now() - 2 * 3_600_000)}\n`);
    process.stdout.write(`   50 /eventos replay loops + 4 heavy requests of customer A: ${await loaded(server, true, Date.now() - 3_600_000)}\n`);
    process.stdout.write('4. religacao/corte of a keyed meter, from POST to executado\n');
    process.stdout.write(`   alone (baseline)                      ${await reconnectTime(server, false)}\n`);
    process.stdout.write(`   while its captured lines are replayed every 50 ms ${await reconnectTime(server, true)}\n`);
    process.stdout.write('5. an event flood in invented meters\' names\n');
    process.stdout.write(`   ${await eventFlood(server, hookTimes)}\n`);
  } finally {
    await server.stop();
  }
} finally {
  hook.close();
  await rm(dir, { recursive: true, force: true });
}
