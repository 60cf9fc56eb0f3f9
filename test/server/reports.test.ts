/**
 * Reports: a meter's day per hour with its quantities, as JSON, CSV and PDF
 * (checked by pdftotext, rendered to PNG in test-output/); the fleet's; and
 * the fleet reports written on schedule, listed, downloaded and pruned.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { topConsumers } from '../../app/reports/reporting.js';
import { fleetCsvParts } from '../../app/views/reports.js';
import type { Reading } from '../../database/store.js';
import { startTestServer, tempDir } from '../helpers.js';
import { send } from './billing-fixtures.js';
import { DAY_MS } from '../../protocol/timestamp.js';

const run = promisify(execFile);
const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/', import.meta.url));

/** Yesterday (UTC), every 15 minutes: 0.25 kWh each (1 kWh an hour), 220 V +/- 2 V alternating, 1 kW, PF 0.9, 60 Hz. */
function yesterday(matricula: string, kwhPerQuarter = 250n): { day: string; readings: Reading[] } {
  const start = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const readings: Reading[] = [];
  // From a quarter before the day: its first hour has a reading before it, so nothing of it is missing.
  for (let i = -1; i <= 96; i++) {
    readings.push({ matricula, timestamp: start + i * 900_000, consumo: 1_000_000n + BigInt(i) * kwhPerQuarter, quantities: { voltage: i % 2 === 0 ? 222_000 : 218_000, activePower: 1000, powerFactor: 900, frequency: 60_000, current: 5_050 } });
  }
  return { day: new Date(start).toISOString().slice(0, 10), readings };
}

async function pdfText(t: Test, bytes: Buffer, name: string): Promise<string> {
  const dir = await tempDir(t);
  const file = join(dir, `${name}.pdf`);
  await writeFile(file, bytes);
  await mkdir(OUTPUT_DIR, { recursive: true });
  await run('pdftoppm', ['-png', '-r', '60', '-singlefile', file, join(OUTPUT_DIR, name)]);
  return (await run('pdftotext', ['-layout', file, '-'])).stdout;
}

t.test('a meter\'s daily report: per hour, exact, with quantities and events; as JSON, CSV and PDF', async (t) => {
  const server = await startTestServer(t, { env: { TZ_LEGADO: 'UTC' } });
  const port = server.http.port;
  const { day, readings } = yesterday('13456789');
  await server.stores.store.append(readings);
  await server.stores.events.append([{ matricula: '13456789', timestamp: (readings[40] as Reading).timestamp, type: 'subtensao', detail: 'tensao 190.0 V, nominal 220 V', receivedAt: Date.now(), delivery: 'desativada', deliveryAttempts: 0 }]);
  const answer = await send(port, 'GET', `/relatorios?matricula=13456789&periodo=diario&inicio=${day}`);
  t.equal(answer.status, 200, JSON.stringify(answer.json));
  const report = answer.json;
  t.same([report.periodo, report.fuso, report.consumo_kwh, report.co2e_kg, report.leituras, report.sinalizadas, report.completude], ['diario', 'UTC', 24, 0.924, 96, 0, 1]);
  t.equal(report.periodos.length, 24);
  t.same(report.periodos[5], {
    inicio: `${day}T05:00:00.000Z`,
    fim: `${day}T06:00:00.000Z`,
    leituras: 4,
    sinalizadas: 0,
    consumo_kwh: 1,
    co2e_kg: 0.039,
    tensao_v: { media: 220, min: 218, max: 222, amostras: 4 },
    corrente_a: { media: 5.05, min: 5.05, max: 5.05, amostras: 4 },
    potencia_kw: { media: 1, min: 1, max: 1, amostras: 4 },
    fator_potencia: { media: 0.9, min: 0.9, max: 0.9, amostras: 4 },
    frequencia_hz: { media: 60, min: 60, max: 60, amostras: 4 },
  });
  t.same(report.ocorrencias.map((e: { tipo: string }) => e.tipo), ['subtensao']);

  const csv = (await send(port, 'GET', `/relatorios?matricula=13456789&periodo=diario&inicio=${day}&formato=csv`)).bytes.toString('utf8').split('\r\n');
  t.equal(csv[0], 'inicio,fim,leituras,sinalizadas,consumo_kwh,co2e_kg,tensao_v_media,corrente_a_media,potencia_kw_media,fator_potencia_media,frequencia_hz_media');
  t.equal(csv[6], `${day}T05:00:00.000Z,${day}T06:00:00.000Z,4,0,1,0.039,220,5.05,1,0.9,60`);

  const pdf = await send(port, 'GET', `/relatorios?matricula=13456789&periodo=diario&inicio=${day}&formato=pdf`);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');
  const text = await pdfText(t, pdf.bytes, 'relatorio-medidor');
  t.match(text, /Relatório diário · matrícula 13456789/);
  t.match(text, /Consumo por período/);
  t.match(text, /Tensão \(V\): 220 a 220/, 'the hourly means: 218 and 222 alternate within each hour');
  t.match(text, /24 kWh/);
  t.match(text, /subtensao/);

  const weekly = (await send(port, 'GET', `/relatorios?matricula=13456789&periodo=semanal&inicio=${day}`)).json;
  t.same([weekly.periodos.length, weekly.consumo_kwh], [7, 24.25], 'the day, and the quarter to 00:00 today');
  const monthly = (await send(port, 'GET', `/relatorios?matricula=13456789&periodo=mensal&inicio=${day}`)).json;
  t.equal(monthly.periodos.length, new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)), 0)).getUTCDate(), 'the calendar month, per day');
  for (const [query, field] of [['periodo=anual', 'periodo'], ['inicio=2026-02-30', 'inicio'], ['inicio=ontem', 'inicio'], ['formato=xls', 'formato'], ['inicio=2999-01-01', 'inicio']] as const) {
    const refused = await send(port, 'GET', `/relatorios?matricula=13456789&${query}`);
    t.same([refused.status, refused.json.erro.detalhes?.[0]?.campo], [422, field], query);
  }
});

