/**
 * The server as users run it: a separate OS process, started, signalled,
 * killed and restarted over the same DATA_DIR. The import command runs as
 * the function its bin calls (its own process adds nothing under test here).
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parseAckDatagram } from '../../protocol/meter-protocol.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { call, comparableBody, parseResponses, readingLine, tempDir, until } from '../helpers.js';
import { spawnServer, type ServerProcess } from './server-process.js';
import { run as importCommand } from '../../cli/import.js';

const MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));

/** `npm run import` as a function (cli/import.ts's run): the command's contract, without a Node start per run. */
async function runImport(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await importCommand(args, env, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  return { status, stdout, stderr };
}

async function stop(server: ServerProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = once(server.child, 'exit');
  server.child.kill(signal);
  const [code] = await exited;
  return code as number | null;
}

t.test('a bad setting stops start-up with one line naming it', async (t) => {
  // What the process does with a bad setting: one variable, one flag, one unknown flag (config.test.ts checks every setting's rule in-process).
  const cases: Array<[Record<string, string>, string[], string]> = [
    [{ TZ_LEGADO: 'Mars/Olympus' }, [], 'TZ_LEGADO'],
    [{}, ['--http-port', '99999'], '--http-port'],
    [{}, ['--porta-errada', '1'], 'command line'],
  ];
  for (const [env, args, setting] of cases) {
    const result = spawnSync(process.execPath, [MAIN, ...args], { env: { ...process.env, DATA_DIR: '/nonexistent/never-created', ...env }, encoding: 'utf8' });
    t.equal(result.status, 1, setting);
    const lines = result.stderr.trim().split('\n');
    t.equal(lines.length, 1, `${setting}: one line`);
    t.match(lines[0], `invalid setting ${setting}`, setting);
    t.equal(result.stdout, '', `${setting}: nothing started`);
  }
});

t.test('SIGTERM stores pending readings, exits 0; a restart answers the same', async (t) => {
  const dataDir = await tempDir(t);
  const first = await spawnServer(t, dataDir);
  const meter = createSocket('udp4');
  t.teardown(() => meter.close());
  const base = Date.now() - 10 * 60_000;
  const lines = [0, 1, 2, 3, 4].map((i) => readingLine('13456789', formatIsoTimestamp(base + i * 60_000), [100, 110, 120, 130, 160][i]!));
  const acked = once(meter, 'message');
  meter.send(lines.join('\n'), first.udpPort, '127.0.0.1');
  await acked;
  const routes = ['/validacao-usuario?matricula=13456789', '/medicoes/ultima-medicao?matricula=13456789', '/gerar-fatura?matricula=13456789', '/alerta-consumo?matricula=13456789'];
  const before = await Promise.all(routes.map((route) => call(first.httpPort, 'GET', route).then((r) => comparableBody(r.body))));
  t.equal(await stop(first, 'SIGTERM'), 0);
  t.match(first.logs(), '"msg":"stopped"');
  const second = await spawnServer(t, dataDir);
  const after = await Promise.all(routes.map((route) => call(second.httpPort, 'GET', route).then((r) => comparableBody(r.body))));
  t.same(after, before);
  t.equal(JSON.parse(after[3]!).alerta, true);
  t.equal(await stop(second, 'SIGINT'), 0);
});

/**
 * Rounds of the crash loops: two show the property (the second starts from
 * what the first stop left, a torn line included); more with CRASH_ROUNDS
 * (e.g. 50 for a long soak).
 */
const CRASH_ROUNDS = Number(process.env.CRASH_ROUNDS ?? 2);

/** Sends GET requests back to back on one keep-alive connection until it closes: the statuses as they come, and when it closed. */
function httpLoad(port: number): { readonly statuses: readonly number[]; readonly closed: Promise<number[]> } {
  const statuses: number[] = [];
  const socket = connect(port, '127.0.0.1');
  const ask = (): boolean => socket.write(`GET /alerta-consumo?matricula=${statuses.length % 50} HTTP/1.1\r\nHost: a\r\n\r\n`);
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('connect', ask);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const { responses, rest } = parseResponses(buffered);
    buffered = rest;
    for (const response of responses) statuses.push(response.status);
    if (responses.length > 0 && !socket.destroyed) ask();
  });
  socket.on('error', () => undefined);
  return { statuses, closed: new Promise((resolve) => socket.on('close', () => resolve(statuses))) };
}

/** HTTP answers each client has had before its server is stopped: the stop lands on a connection in use. */
const HTTP_ANSWERS_BEFORE_STOP = 25;

/**
 * Meters stream readings (stop-and-wait per meter) while the server is
 * stopped by `signal` at a random moment, CRASH_ROUNDS times; a last start
 * must hold every acknowledged reading exactly once. With SIGTERM, HTTP
 * clients are busy too, every stop must be clean (exit 0, no torn line) and
 * every request answered must have been answered properly.
 */
