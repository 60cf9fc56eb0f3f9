/**
 * `/saude` and `/metricas`: the histogram arithmetic (property-tested), the
 * text format (checked line by line), and the numbers after real traffic.
 */
import fc from 'fast-check';
import t from 'tap';
import { ExpositionWriter, Histogram } from '../../server/metrics.js';
import { call, exchange, readingLine, recentTimestamps, request, startTestServer, udpClient } from '../helpers.js';

t.test('a histogram counts every observation in the first bucket whose bound holds it; cumulative, with sum and count', async () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 12 }).map((bounds) => [...bounds].sort((a, b) => a - b)),
      fc.array(fc.double({ min: -2e6, max: 2e6, noNaN: true }), { maxLength: 200 }),
      (bounds, values) => {
        const histogram = new Histogram(bounds);
        for (const value of values) histogram.observe(value);
        const cumulative = histogram.cumulative();
        t.same(cumulative.map(([le]) => le), [...bounds.map(String), '+Inf']);
        bounds.forEach((bound, i) => t.equal(cumulative[i]?.[1], values.filter((value) => value <= bound).length, `le=${bound}`));
        t.equal(cumulative[bounds.length]?.[1], values.length);
        t.equal(histogram.count, values.length);
        t.equal(histogram.sum, values.reduce((sum, value) => sum + value, 0));
      },
    ),
    { numRuns: 300 },
  );
});

t.test('label values are escaped as the text format requires', async () => {
  const text = new ExpositionWriter().family('x_total', 'counter', 'help').sample('x_total', 1, { rota: 'a"b\\c\nd' }).text();
  t.equal(text, '# HELP x_total help\n# TYPE x_total counter\nx_total{rota="a\\"b\\\\c\\nd"} 1\n');
});

/** Parses the exposition text strictly: every line a comment or `name{labels} value`. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  t.ok(text.endsWith('\n'), 'ends with a line feed');
  for (const line of text.slice(0, -1).split('\n')) {
    if (/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+|\+Inf|NaN)$/.exec(line);
    if (match === null) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

t.test('after real traffic, /metricas reports exactly what happened', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const meter = await udpClient(t, server.udp.port);
  const times = recentTimestamps(5);
  for (const [i, time] of times.entries()) await meter.sendForAck(readingLine('13456789', time, 10 * i));
  await meter.sendForAck(`garbage\n${readingLine('13456789', times[4] as string, 40)}`);
  for (let i = 0; i < 7; i++) await call(port, 'GET', '/alerta-consumo?matricula=13456789');
  for (let i = 0; i < 3; i++) await call(port, 'GET', '/nada');
  await exchange(port, ['BAD\r\n\r\n'], { count: 1, waitForClose: true });
  const answer = await call(port, 'GET', '/metricas');
  t.equal(answer.status, 200);
  t.equal(answer.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const samples = parseExposition(answer.body);
  t.equal(samples.get('consumo_leituras_armazenadas_total'), 5);
  t.equal(samples.get('consumo_leituras_duplicadas_total'), 1);
  t.equal(samples.get('consumo_linhas_malformadas_total'), 1);
  t.equal(samples.get('consumo_acks_enviados_total'), 6);
  t.equal(samples.get('consumo_http_requisicoes_total{rota="/alerta-consumo",status="200"}'), 7);
  t.equal(samples.get('consumo_http_requisicoes_total{rota="(desconhecida)",status="404"}'), 3);
  t.equal(samples.get('consumo_http_requisicoes_total{rota="(protocolo)",status="400"}'), 1);
  t.equal(samples.get('consumo_http_duracao_segundos_count{rota="/alerta-consumo"}'), 7);
  t.equal(samples.get('consumo_http_duracao_segundos_bucket{rota="/alerta-consumo",le="+Inf"}'), 7);
  t.equal(samples.get('consumo_lote_leituras_count'), samples.get('consumo_commit_segundos_count'), 'every batch timed');
  t.ok((samples.get('consumo_http_conexoes_abertas') ?? 0) >= 1, 'the scraping connection is open');
  const buckets = [...samples.entries()].filter(([name]) => name.startsWith('consumo_http_duracao_segundos_bucket{rota="/alerta-consumo"')).map(([, value]) => value);
  t.same(buckets, [...buckets].sort((a, b) => a - b), 'buckets are cumulative');
});

t.test('/saude: 200 with the storage ready, 503 once it is not', async (t) => {
  const server = await startTestServer(t);
  const healthy = await call(server.http.port, 'GET', '/saude');
  t.equal(healthy.status, 200);
  t.has(healthy.json(), { status: 'ok', armazenamento: 'ok' });
  t.type(healthy.json().tempo_atividade_s, 'number');
  const head = await exchange(server.http.port, [request('HEAD', '/saude')], { count: 1, headOnly: [true] });
  t.equal(head.responses[0]?.status, 200, 'HEAD works for probes');
  await server.stores.store.close();
  t.has(healthy.json(), { servidor: { estado: 'ok', pid: process.pid, leituras_aguardando_banco: 0 }, banco: { estado: 'ok', tipo: 'arquivos' } }, 'the server and its storage, apart');
  t.type(healthy.json().banco.latencia_ms, 'number');
  const closed = await call(server.http.port, 'GET', '/saude');
  t.equal(closed.status, 503);
  t.has(closed.json(), { status: 'degradado', armazenamento: 'indisponivel', servidor: { estado: 'ok' }, banco: { estado: 'indisponivel' } });
  const alive = await call(server.http.port, 'GET', '/saude?escopo=servidor');
  t.equal(alive.status, 200, 'liveness: this server is fine although its storage is not');
  t.has(alive.json(), { status: 'ok', servidor: { estado: 'ok' } });
  t.equal(alive.json().banco, undefined, 'and it does not ask the storage');
});