t.test('the fleet report, and the reports written on schedule: listed, downloaded, pruned', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startTestServer(t, { dataDir, env: { TZ_LEGADO: 'UTC', RELATORIOS_INTERVALO_H: '6', RELATORIOS_RETENCAO_DIAS: '1' } });
  const port = server.http.port;
  const a = yesterday('13456789');
  const b = yesterday('09812389', 500n);
  await server.stores.store.append([...a.readings, ...b.readings]);
  const fleet = (await send(port, 'GET', `/relatorios?periodo=diario&inicio=${a.day}`)).json;
  t.same([fleet.consumo_kwh, fleet.leituras, fleet.medidores], [72, 192, 5], 'every registered customer');
  t.same(fleet.maiores_consumidores.slice(0, 2).map((m: { matricula: string; consumo_kwh: number }) => [m.matricula, m.consumo_kwh]), [['09812389', 48], ['13456789', 24]]);
  const csv = (await send(port, 'GET', `/relatorios?periodo=diario&inicio=${a.day}&formato=csv`)).bytes.toString('utf8');
  t.match(csv, /^matricula,username,consumo_kwh,co2e_kg,leituras,sinalizadas,completude\r\n/);
  t.match(csv, /\r\n09812389,dani,48,1\.848,96,0,1\r\n/);
  const text = await pdfText(t, (await send(port, 'GET', `/relatorios?periodo=diario&inicio=${a.day}&formato=pdf`)).bytes, 'relatorio-frota');
  t.match(text, /Relatório diário da frota/);
  t.match(text, /Maiores consumidores/);

  t.same((await send(port, 'GET', '/relatorios/arquivos')).json, { arquivos: [] });
  await server.reports.job?.runOnce();
  const listed = (await send(port, 'GET', '/relatorios/arquivos')).json.arquivos;
  t.same(listed.map((f: { nome: string }) => f.nome.replace(/\d/g, '0')).sort(), ['frota-0000-00-00T00-00-00Z.json', 'frota-0000-00-00T00-00-00Z.pdf']);
  const downloaded = await send(port, 'GET', listed.find((f: { nome: string }) => f.nome.endsWith('.json')).url);
  t.equal(downloaded.json.periodo, 'diario');
  t.equal((await send(port, 'GET', '/relatorios/arquivos/..%2Fclientes.txt')).status, 404, 'no path outside the reports');
  t.equal((await send(port, 'GET', '/relatorios/arquivos/frota-2026-01-01T00-00-00Z.pdf')).status, 404);
  // Reports are as old as their names say, whatever their files' mtime (a copy, a restore): a pair named two days ago is
  // pruned by the next run (retention 1 day), the pair just written is kept even with an mtime of a week ago.
  const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS).toISOString().slice(0, 19).replaceAll(':', '-') + 'Z';
  const weekAgo = new Date(Date.now() - 7 * DAY_MS);
  const old = listed.map((file: { nome: string }) => file.nome.replace(/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z/, twoDaysAgo));
  for (const [i, file] of listed.entries()) {
    await copyFile(join(dataDir, 'relatorios', file.nome), join(dataDir, 'relatorios', old[i]));
    await utimes(join(dataDir, 'relatorios', file.nome), weekAgo, weekAgo);
  }
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await server.reports.job?.runOnce();
  const after = (await send(port, 'GET', '/relatorios/arquivos')).json.arquivos.map((f: { nome: string }) => f.nome);
  t.equal(after.length, 4, 'the pair named two days ago pruned; the first pair and a new one kept');
  t.notOk(after.some((name: string) => old.includes(name)));
  t.ok(listed.every((f: { nome: string }) => after.includes(f.nome)), 'an old mtime does not age a report');
  // A file named like a report but with no real instant (put there by hand) is neither listed, nor pruned, nor a 500.
  await writeFile(join(dataDir, 'relatorios', 'frota-2026-13-45T99-00-00Z.pdf'), 'x');
  const withStranger = await send(port, 'GET', '/relatorios/arquivos');
  t.equal(withStranger.status, 200);
  t.notOk(withStranger.json.arquivos.some((f: { nome: string }) => f.nome.startsWith('frota-2026-13')));
  await server.reports.job?.runOnce();
  t.equal((await send(port, 'GET', '/relatorios/arquivos/frota-2026-13-45T99-00-00Z.pdf')).status, 200, 'and left alone by pruning');
});