async function stopLoop(t: Test, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const dataDir = await tempDir(t);
  const METERS = 50;
  /** Per matricula: timestamps acknowledged so far. */
  const acked = new Map<string, Set<number>>();
  const start = Date.now() - 60 * 60_000;
  let sequence = 0;
  const httpStatuses: number[] = [];
  for (let round = 0; round < CRASH_ROUNDS; round++) {
    // Readings 1 ms apart, as fast as stop-and-wait goes: durability is under test, not the interval rule.
    const server = await spawnServer(t, dataDir, { MEDICAO_INTERVALO_MINIMO_MS: '0' });
    if (signal === 'SIGTERM' && round > 0) t.match(server.logs(), '"tornBytes":0', `round ${round}: the last stop left no half-written line`);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const heardThisRound = new Set<string>();
    // Stop-and-wait per meter: the next reading goes once the previous is acked.
    const next = new Map<string, number>();
    const send = (matricula: string): void => {
      const timestamp = next.get(matricula) as number;
      socket.send(readingLine(matricula, formatIsoTimestamp(timestamp), timestamp - start), server.udpPort, '127.0.0.1');
    };
    socket.on('message', (message) => {
      // One ACK datagram may carry lines for several meters of this socket.
      for (const { matricula, timestamp } of parseAckDatagram(message).values) {
        if (next.get(matricula) !== timestamp) continue;
        let set = acked.get(matricula);
        if (set === undefined) acked.set(matricula, (set = new Set()));
        set.add(timestamp);
        heardThisRound.add(matricula);
        next.set(matricula, start + ++sequence);
        send(matricula);
      }
    });
    for (let m = 0; m < METERS; m++) {
      next.set(`${m}`, start + ++sequence);
      send(`${m}`);
    }
    const clients = signal === 'SIGTERM' ? [httpLoad(server.httpPort), httpLoad(server.httpPort)] : [];
    // Stopped once the load is underway (every meter acknowledged, every HTTP client answered), however slow a loaded machine is, then at a random moment.
    await until(
      async () => `round ${round}: the load to be underway (${heardThisRound.size} of ${METERS} meters acknowledged; HTTP answers ${clients.map((client) => client.statuses.length).join(', ')})`,
      async () => (heardThisRound.size === METERS && clients.every((client) => client.statuses.length >= HTTP_ANSWERS_BEFORE_STOP) ? true : undefined),
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 500));
    const code = await stop(server, signal);
    if (signal === 'SIGTERM') t.equal(code, 0, `round ${round}: SIGTERM under load exits 0`);
    for (const statuses of await Promise.all(clients.map((client) => client.closed))) httpStatuses.push(...statuses);
    socket.close();
  }
  const total = [...acked.values()].reduce((sum, set) => sum + set.size, 0);
  t.ok(total >= METERS * CRASH_ROUNDS, `acknowledged ${total} readings across ${CRASH_ROUNDS} stops by ${signal}`);
  if (signal === 'SIGTERM') {
    t.ok(httpStatuses.length >= 2 * HTTP_ANSWERS_BEFORE_STOP * CRASH_ROUNDS, `${httpStatuses.length} HTTP answers meanwhile`);
    t.same(new Set(httpStatuses.filter((status) => status !== 200 && status !== 404 && status !== 409)), new Set(), 'every one a proper answer');
  }
  // A last start recovers the log (cutting a torn line if any) and must hold every ack.
  const last = await spawnServer(t, dataDir);
  const log = await readFile(join(dataDir, 'medicoes.log'), 'utf8');
  const stored = new Map<string, number>();
  for (const line of log.split('\n').filter((l) => l.length > 0)) {
    const [time, matricula] = line.split(';') as [string, string];
    const key = `${matricula}@${Date.parse(time)}`;
    stored.set(key, (stored.get(key) ?? 0) + 1);
  }
  let missing = 0;
  let repeated = 0;
  for (const [matricula, set] of acked) {
    for (const timestamp of set) {
      const count = stored.get(`${matricula}@${timestamp}`) ?? 0;
      if (count === 0) missing++;
      if (count > 1) repeated++;
    }
  }
  t.equal(missing, 0, 'every acknowledged reading is in the log');
  t.equal(repeated, 0, 'and only once');
  t.equal(await stop(last, 'SIGTERM'), 0);
}

t.test('kill -9 mid-ingest, again and again, never loses an acknowledged reading', (t) => stopLoop(t, 'SIGKILL'));

t.test('SIGTERM while meters and HTTP clients are busy: clean stops, nothing acknowledged lost', (t) => stopLoop(t, 'SIGTERM'));

