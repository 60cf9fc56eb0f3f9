/**
 * Several servers on one PostgreSQL (issue 18): what one stores reaches
 * every other's live view and fleet within a second (LISTEN/NOTIFY), the
 * fleet survives a restart, a command posted to any server is delivered by
 * the one the meter talks to, and a lost feed connection resyncs.
 */
import t from 'tap';
import { channelOf, decodeChange, encodeChange, MAX_PAYLOAD_BYTES } from '../../database/postgres/pg-change-feed.js';
import { serializeAnswer } from '../../protocol/meter-commands.js';
import { AS_OPERATOR, call, meterSocket, openEvents, readingLine, recentTimestamps, startTestServer, until } from '../helpers.js';
import { testPostgres } from '../postgres.js';
import fc from 'fast-check';
import type { StoredReading } from '../../database/store.js';

const postgres = await testPostgres(t);

t.test('change payloads: any batch of readings splits into notifications under the limit and reads back the same', async (t) => {
  const reading = fc.record({
    matricula: fc.stringMatching(/^[0-9]{1,20}$/),
    timestamp: fc.integer({ min: 0, max: 253_402_300_799_999 }),
    consumo: fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }),
    quality: fc.constantFrom(undefined, 1, 4, 9),
    quantities: fc.option(fc.record({ voltage: fc.integer({ min: 0, max: 999_999 }), frequency: fc.integer({ min: 0, max: 99_999 }) }), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(reading, { maxLength: 600 }), (readings) => {
      const clean = readings.map((r) => {
        const { quality, quantities, ...rest } = r;
        return { ...rest, ...(quality === undefined ? {} : { quality }), ...(quantities === undefined ? {} : { quantities }) } as StoredReading;
      });
      const payloads = encodeChange({ kind: 'leituras', readings: clean }, 'origem', 1234);
      for (const payload of payloads) if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) return false;
      const back = payloads.flatMap((payload) => {
        const decoded = decodeChange(payload);
        return decoded?.change.kind === 'leituras' && decoded.origin === 'origem' && decoded.sentAt === 1234 ? decoded.change.readings : [];
      });
      t.same(back, clean);
      return true;
    }),
    { numRuns: 60 },
  );
  t.equal(decodeChange('v1|x|1|Z|nada'), undefined, 'an unknown kind is not a change');
  t.equal(decodeChange('v1|x|1|L|lixo'), undefined, 'nor a malformed reading');
  t.equal(decodeChange('NOTIFY de outra aplicação'), undefined);
});

