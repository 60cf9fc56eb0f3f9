/**
 * CSV formula injection (issue 26 §6), as a regression test: `/ocorrencias`
 * CSV carried `=HYPERLINK(...)` from a forged event, and the fleet report
 * CSV `=1+cmd|' /C calc'!A0` from a customer's name. Every CSV the server
 * writes opens in a spreadsheet as text.
 */
import t from 'tap';
import { serializeEvent } from '../../protocol/meter-commands.js';
import { AS_OPERATOR, call, meterSocket, readingLine, startTestServer, until } from '../helpers.js';

/** A cell (after a line start or a comma, quoted or not) that starts a formula; a CR is checked in csv.test (here it ends every line). */
const DANGEROUS_CELL = /(^|,)"?[=+\-@\t]/m;

t.test('CSV formula injection: a forged event detail and a customer name open as text', async (t) => {
  const server = await startTestServer(t);
  const port = server.http.port;
  const name = "=1+cmd|' /C calc'!A0";
  t.equal((await call(port, 'POST', '/clientes', { username: name, matricula: '31415926' }, AS_OPERATOR)).status, 201);
  const meter = await meterSocket(t);
  const now = Date.now();
  meter.send(readingLine('31415926', new Date(now - 120_000).toISOString(), '10'), server.udp.port);
  meter.send(readingLine('31415926', new Date(now - 60_000).toISOString(), '12'), server.udp.port);
  await until('the readings', async () => (server.readings.ingest.counters.stored >= 2 ? true : undefined));
  for (const [i, detail] of ['=HYPERLINK("http://evil.example","clique")', '+1+1', '-2+3', '@SUM(A1)'].entries()) {
    meter.send(serializeEvent({ matricula: '31415926', timestamp: now - 30_000 + i, type: 'violacao_tampa', detail }), server.udp.port);
  }
  await until('the events', async () => (server.commands.eventIntake.counters.stored >= 4 ? true : undefined));

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: AS_OPERATOR });
    return { status: response.status, body: await response.text() };
  };
  const events = await get('/ocorrencias?matricula=31415926&formato=csv');
  t.equal(events.status, 200);
  const rows = events.body.split('\r\n').slice(1).filter((row) => row !== '');
  t.equal(rows.length, 4);
  for (const row of rows) {
    const detail = row.split(',').slice(3, -1).join(',');
    t.match(detail, /^"?'[=+\-@]/, `the detail cell is text: ${detail}`);
  }
  t.notMatch(events.body, DANGEROUS_CELL, 'no cell starts a formula');

  const today = new Date(now - 120_000).toISOString().slice(0, 10);
  const report = await get(`/relatorios?periodo=diario&inicio=${today}&fuso=UTC&formato=csv`);
  t.equal(report.status, 200);
  t.match(report.body, /\r\n31415926,'=1\+cmd\|' \/C calc'!A0,/, "the name is written with its ' prefix");
  t.notMatch(report.body, DANGEROUS_CELL, 'no cell starts a formula');
});