t.test('a fresh start invents no customers; CLIENTES_EXEMPLO=sim seeds the examples', async (t) => {
  const plain = await spawnServer(t, join(await tempDir(t), 'data'));
  const none = await call(plain.httpPort, 'GET', '/clientes');
  t.same(none.json().clientes, [], 'no example customer in a new DATA_DIR');
  await stop(plain, 'SIGTERM');
  const seeded = await spawnServer(t, join(await tempDir(t), 'data'), { CLIENTES_EXEMPLO: 'sim' });
  const listed = (await call(seeded.httpPort, 'GET', '/clientes')).json().clientes as Array<{ matricula: string }>;
  t.equal(listed.length, 5, 'the five examples');
  t.ok(listed.some((customer) => customer.matricula === '13456789'));
  await stop(seeded, 'SIGTERM');
});

t.test('the original system’s files import and answer', async (t) => {
  const dir = await tempDir(t);
  const dataDir = join(dir, 'data');
  await writeFile(join(dir, 'dados_clientes.txt'), 'amancio123;13456789\njoana;22334455\n');
  // Newest first, local time (America/Sao_Paulo, UTC-3), as the original writes it.
  await writeFile(
    join(dir, 'medicoes.txt'),
    [
      '05-03-2023 16:00:00;13456789;1350',
      '05-03-2023 15:00:00;13456789;1302',
      '05-03-2023 15:00:00;22334455;10',
      '05-03-2023 14:00:00;13456789;1290',
      'not a line',
      '05-03-2023 13:00:00;13456789;1280',
      '05-03-2023 12:00:00;13456789;1270',
    ].join('\n'),
  );
  const result = await runImport(['--clientes', join(dir, 'dados_clientes.txt'), '--medicoes', join(dir, 'medicoes.txt'), '--data-dir', dataDir], { ...process.env, TZ_LEGADO: 'America/Sao_Paulo' });
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, 'customers: 2 added');
  t.match(result.stdout, 'readings: 6 stored, 0 already stored, 0 older than what is stored, 1 unreadable lines (5)');
  t.equal(
    await readFile(join(dataDir, 'medicoes.log'), 'utf8'),
    [
      '2023-03-05T15:00:00.000Z;13456789;1270',
      '2023-03-05T16:00:00.000Z;13456789;1280',
      '2023-03-05T17:00:00.000Z;13456789;1290',
      '2023-03-05T18:00:00.000Z;22334455;10',
      '2023-03-05T18:00:00.000Z;13456789;1302',
      '2023-03-05T19:00:00.000Z;13456789;1350',
      '',
    ].join('\n'),
    'oldest first, UTC',
  );
  const again = await runImport(['--medicoes', join(dir, 'medicoes.txt'), '--data-dir', dataDir, '--tz-legado', 'America/Sao_Paulo']);
  t.match(again.stdout, 'readings: 0 stored, 6 already stored, 0 older than what is stored', 'importing twice stores nothing twice');

  const server = await spawnServer(t, dataDir);
  t.has((await call(server.httpPort, 'POST', '/validacao-usuario', { username: 'joana' })).json(), { valido: true, username: 'joana', matricula: '22334455' });
  t.same((await call(server.httpPort, 'POST', '/gerar-fatura', { matricula: '13456789' })).json().valor_pagamento, 144);
  t.same((await call(server.httpPort, 'POST', '/alerta-consumo', { matricula: '13456789' })).json().periodos, [10, 10, 12, 48]);
  t.equal((await call(server.httpPort, 'POST', '/validacao-usuario', { username: 'bia.souza' })).status, 404, 'no example customers seeded into an imported directory');
  const locked = await runImport(['--medicoes', join(dir, 'medicoes.txt'), '--data-dir', dataDir]);
  t.equal(locked.status, 1, 'the import refuses a directory a running server owns');
  t.match(locked.stderr, 'belongs to running process');
  await stop(server, 'SIGTERM');
});

t.test('import tells the truth: it names every customer conflict and every meter whose register goes down', async (t) => {
  const dir = await tempDir(t);
  const dataDir = join(dir, 'data');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dataDir);
  await writeFile(join(dataDir, 'clientes.txt'), 'dani;09812389\n');
  await writeFile(join(dir, 'dados_clientes.txt'), 'otavio02;09812389\ndani;55555555\nnovo;77777777\n');
  await writeFile(
    join(dir, 'medicoes.txt'),
    ['05-03-2023 16:00:00;03241897;90', '05-03-2023 15:00:00;03241897;1500', '05-03-2023 14:00:00;03241897;1400', '05-03-2023 14:00:00;77777777;5'].join('\n'),
  );
  const result = await runImport(['--clientes', join(dir, 'dados_clientes.txt'), '--medicoes', join(dir, 'medicoes.txt'), '--data-dir', dataDir, '--tz-legado', 'America/Sao_Paulo']);
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, 'customers: 1 added, 2 not added');
  t.match(result.stdout, '    otavio02: matrícula 09812389 already belongs to dani');
  t.match(result.stdout, '    dani: username already has matrícula 09812389');
  t.match(result.stdout, '    the register of 03241897 goes down once in the file, first at 05-03-2023 16:00:00');
  t.notMatch(result.stdout, '77777777 goes down');
});