t.test('the monthly and weekly fleet reports, read from the daily rollups in TZ_LEGADO, give each meter what its own report reads from its readings', async (t) => {
  const server = await startTestServer(t, { env: { TZ_LEGADO: 'America/Sao_Paulo' } });
  const port = server.http.port;
  // Ten days of 15-minute readings to yesterday, one meter with a silent day and a spike.
  const end = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const readings: Reading[] = [];
  for (let i = -10 * 96; i < 0; i++) {
    const at = end + i * 900_000;
    readings.push({ matricula: '13456789', timestamp: at, consumo: 1_000_000n + BigInt(i + 960) * 250n });
    if (at < end - 5 * DAY_MS || at >= end - 4 * DAY_MS) readings.push({ matricula: '09812389', timestamp: at, consumo: i === -100 ? 99_999_999n : 5_000_000n + BigInt(i + 960) * 120n });
  }
  await server.stores.store.append(readings);
  t.equal(server.stores.store.dayZone, 'America/Sao_Paulo');
  for (const periodo of ['mensal', 'semanal']) {
    for (const day of [new Date(end - 9 * DAY_MS).toISOString().slice(0, 10), new Date(end - 2 * DAY_MS).toISOString().slice(0, 10)]) {
      const fleet = (await send(port, 'GET', `/relatorios?periodo=${periodo}&inicio=${day}`)).json;
      for (const matricula of ['13456789', '09812389']) {
        const own = (await send(port, 'GET', `/relatorios?matricula=${matricula}&periodo=${periodo}&inicio=${day}`)).json;
        const line = fleet.por_medidor.find((m: { matricula: string }) => m.matricula === matricula);
        t.same([line?.consumo_kwh, line?.leituras, line?.sinalizadas, line?.completude], [own.consumo_kwh, own.leituras, own.sinalizadas, own.completude], `${periodo} from ${day}, ${matricula}`);
      }
    }
  }
});

t.test('topConsumers: the ten of most consumption in one pass, as a stable sort of every line names them', async () => {
  const lineArb = fc.record({ matricula: fc.string(), consumption: fc.bigInt({ min: 0n, max: 20n }) });
  fc.assert(
    fc.property(fc.array(lineArb, { maxLength: 60 }), fc.integer({ min: 0, max: 12 }), (lines, count) => {
      const meters = lines.map((line, i) => ({ ...line, matricula: `${i}`, username: line.matricula, co2eGrams: 0n, readings: 0, flagged: 0, completeness: null }));
      const sorted = [...meters].sort((a, b) => (b.consumption > a.consumption ? 1 : b.consumption < a.consumption ? -1 : 0)).slice(0, count);
      return JSON.stringify(topConsumers(meters, count).map((m) => m.matricula)) === JSON.stringify(sorted.map((m) => m.matricula));
    }),
    { numRuns: 500 },
  );
});

t.test('fleetCsvParts: 2,500 meters in parts of 1,000 lines join to the header and every line once, in order', async (t) => {
  const meters = Array.from({ length: 2500 }, (_, i) => ({ matricula: String(i), username: `u${i}`, consumption: BigInt(i) * 1000n, co2eGrams: 0n, readings: i, flagged: 0, completeness: null }));
  const parts = [...fleetCsvParts({ meters } as unknown as Parameters<typeof fleetCsvParts>[0])];
  t.equal(parts.length, 4, 'the header and three parts');
  const lines = parts.join('').split('\r\n');
  t.equal(lines[0], 'matricula,username,consumo_kwh,co2e_kg,leituras,sinalizadas,completude');
  t.same(lines.slice(1, -1).map((line) => line.split(',')[0]), meters.map((m) => m.matricula));
  t.equal(lines[1], '0,u0,0,0,0,0,');
  t.equal(lines.at(-1), '', 'ends with a line end');
});