t.test('three servers on one database: live readings, events, the fleet, commands, restarts and a lost feed', async (t) => {
  const env = { STORAGE: 'postgres', DATABASE_URL: postgres.url, PG_SCHEMA: postgres.schema(t), PG_POOL_MAX: '4' };
  const [a, b, c] = await Promise.all([startTestServer(t, { env }), startTestServer(t, { env }), startTestServer(t, { env })]);
  const meter = await meterSocket(t);
  const { received } = meter;

  // A reading taken in by A appears on C's /eventos, and in B's and C's /frota, within a second.
  const stream = await openEvents(c!.http.port, '/eventos?matricula=13456789');
  t.teardown(() => stream.close());
  const [time] = recentTimestamps(1, 0);
  meter.send(readingLine('13456789', time as string, 100), a!.udp.port);
  await stream.waitFor((events) => events.some((e) => e.event === 'medicao'), 1000);
  t.same(JSON.parse(stream.events.find((e) => e.event === 'medicao')!.data), { matricula: '13456789', data_hora: time, consumo: 100 });
  for (const server of [b!, c!]) {
    const frota = (await call(server.http.port, 'GET', '/frota?silencio_s=60')).json();
    t.same([frota.medidores_vistos, frota.medidores_silenciosos], [1, 0], 'known and not silent on every server');
  }

  // An event taken in by A: C's fleet knows the meter is without power, and its stream says so.
  meter.send(`EVENTO;13456789;${new Date(Date.now() - 500).toISOString()};falta_energia;ultimo suspiro`, a!.udp.port);
  await stream.waitFor((events) => events.some((e) => e.event === 'ocorrencia'), 1000);
  await until('C to count the meter without power', async () => ((await call(c!.http.port, 'GET', '/frota')).json().medidores_sem_energia === 1 ? true : undefined), 1000);

  // A command posted to C is delivered by A, which the meter talks to, exactly once.
  const posted = await call(c!.http.port, 'POST', '/medidores/13456789/comandos', { tipo: 'leitura' }, AS_OPERATOR);
  t.equal(posted.status, 202, posted.body);
  const id = posted.json().id as string;
  await until('the command line', async () => (received.some((line) => line.startsWith(`COMANDO;${id};`)) ? true : undefined), 3000);
  meter.send(serializeAnswer({ id, matricula: '13456789', outcome: 'executado', detail: 'registro 100' }), a!.udp.port);
  const done = await until('the command executed, seen from B', async () => {
    const command = (await call(b!.http.port, 'GET', `/comandos/${id}`)).json();
    return command.estado === 'executado' ? command : undefined;
  }, 3000);
  t.equal(done.tentativas, 1, 'sent once');
  t.equal(received.filter((line) => line.startsWith(`COMANDO;${id};`)).length, 1, 'one line reached the meter');
  t.equal(a!.commands.delivery.counters.sent + b!.commands.delivery.counters.sent + c!.commands.delivery.counters.sent, 1, 'by one server');
  await stream.waitFor((events) => events.filter((e) => e.event === 'comando').length >= 2, 1000);

  // A restart keeps /frota as it was.
  const before = (await call(b!.http.port, 'GET', '/frota?silencio_s=3600')).json();
  await b!.close();
  const again = await startTestServer(t, { env });
  const after = (await call(again.http.port, 'GET', '/frota?silencio_s=3600')).json();
  for (const field of ['medidores_vistos', 'medidores_silenciosos', 'medidores_sem_energia', 'medidores_cortados']) t.equal(after[field], before[field], `${field} after a restart`);

  // Regression (issue 27: a meter silent 76 s on one server, not on the other): silence is judged from the
  // newest reading the servers share, the same on the one that took it, one that heard of it, one started after.
  meter.send(readingLine('77777', new Date(Date.now() - 90_000).toISOString(), 7), a!.udp.port);
  for (const [name, server] of [['A', a!], ['C', c!], ['B restarted', again]] as const) {
    const silent = await until(`${name} to list 77777 as silent`, async () => {
      const frota = (await call(server.http.port, 'GET', '/frota?silencio_s=60')).json() as { silenciosos: Array<{ matricula: string; silencio_s: number }> };
      return frota.silenciosos.find((entry) => entry.matricula === '77777');
    }, 5000);
    t.ok(silent.silencio_s >= 89 && silent.silencio_s <= 96, `${name}: silent for ${silent.silencio_s} s, since its newest reading`);
  }

  // C's feed connection is killed: it reconnects, and what A stored meanwhile is in C's fleet.
  // Only this schema's feed connections (the server may be shared with other test files): their last query LISTENs on its channel.
  await postgres.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'consumo-inteligente-feed' AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'", [channelOf(env.PG_SCHEMA)]);
  meter.send(readingLine('55555', new Date(Date.now() - 100).toISOString(), 5), a!.udp.port);
  await until('C to know the new meter', async () => ((await call(c!.http.port, 'GET', '/frota?silencio_s=60')).json().medidores_vistos === 3 ? true : undefined), 10_000);
  const metrics = await until('C to have reconnected', async () => {
    const text = (await call(c!.http.port, 'GET', '/metricas')).body;
    return /consumo_notificacoes_reconexoes_total [1-9]/.test(text) && /consumo_notificacoes_ouvindo 1/.test(text) ? text : undefined;
  }, 10_000);
  t.match(metrics, /consumo_notificacoes_total\{resultado="recebida"\} [1-9]/);
  t.match(metrics, /consumo_pg_conexoes\{estado="maximo"\} 4/);
  t.match(metrics, /consumo_notificacoes_atraso_segundos [0-9.]+/);

  const health = (await call(c!.http.port, 'GET', '/saude')).json();
  t.has(health, { status: 'ok', servidor: { estado: 'ok' }, banco: { estado: 'ok', tipo: 'postgres', notificacoes: 'ouvindo', conexoes: { maximo: 4 } } });
});