t.test('tariffs import from ANEEL\'s file idempotently, report what they leave out, and /tarifas lists those in force', async (t) => {
  const dir = await tempDir(t);
  const dataDir = join(dir, 'data');
  const header = 'DatGeracaoConjuntoDados;DscREH;SigAgente;NumCNPJDistribuidora;DatInicioVigencia;DatFimVigencia;DscBaseTarifaria;DscSubGrupo;DscModalidadeTarifaria;DscClasse;DscSubClasse;DscDetalhe;NomPostoTarifario;DscUnidadeTerciaria;SigAgenteAcessante;VlrTUSD;VlrTE';
  const row = (agent: string, start: string, end: string, modality: string, posto: string, tusd: string, te: string, subclass = 'Residencial') =>
    ['2026-11-02', 'REH 1/2026', agent, '0', start, end, 'Tarifa de Aplicação', 'B1', modality, 'Residencial', subclass, 'Não se aplica', posto, 'MWh', 'Não se aplica', tusd, te].map((f) => `"${f}"`).join(';');
  const csv = [
    header,
    row('TESTE-D', '2025-04-22', '2026-04-21', 'Convencional', 'Não se aplica', '400,00', '290,00'),
    row('TESTE-D', '2026-04-22', '2027-04-21', 'Convencional', 'Não se aplica', '412,38', '294,59'),
    row('TESTE-D', '2026-04-22', '2027-04-21', 'Branca', 'Ponta', '1400,00', '480,00'),
    row('TESTE-D', '2026-04-22', '2027-04-21', 'Branca', 'Intermediário', '900,00', '300,00'),
    row('TESTE-D', '2026-04-22', '2027-04-21', 'Branca', 'Fora ponta', '350,00', '270,00'),
    row('TESTE-D', '2026-04-22', '2027-04-21', 'Convencional', 'Não se aplica', '100,00', '100,00', 'Baixa Renda'),
    row('OUTRA-D', '2026-04-22', '2027-04-21', 'Convencional', 'Não se aplica', '1,00', '1,00'),
  ].join('\r\n');
  const file = join(dir, 'tarifas.csv');
  await writeFile(file, Buffer.from(csv, 'latin1'));
  const run = () => runImport(['--tarifas', file, '--distribuidora', 'TESTE-D', '--data-dir', dataDir]);
  const first = await run();
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, '5 added, 0 already stored, 0 refused');
  t.match(first.stdout, 'rows left out: 1 of other distributors, 1 of other subclasses (e.g. the legacy "Baixa Renda" row, rural)');
  const again = await run();
  t.match(again.stdout, '0 added, 5 already stored, 0 refused', 'idempotent');
  await writeFile(file, Buffer.from([header, row('TESTE-D', '2027-01-01', '', 'Convencional', 'Não se aplica', '1,00', '1,00')].join('\n'), 'latin1'));
  const clash = await run();
  t.match(clash.stdout, '1 refused');
  t.match(clash.stdout, 'refused convencional 2027-01-01 to open: overlaps convencional 2026-04-22 to 2027-04-21');
  const missingFlag = await runImport(['--tarifas', file, '--data-dir', dataDir]);
  t.equal(missingFlag.status, 1);
  t.match(missingFlag.stderr, '--tarifas and --distribuidora go together');

  const server = await spawnServer(t, dataDir);
  const inForce = (await call(server.httpPort, 'GET', '/tarifas?data=2026-11-30')).json();
  t.same(
    inForce.tarifas.map((x: { modalidade: string; posto: string; te: number; tusd: number; total: number }) => [x.modalidade, x.posto, x.te, x.tusd, x.total]),
    [
      ['branca', 'fora_ponta', 0.27, 0.35, 0.62],
      ['branca', 'intermediario', 0.3, 0.9, 1.2],
      ['branca', 'ponta', 0.48, 1.4, 1.88],
      ['convencional', 'nao_se_aplica', 0.29459, 0.41238, 0.70697],
    ],
  );
  t.same((await call(server.httpPort, 'GET', '/tarifas?data=2025-12-01')).json().tarifas.map((x: { total: number }) => x.total), [0.69], 'the version in force that day');
  t.equal((await call(server.httpPort, 'GET', '/tarifas?data=2026-02-30')).status, 422);
  await stop(server, 'SIGTERM');
});
