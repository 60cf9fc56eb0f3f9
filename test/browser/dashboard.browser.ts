/**
 * The dashboard in a real browser (Debian's headless Chromium driven by
 * playwright-core), as a customer and an operator use it: ranges of
 * consumption bars, the alert and its log, a reconnect that replays what was
 * missed, CSV export, the fleet table of 1,000 meters, sign-in, a phone's
 * width; axe-core finds no accessibility violation and no chart text is
 * clipped. Opt-in: `npm run test:browser` (needs /usr/bin/chromium); saves
 * screenshots in test-output/.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import t, { type Test } from 'tap';
import type { Reading } from '../../database/store.js';
import { startServer, type RunningServer } from '../../server/app.js';
import { cycleContaining, cycleMonth } from '../../domain/billing/cycle.js';
import { call, documentedAnswers, readingLine, silentLogger, tempDir, testConfig, udpClient } from '../helpers.js';
import { startMeter } from '../meter/meter-processes.js';
import { setDistributor, setPisCofins } from '../server/billing-fixtures.js';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const ADMIN_TOKEN = 'token-do-operador-de-teste-0123456789abcdef';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let browser: Browser;
t.before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  await mkdir(OUTPUT_DIR, { recursive: true });
});
t.teardown(() => browser?.close());

async function serve(t: Test, env: Record<string, string> = {}, dataDir?: string): Promise<RunningServer> {
  // Every answer the dashboard receives is checked against the OpenAPI document too (test/openapi-check.ts).
  const { hooks, verify } = documentedAnswers();
  const server = await startServer(testConfig(dataDir ?? (await tempDir(t)), { MEDICAO_INTERVALO_MINIMO_MS: '0', API_TOKEN_ADMIN: ADMIN_TOKEN, ...env }), silentLogger, hooks);
  t.teardown(async () => {
    await server.close();
    verify();
  });
  return server;
}

/** A page that records script errors; `expected` lists console errors that are the API answering as it should. */
async function open(t: Test, width: number, height: number, expected: RegExp[] = []): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected.some((pattern) => pattern.test(message.text()))) problems.push(`console: ${message.text()}`);
  });
  return { page, problems };
}

async function noAxeViolations(t: Test, page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  t.same(
    results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe-core: no accessibility violations (${what})`,
  );
}

/** Every text of the chart lies inside the chart's box: no label loses its digits. */
async function clippedChartTexts(page: Page): Promise<string[]> {
  // Runs in the page (as text: this file is compiled without the DOM's types).
  return page.evaluate(`(() => {
    const svg = document.getElementById('grafico');
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('text')]
      .filter((text) => {
        const r = text.getBoundingClientRect();
        return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
      })
      .map((text) => text.textContent);
  })()`);
}

/**
 * Buttons and cells of `selector`'s tables that a reader cannot see whole:
 * beyond the viewport's width, or beyond the visible part of a scrolling
 * container (the "Reconhecer" once clipped at 1280 px).
 */
async function clippedTableParts(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(`(() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    for (const table of document.querySelectorAll(${JSON.stringify(selector)})) {
      const box = (table.closest('.rolagem') ?? table).getBoundingClientRect();
      for (const el of table.querySelectorAll('tbody td, tbody button')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.left < -0.5 || r.right > width + 0.5 || r.left < box.left - 0.5 || r.right > box.right + 0.5) out.push(table.id + ': ' + (el.getAttribute('aria-label') ?? el.textContent).slice(0, 40) + ' [' + Math.round(r.left) + '-' + Math.round(r.right) + ' of ' + Math.round(box.left) + '-' + Math.round(box.right) + ']');
      }
    }
    return out;
  })()`);
}

/** How many periods of a /consumo answer have data, as the page asked for it. */
async function periodsWithData(page: Page, action: () => Promise<unknown>, test: (url: string) => boolean = () => true): Promise<{ withData: number; gaps: number; body: { consumo_total: number; agrupar: string } }> {
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('/consumo?') && test(r.url())), action()]);
  const body = await response.json();
  const periods = body.periodos as Array<{ consumo: number | null }>;
  return { withData: periods.filter((p) => p.consumo !== null).length, gaps: periods.filter((p) => p.consumo === null).length, body };
}

t.test('customer view: ranges, gaps, tooltips, alert log, a reconnect that misses nothing, CSV export', async (t) => {
  const dataDir = await tempDir(t);
  let server = await serve(t, { CLIENTES_EXEMPLO: 'sim' }, dataDir);
  const port = server.http.port;
  // 20 days of readings every 2 hours, with a day missing 8 days ago: a gap in the 30-day view.
  const now = Date.now();
  const start = now - 20 * 24 * HOUR;
  const history: Reading[] = [];
  let register = 5000n;
  for (let at = start; at < now - 2 * HOUR; at += 2 * HOUR) {
    register += 1500n + BigInt(Math.floor((at / HOUR) % 7)) * 100n;
    const daysAgo = (now - at) / (24 * HOUR);
    if (daysAgo > 8 && daysAgo < 9.5) continue;
    history.push({ matricula: '13456789', timestamp: at, consumo: register });
  }
  await server.stores.store.append(history);

  // 409: not enough readings yet for the alert. The test stops the server: the stream ends incomplete, and a
  // reconnect attempt while it is down is refused.
  const { page, problems } = await open(t, 1280, 900, [/status of 409/, /ERR_INCOMPLETE_CHUNKED_ENCODING/, /ERR_CONNECTION_REFUSED/]);
  // Regression (issue 27: 409s in the console on every customer page without billing): billing's routes are not asked.
  const billingAsked: string[] = [];
  page.on('request', (request) => {
    if (/\/(faturas|simulacao-tarifa-branca)/.test(request.url())) billingAsked.push(request.url());
  });
  const requests: Array<{ url: string; lastEventId: string | undefined }> = [];
  page.on('request', (request) => {
    if (request.url().includes('/eventos')) void request.allHeaders().then((headers) => requests.push({ url: request.url(), lastEventId: headers['last-event-id'] }));
  });
  const first = await periodsWithData(page, () => page.goto(`http://127.0.0.1:${port}/?matricula=13456789`));
  t.equal(await page.title(), 'consumo-inteligente · painel');
  t.equal(first.body.agrupar, 'hora', '24 h by default, by hour');
  await page.waitForSelector(`#grafico[data-barras="${first.withData}"]`);
  await page.locator('#conexao', { hasText: 'ao vivo: 13456789' }).waitFor();

  const month = await periodsWithData(page, () => page.click('label[for="int-30d"]'), (url) => url.includes('agrupar=dia'));
  await page.waitForSelector(`#grafico[data-barras="${month.withData}"]`);
  t.ok(month.withData >= 18, `a bar per day with readings (${month.withData})`);
  t.ok(month.gaps >= 1, 'the missing day is a gap');
  t.equal(await page.getAttribute('#grafico', 'data-lacunas'), String(month.gaps), 'gaps drawn as gaps');
  t.match(await page.textContent('#grafico-titulo'), /últimos 30 dias/);
  t.match(await page.textContent('#total-consumo'), new RegExp(`^${new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 }).format(month.body.consumo_total).replace('.', '\\.')} kWh$`), 'the range total');
  t.match(await page.textContent('#total-detalhe'), /R\$.*a R\$.*\/kWh \(tarifa fixa: faturamento não configurado\)/, 'and its cost, at the flat TARIFA, said so (no billing here)');
  const ticks = await page.locator('#grafico .eixo-tempo text').allTextContents();
  t.ok(ticks.length >= 4 && ticks.every((tick) => /^\d\d\/\d\d$/.test(tick)), `a time axis of round days (${ticks.join(' ')})`);
  t.same(await clippedChartTexts(page), [], 'no chart text clipped');

  const bar = page.locator('#grafico rect.barra').nth(3);
  await bar.hover();
  await page.waitForSelector('#dica:not([hidden])');
  t.match(await page.textContent('#dica'), /kWh · R\$/, 'a tooltip with kWh and cost');

  const year = await periodsWithData(page, () => page.click('label[for="int-12m"]'), (url) => url.includes('agrupar=mes'));
  await page.waitForSelector(`#grafico[data-barras="${year.withData}"]`);
  t.ok(year.withData >= 1 && year.withData <= 2, 'twelve months: the months with readings');
  await periodsWithData(page, () => page.click('label[for="int-24h"]'), (url) => url.includes('agrupar=hora'));

  // The alert: five readings a minute apart, the last period 4x the mean (10 Wh a minute, then 40: an ordinary surge, no spike to validation).
  const meter = await udpClient(t, server.udp.port);
  const base = Number(register);
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const steady = [0, 1, 2, 3].map((i) => readingLine('13456789', at(50 - i), String((base + 10 + i * 10) / 1000)));
  await meter.sendForAck(steady.join('\n'));
  await meter.sendForAck(readingLine('13456789', at(46), String((base + 80) / 1000)));
  await page.waitForSelector('#alerta[data-alerta="sim"]');
  t.equal(await page.textContent('#alerta-estado'), 'ALERTA', 'said in words, not colour alone');
  await page.waitForSelector('#registro-alertas li');
  t.match(await page.textContent('#registro-alertas li'), /ALERTA disparado .* · período .* · 0,04 kWh · 4× a média \(0,01 kWh\)/, 'time fired, period, factor');
  await page.locator('#anuncio', { hasText: 'Alerta de consumo' }).waitFor({ state: 'attached' });
  t.equal(await page.getAttribute('#anuncio', 'aria-live'), 'assertive', 'announced to screen readers');
  // Three more steady periods: the spike is part of the mean, the alert ends, the log stays.
  for (let i = 1; i <= 4; i++) await meter.sendForAck(readingLine('13456789', at(46 - i), String((base + 80 + i * 40) / 1000)));
  await page.waitForSelector('#alerta[data-alerta="nao"]');
  t.equal(await page.locator('#registro-alertas li').count(), 1, 'the alert log stays after the alert ends');

  // A reconnect: the server goes away, readings are stored while the page is disconnected, the server comes back.
  await server.close();
  await page.waitForSelector('#conexao[data-estado="reconectando"]');
  t.equal(await page.isVisible('#desatualizado'), true, 'data marked stale while disconnected');
  server = await serve(t, { CLIENTES_EXEMPLO: 'sim', HTTP_PORT: String(port) }, dataDir);
  const missed = [readingLine('13456789', at(30), String((base + 300) / 1000)), readingLine('13456789', at(29), String((base + 310) / 1000))];
  const replayMeter = await udpClient(t, server.udp.port);
  await replayMeter.sendForAck(missed.join('\n'));
  const afterReconnect = periodsWithData(page, () => page.waitForSelector('#conexao[data-estado="conectado"]'));
  await page.locator('#ultima-consumo', { hasText: new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 }).format((base + 310) / 1000) }).waitFor();
  const reloaded = await afterReconnect;
  await page.waitForSelector(`#grafico[data-barras="${reloaded.withData}"]`);
  const reconnect = requests.at(-1);
  t.ok(reconnect?.lastEventId !== undefined, `the browser reconnected with Last-Event-ID (${reconnect?.lastEventId})`);
  t.equal(await page.isVisible('#desatualizado'), false, 'fresh again');
  t.same(await clippedChartTexts(page), [], 'no chart text clipped after the reload');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#exportar')]);
  const csv = await readFile(await download.path(), 'utf8');
  const rows = csv.trim().split('\r\n');
  t.equal(rows[0], 'data_hora,matricula,consumo,tensao_v,corrente_a,potencia_kw,fator_potencia,frequencia_hz,qualidade', 'the CSV of the range shown');
  t.ok(rows.length > 10, `with its readings (${rows.length - 1})`);
  t.match(download.suggestedFilename(), /^medicoes-13456789-.*\.csv$/);

  await noAxeViolations(t, page, 'customer view');
  await page.screenshot({ path: `${OUTPUT_DIR}painel.png`, fullPage: true });
  t.same(billingAsked, [], 'no billing route asked on a server without billing');
  t.same(problems, [], 'no script errors in the page');
});

t.test('on a phone: no horizontal scroll, chart text at least 11 px, nothing clipped', async (t) => {
  const server = await serve(t, { CLIENTES_EXEMPLO: 'sim' });
  const now = Date.now();
  await server.stores.store.append(Array.from({ length: 40 }, (_, i) => ({ matricula: '98765432', timestamp: now - (40 - i) * 30 * 60_000, consumo: BigInt(25_699_750 + i * 1250) })));
  const { page, problems } = await open(t, 390, 844, [/status of 409/]);
  await page.goto(`http://127.0.0.1:${server.http.port}/?matricula=98765432`);
  await page.waitForSelector('#grafico[data-barras]:not([data-barras="0"])');
  await page.locator('#ultima-consumo', { hasText: '25.748,5 kWh' }).waitFor();
  const layout = (await page.evaluate(`(() => {
    const svg = document.getElementById('grafico');
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const sizes = [...svg.querySelectorAll('text')].map((text) => parseFloat(getComputedStyle(text).fontSize) * scale);
    return { scrollWidth: document.documentElement.scrollWidth, smallest: Math.min(...sizes), texts: sizes.length };
  })()`)) as { scrollWidth: number; smallest: number; texts: number };
  t.ok(layout.scrollWidth <= 390, `no horizontal scroll (${layout.scrollWidth} px)`);
  t.ok(layout.texts > 0 && layout.smallest >= 11, `chart text at least 11 CSS px (${layout.smallest})`);
  t.same(await clippedChartTexts(page), [], 'no chart text clipped');
  await noAxeViolations(t, page, 'phone');
  await page.screenshot({ path: `${OUTPUT_DIR}painel-celular.png`, fullPage: true });
  t.same(problems, []);
});

t.test('operator view: a fleet table of 1,000 meters, paged and sorted, linking to each meter', async (t) => {
  const dataDir = await tempDir(t);
  const loading = await serve(t, { CLIENTES_EXEMPLO: 'sim' }, dataDir);
  const now = Date.now();
  const readings: Reading[] = [];
  for (let m = 0; m < 1000; m++) {
    const matricula = String(70_000_000 + m);
    // Every 100th meter's last period is 3x the mean.
    for (let i = 0; i < 5; i++) readings.push({ matricula, timestamp: now - (5 - i) * 60_000, consumo: BigInt(i * 10_000 + (m % 100 === 0 && i === 4 ? 20_000 : 0)) });
  }
  await loading.stores.store.append(readings);
  await loading.close();
  // Started again: the fleet comes from the store.
  const server = await serve(t, {}, dataDir);
  // 409: the alert of a meter with too few readings; 404: the forecast of a meter no customer has (70000990), opened from the table.
  const { page, problems } = await open(t, 1280, 900, [/status of 409/, /status of 404/]);
  // The fleet is open to read with the default AUTENTICACAO_API=aberta; acknowledging its alerts needs the operator signed in.
  await openSignedIn(page, server.http.port, { token: ADMIN_TOKEN, papel: 'operador' }, '/#frota');
  await page.locator('#pagina-info', { hasText: 'página 1 de 20 (1.000 medidores)' }).waitFor();
  t.equal(await page.locator('#tabela-frota tbody tr').count(), 50, 'a page of 50');
  t.equal(await page.textContent('#frota-alertas'), '10');
  await page.click('th[data-coluna="alerta"] button');
  await page.click('th[data-coluna="alerta"] button');
  await page.waitForSelector('th[data-coluna="alerta"][aria-sort="descending"]');
  await page.locator('#tabela-frota tbody tr:first-child td:nth-child(5)', { hasText: 'ALERTA' }).waitFor();
  t.equal(await page.locator('#tabela-frota td.em-alerta').count(), 10, 'the ten meters in alert first');
  await page.click('#seguinte');
  await page.locator('#pagina-info', { hasText: 'página 2 de 20' }).waitFor();
  await page.fill('#busca', '7000099');
  await page.locator('#pagina-info', { hasText: '(10 medidores)' }).waitFor();
  await page.click('#tabela-frota tbody tr:first-child td:first-child button');
  await page.locator('#conexao', { hasText: /ao vivo: 7000099/ }).waitFor();
  t.match(await page.inputValue('#matricula'), /^7000099\d$/, 'the meter opens in the customer view');
  await page.goto(`http://127.0.0.1:${server.http.port}/#frota`);
  await page.locator('#pagina-info', { hasText: '1.000 medidores' }).waitFor();
  // Sixteen active alerts (regression, issue 27: they pushed the table below the fold, "Reconhecer" clipped at 1280 px): paged, five at a time.
  for (let m = 1; m <= 16; m++) await server.alerts.center.raise(String(70_000_000 + m), 'falta_energia', 'falta_energia', `O medidor avisou falta de energia (último suspiro) às ${m} h, numa linha de detalhe longa como as que os medidores mandam.`);
  await page.goto(`http://127.0.0.1:${server.http.port}/#frota`);
  await page.locator('#alertas-frota-info', { hasText: 'alertas 1 a 5, há mais' }).waitFor({ timeout: 15_000 });
  t.equal(await page.locator('#tabela-alertas-frota tbody tr').count(), 5, 'five alerts a page');
  t.same(await clippedTableParts(page, '#tabela-alertas-frota, #tabela-frota'), [], '1280 px: no button or cell of either table clipped');
  const tableTop = await page.evaluate(`document.getElementById('tabela-frota').getBoundingClientRect().top`);
  t.ok((tableTop as number) < 900, `the fleet table starts within the first screen (${Math.round(tableTop as number)} px)`);
  await page.click('#alertas-frota-seguinte');
  await page.locator('#alertas-frota-info', { hasText: 'alertas 6 a 10, há mais' }).waitFor();
  await page.click('#alertas-frota-seguinte');
  await page.locator('#alertas-frota-info', { hasText: 'alertas 11 a 15, há mais' }).waitFor();
  await page.click('#alertas-frota-seguinte');
  await page.locator('#alertas-frota-info', { hasText: /^alertas 16 a 16$/ }).waitFor();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('#alertas-frota-anterior');
  await page.locator('#alertas-frota-info', { hasText: 'alertas 11 a 15' }).waitFor();
  t.same(await clippedTableParts(page, '#tabela-alertas-frota, #tabela-frota'), [], 'on a phone: each row stacked, no button or cell clipped');
  t.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, 'and no horizontal scroll');
  await page.screenshot({ path: `${OUTPUT_DIR}painel-frota-celular.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#alertas-frota-anterior');
  await page.locator('#alertas-frota-info', { hasText: 'alertas 6 a 10' }).waitFor();
  await page.click('#alertas-frota-anterior');
  await page.locator('#alertas-frota-info', { hasText: 'alertas 1 a 5' }).waitFor();

  // The fleet's alert centre: a new alert appears, is acknowledged, and leaves the list of active ones.
  await server.alerts.center.raise('70000042', 'violacao_tampa', 'violacao_tampa', 'O medidor avisou violação da tampa.');
  const tamper = page.locator('#tabela-alertas-frota tbody tr', { hasText: '70000042' });
  await tamper.waitFor({ timeout: 15_000 });
  t.match(await tamper.textContent(), /Violação da tampa.*ativo/);
  await page.click('#tabela-alertas-frota button[aria-label="Reconhecer o alerta Violação da tampa da matrícula 70000042"]');
  await tamper.waitFor({ state: 'detached' });
  t.equal((await server.stores.alerts.list({ matricula: '70000042' }, 0, 1))[0]?.state, 'reconhecido');
  const [report] = await Promise.all([page.waitForEvent('download'), page.click('[data-relatorio-frota="pdf"]')]);
  t.equal((await readFile(await report.path())).subarray(0, 5).toString('latin1'), '%PDF-', 'the fleet report\'s PDF');
  await noAxeViolations(t, page, 'fleet table');
  await page.screenshot({ path: `${OUTPUT_DIR}painel-frota.png`, fullPage: true });
  t.same(problems, []);
});

t.test('sign-in: plain errors, the token kept out of sight, a stream closed for good says why', async (t) => {
  const server = await serve(t, { CLIENTES_EXEMPLO: 'sim', AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: ADMIN_TOKEN });
  const port = server.http.port;
  const set = await fetch(`http://127.0.0.1:${port}/clientes/13456789/senha`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ senha: 'senha-de-exemplo-123' }) });
  t.equal(set.status, 200);
  const now = Date.now();
  const meter = await udpClient(t, server.udp.port);
  await meter.sendForAck(Array.from({ length: 6 }, (_, i) => readingLine('13456789', new Date(now - (6 - i) * 600_000).toISOString(), String(1000 + i * 5))).join('\n'));
  // 401 and 403 are the API refusing a wrong password and an unauthenticated page; 409, billing not configured here: expected.
  const { page, problems } = await open(t, 1280, 900, [/status of 40[139]/]);
  await page.goto(`http://127.0.0.1:${port}/`);
  t.equal(await page.isVisible('#aba-frota'), false, 'no fleet without an operator');
  await page.click('#abrir-entrar');
  await page.fill('#usuario', 'amancio123');
  await page.fill('#senha', 'senha-errada-123');
  await page.click('#entrar-form button[type="submit"]');
  await page.locator('#entrar-erro', { hasText: 'Usuário ou senha incorretos.' }).waitFor();
  await page.fill('#senha', 'senha-de-exemplo-123');
  await page.click('#entrar-form button[type="submit"]');
  await page.locator('#sessao-quem', { hasText: 'amancio123 · 13456789' }).waitFor();
  await page.locator('#conexao', { hasText: 'ao vivo: 13456789' }).waitFor();
  await page.waitForSelector('#grafico[data-barras]:not([data-barras="0"])');
  t.equal(await page.getAttribute('#matricula', 'readonly'), '', 'a customer sees only their own meter');
  const token = (await page.evaluate(`JSON.parse(sessionStorage.getItem('consumo.sessao') ?? '{}').token`)) as string;
  t.match(token, /^eyJ/, 'the token is kept in sessionStorage');
  t.notOk((await page.content()).includes(token), 'and never shown in the page');
  t.equal(await page.isVisible('#aba-frota'), false, 'a customer has no fleet');
  await noAxeViolations(t, page, 'signed in');

  // A session whose token no longer verifies: the live stream is refused for good, and the page says so.
  const forged = { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMzQ1Njc4OSIsInBhcGVsIjoiY2xpZW50ZSJ9.forjado', papel: 'cliente', username: 'amancio123', matricula: '13456789' };
  await page.evaluate(`sessionStorage.setItem('consumo.sessao', ${JSON.stringify(JSON.stringify(forged))})`);
  await page.reload();
  await page.locator('#conexao', { hasText: /^desconectado: .*entre de novo/ }).waitFor();
  t.equal(await page.getAttribute('#conexao', 'data-estado'), 'desconectado');

  await page.click('#sair');
  await page.waitForSelector('#abrir-entrar:not([hidden])');
  await page.click('#abrir-entrar');
  await page.click('summary');
  await page.fill('#token-operador', ADMIN_TOKEN);
  await page.click('#operador-form button[type="submit"]');
  await page.locator('#sessao-quem', { hasText: 'Operador' }).waitFor();
  await page.locator('#pagina-info', { hasText: '(1 medidor)' }).waitFor();
  t.equal(await page.isVisible('#aba-frota'), true, 'the operator gets the fleet');
  t.equal((await call(port, 'GET', '/frota/medidores')).status, 401, 'which the API refuses without a token');

  // A named operator (issue 26 §5): signs in with its name and password, and Sair revokes its token on the server.
  t.equal((await call(port, 'POST', '/operadores', { nome: 'maria.souza', senha: 'cavalo-bateria-grampo' }, { Authorization: `Bearer ${ADMIN_TOKEN}` })).status, 201);
  await page.click('#sair');
  await page.waitForSelector('#abrir-entrar:not([hidden])');
  await page.click('#abrir-entrar');
  await page.click('summary');
  await page.fill('#nome-operador', 'maria.souza');
  await page.fill('#senha-operador', 'cavalo-bateria-grampo');
  await page.locator('#entrar').screenshot({ path: `${OUTPUT_DIR}painel-entrar-operador.png` });
  await page.click('#operador-form button[type="submit"]');
  await page.locator('#sessao-quem', { hasText: 'Operador · maria.souza' }).waitFor();
  const named = (await page.evaluate(`JSON.parse(sessionStorage.getItem('consumo.sessao') ?? '{}').token`)) as string;
  t.equal((await call(port, 'GET', '/sessao', undefined, { Authorization: `Bearer ${named}` })).json().nome, 'maria.souza');
  await noAxeViolations(t, page, 'a named operator signed in');
  await page.click('#sair');
  await page.waitForSelector('#abrir-entrar:not([hidden])');
  t.equal((await call(port, 'GET', '/sessao', undefined, { Authorization: `Bearer ${named}` })).status, 401, 'Sair revoked the token on the server');
  t.same(problems, []);
});

t.test('billing in the customer view: the open cycle\'s preview, issued invoices with their PDF, the Tarifa Branca comparison', async (t) => {
  const server = await serve(t, { CLIENTES_EXEMPLO: 'sim', DISTRIBUIDORA: 'TESTE-D' });
  const port = server.http.port;
  await server.stores.tariffs.addTariffs(
    (
      [
        ['convencional', 'nao_se_aplica', 29_459_000n, 41_238_000n],
        ['branca', 'ponta', 48_000_000n, 140_000_000n],
        ['branca', 'intermediario', 30_000_000n, 90_000_000n],
        ['branca', 'fora_ponta', 27_000_000n, 35_000_000n],
      ] as const
    ).map(([modalidade, posto, te, tusd]) => ({ distribuidora: 'TESTE-D', modalidade, posto, vigenciaInicio: '2025-01-01', vigenciaFim: null, te, tusd, resolucao: '' })),
  );
  const asOperator = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const put = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'PUT', headers: asOperator, body: JSON.stringify(body) });
  await put('/faturamento/parametros', {
    vigencia_inicio: '2026-01-01',
    tributos: { icms: { faixas: [{ ate_kwh: null, aliquota: '0.18' }], isencao_tarifa_social: null } },
    cip: [{ ate_kwh: null, valor: '12.50' }],
    vencimento_dias: 10,
    postos_tarifa_branca: { ponta: ['18:00-21:00'], intermediario: ['17:00-18:00', '21:00-22:00'] },
    tarifa_social: [],
  });
  await setPisCofins(server);
  await setDistributor(server);
  // Reading day 1: the cycle before the one open today, read at both ends, and readings in the open one (whatever day the test runs).
  const now = Date.now();
  const openCycle = cycleContaining(now, 1, 'America/Sao_Paulo');
  const closed = cycleContaining(openCycle.start - 1, 1, 'America/Sao_Paulo');
  const inOpen = Math.max(openCycle.start + 1_000, Math.min(openCycle.start + 19 * DAY + 2 * HOUR, now - HOUR));
  await server.stores.store.append([
    { matricula: '13456789', timestamp: closed.start, consumo: 1_000_000n },
    { matricula: '13456789', timestamp: openCycle.start, consumo: 1_180_000n },
    { matricula: '13456789', timestamp: inOpen, consumo: 1_300_000n },
    { matricula: '13456789', timestamp: Math.max(inOpen + 1_000, now - 60_000), consumo: 1_350_000n },
  ]);
  const [closedYear, closedMonth] = cycleMonth(closed).split('-');
  const issued = await fetch(`http://127.0.0.1:${port}/faturas`, { method: 'POST', headers: asOperator, body: JSON.stringify({ matricula: '13456789', ciclo: cycleMonth(closed) }) });
  const invoice = (await issued.json()) as { numero: string; total: number };
  t.equal(issued.status, 201);

  const { page, problems } = await open(t, 1280, 900, [/status of 409/]);
  await page.goto(`http://127.0.0.1:${port}/?matricula=13456789`);
  await page.locator('#previa-resumo', { hasText: 'total estimado R$' }).waitFor();
  t.ok((await page.locator('#previa-itens tbody tr').count()) >= 1, 'the preview\'s lines');
  t.match(await page.textContent('#total-detalhe'), /R\$.* estimados pelas tarifas de TESTE-D \(energia, bandeira e tributos; sem CIP\)/, 'with billing, the card prices by its rules, an estimate said so');
  t.equal(await page.textContent('#custo-coluna'), 'Custo estimado');
  await page.locator('#faturas-lista tbody tr', { hasText: invoice.numero }).waitFor();
  t.match(await page.textContent('#faturas-lista tbody tr'), new RegExp(`${invoice.numero}.*${closedMonth}/${closedYear}.*180 kWh`));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#faturas-lista button[aria-label="Baixar o PDF da fatura ${invoice.numero}"]`)]);
  t.equal((await readFile(await download.path())).subarray(0, 5).toString('latin1'), '%PDF-', 'the invoice\'s PDF');
  t.equal(download.suggestedFilename(), `fatura-${invoice.numero}.pdf`);
  await page.click('#comparar');
  await page.locator('#simulacao', { hasText: /Convencional: R\$\s.* branca: R\$\s.* em \d+ ciclos/ }).waitFor();
  await noAxeViolations(t, page, 'billing');
  await page.locator('#secao-fatura').screenshot({ path: `${OUTPUT_DIR}painel-fatura.png` });
  t.same(problems, []);
});

t.test('meter data management in the customer view: live quantities, the forecast against a goal set on the page, recommendations, the alert centre with acknowledgement, a report download', async (t) => {
  const server = await serve(t, { CLIENTES_EXEMPLO: 'sim', DISTRIBUIDORA: 'TESTE-D' });
  const port = server.http.port;
  await server.stores.tariffs.addTariffs([{ distribuidora: 'TESTE-D', modalidade: 'convencional', posto: 'nao_se_aplica', vigenciaInicio: '2020-01-01', vigenciaFim: null, te: 29_459_000n, tusd: 41_238_000n, resolucao: '' }]);
  await fetch(`http://127.0.0.1:${port}/faturamento/parametros`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ vigencia_inicio: '2020-01-01', tributos: { icms: { faixas: [{ ate_kwh: null, aliquota: '0.18' }], isencao_tarifa_social: null } }, cip: [{ ate_kwh: null, valor: '12.50' }], vencimento_dias: 10, postos_tarifa_branca: { ponta: ['18:00-21:00'], intermediario: ['17:00-18:00', '21:00-22:00'] }, tarifa_social: [] }),
  });
  await setPisCofins(server);
  await setDistributor(server);
  // Every quarter of an hour for 16 days, 0.6 kW round the clock (a night-time baseload worth a recommendation), with quantities.
  const now = Date.now();
  const quarter = HOUR / 4;
  const history: Reading[] = [];
  for (let i = 16 * 96; i >= 1; i--) history.push({ matricula: '13456789', timestamp: Math.floor(now / quarter) * quarter - i * quarter, consumo: 1_000_000n + BigInt(16 * 96 - i) * 150n, quantities: { voltage: 219_500, current: 3_100, activePower: 600, powerFactor: 920, frequency: 60_010 } });
  await server.stores.store.append(history);
  // The customer signed in: setting a goal and acknowledging an alert change state, which needs its token.
  await fetch(`http://127.0.0.1:${port}/clientes/13456789/senha`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ senha: 'senha-de-exemplo-123' }) });
  const login = (await (await fetch(`http://127.0.0.1:${port}/validacao-usuario`, { method: 'POST', body: JSON.stringify({ matricula: '13456789', senha: 'senha-de-exemplo-123' }) })).json()) as { token: string; username: string };
  const { page, problems } = await open(t, 1280, 1000);
  await openSignedIn(page, port, { token: login.token, papel: 'cliente', username: login.username, matricula: '13456789' }, '/?matricula=13456789');
  await page.locator('#g-tensao_v', { hasText: '219,5 V' }).waitFor();
  t.equal(await page.textContent('#g-fator_potencia'), '0,92');
  t.match(await page.textContent('#g-qualidade'), /válida/);
  await page.locator('#conexao', { hasText: 'ao vivo: 13456789' }).waitFor();
  const meter = await udpClient(t, server.udp.port);
  t.teardown(() => meter.close());
  await meter.sendForAck(`MEDICAO;13456789;${new Date(now).toISOString()};${(1_000_000 + 16 * 96 * 150) / 1000};V=221.3,A=3.2,kW=0.61,FP=0.93,Hz=59.98`);
  await page.locator('#g-tensao_v', { hasText: '221,3 V' }).waitFor();
  t.pass('a reading that arrives updates the quantities live');

  await page.locator('#previsao-resumo', { hasText: 'kg de CO2e' }).waitFor();
  await page.fill('#meta-kwh', '100');
  await page.click('#meta-form button[type="submit"]');
  await page.locator('#previsao-meta', { hasText: 'Meta: 100 kWh. A caminho de uma fatura acima da meta.' }).waitFor();
  t.equal(await page.getAttribute('#previsao-meta', 'data-estado'), 'acima');
  await page.locator('#recomendacoes li', { hasText: 'Consumo de madrugada de 600 W' }).waitFor();

  const alert = await server.alerts.center.raise('13456789', 'violacao_tampa', 'violacao_tampa', 'O medidor avisou violação da tampa. (tampa aberta)');
  const row = page.locator('#tabela-alertas tbody tr', { hasText: 'Violação da tampa' });
  await row.waitFor();
  t.ok(alert !== undefined);
  await page.click('#tabela-alertas button[aria-label="Reconhecer o alerta Violação da tampa"]');
  await page.locator('#tabela-alertas tbody tr[data-estado="reconhecido"]', { hasText: 'reconhecido (por cliente:13456789)' }).waitFor();
  t.equal((await server.stores.alerts.get(alert?.id ?? ''))?.state, 'reconhecido', 'stored');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-relatorio="semanal"][data-formato="pdf"]')]);
  t.equal((await readFile(await download.path())).subarray(0, 5).toString('latin1'), '%PDF-', 'the weekly report\'s PDF');
  await noAxeViolations(t, page, 'meter data management');
  await page.locator('#secao-grandezas').screenshot({ path: `${OUTPUT_DIR}painel-grandezas.png` });
  await page.locator('#secao-previsao').screenshot({ path: `${OUTPUT_DIR}painel-previsao.png` });
  await page.locator('#secao-alertas').screenshot({ path: `${OUTPUT_DIR}painel-alertas.png` });
  t.same(problems, []);
});

/** Opens `path` with a session already in the tab's sessionStorage, as the page keeps it after "Entrar". */
async function openSignedIn(page: Page, port: number, session: Record<string, string>, path: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.evaluate(`sessionStorage.setItem('consumo.sessao', ${JSON.stringify(JSON.stringify(session))})`);
  await page.goto(`http://127.0.0.1:${port}${path}`);
}

t.test('the meter page: the operator sends commands after confirming and sees them run live; events on a timeline; a customer sees events, never the buttons', async (t) => {
  const dataDir = await tempDir(t);
  const keysFile = `${dataDir}/chaves-medidores.txt`;
  await writeFile(keysFile, `13456789;${'6b'.repeat(32)}\n`);
  const server = await serve(t, { CLIENTES_EXEMPLO: 'sim', AUTENTICACAO_API: 'obrigatoria', API_TOKEN_ADMIN: ADMIN_TOKEN, CHAVES_MEDIDORES: keysFile }, dataDir);
  const port = server.http.port;
  const meter = startMeter(t, ['--matricula', '13456789', '--porta', String(server.udp.port), '--chaves', keysFile, '--intervalo-incremento', '0.05', '--intervalo-envio', '0.3', '--violacao-apos', '0.5', '--log-level', 'silent']);
  await meter.until((s) => s.acknowledged >= 2);
  // 409: no billing configured on this server, which the page asks about; 401: the first load, before the session is in place.
  const { page, problems } = await open(t, 1280, 900, [/status of 40[19]/]);
  await openSignedIn(page, port, { token: ADMIN_TOKEN, papel: 'operador' }, '/?matricula=13456789#consumo');
  await page.locator('#med-fornecimento', { hasText: 'Ligado' }).waitFor();
  await page.locator('#ocorrencias li', { hasText: 'Violação da tampa' }).waitFor();
  t.match(await page.textContent('#med-endereco') ?? '', /^127\.0\.0\.1:\d+$/, 'the operator sees where the meter speaks from');

  // Cancelled at the confirmation: nothing is sent.
  await page.click('[data-comando="corte"]');
  await page.locator('#confirmar-texto', { hasText: 'Cortar o fornecimento do medidor 13456789?' }).waitFor();
  await page.click('#confirmar button[value="cancelar"]');
  t.equal((await call(port, 'GET', '/medidores/13456789/comandos', undefined)).status, 401, '(the API needs a token)');
  t.equal(await page.locator('#tabela-comandos tbody tr').count(), 0, 'no command after Cancelar');

  await page.click('[data-comando="corte"]');
  await page.click('#confirmar-sim');
  await page.locator('#tabela-comandos tbody tr:first-child td[data-estado="executado"]').waitFor();
  await page.locator('#med-fornecimento', { hasText: 'Cortado' }).waitFor();
  await page.locator('#ocorrencias li', { hasText: 'Corte executado' }).waitFor();
  t.pass('the cut ran, live: command executed, supply Cortado, event on the timeline');

  await page.fill('#limite-kw', 'muito');
  await page.click('[data-comando="limite_demanda"]');
  await page.locator('#erro', { hasText: 'Informe o limite em kW' }).waitFor();
  await page.fill('#limite-kw', '2,5');
  await page.click('[data-comando="limite_demanda"]');
  await page.locator('#confirmar-texto', { hasText: '2,5 kW' }).waitFor();
  await page.click('#confirmar-sim');
  await page.locator('#med-limite', { hasText: '2,5 kW' }).waitFor();
  await page.click('[data-comando="religacao"]');
  await page.click('#confirmar-sim');
  await page.locator('#med-fornecimento', { hasText: 'Ligado' }).waitFor();
  t.equal(await page.locator('#tabela-comandos tbody td[data-estado="executado"]').count(), 3, 'three commands, each executed');
  await noAxeViolations(t, page, 'meter page with commands');
  await page.locator('#secao-medidor').screenshot({ path: `${OUTPUT_DIR}painel-medidor.png` });

  await page.goto(`http://127.0.0.1:${port}/#frota`);
  await page.locator('#tabela-frota tbody tr td:nth-child(7)', { hasText: 'ligado' }).first().waitFor();
  t.equal(await page.textContent('#frota-cortados'), '0');

  // The customer: the same meter's state and events, and no command in sight.
  const set = await fetch(`http://127.0.0.1:${port}/clientes/13456789/senha`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ senha: 'senha-de-exemplo-123' }) });
  t.equal(set.status, 200);
  const login = (await (await fetch(`http://127.0.0.1:${port}/validacao-usuario`, { method: 'POST', body: JSON.stringify({ matricula: '13456789', senha: 'senha-de-exemplo-123' }) })).json()) as { token: string; username: string };
  // 401: the page's first load, before the session is in place.
  const customer = await open(t, 1280, 900, [/status of 40[139]/]);
  await openSignedIn(customer.page, port, { token: login.token, papel: 'cliente', username: login.username, matricula: '13456789' }, '/');
  await customer.page.locator('#ocorrencias li', { hasText: 'Corte executado' }).waitFor();
  t.equal(await customer.page.locator('#ocorrencias li', { hasText: 'Limite de demanda atingido' }).count(), 1, 'the limit biting is reported once, not per tick');
  t.equal(await customer.page.isVisible('#comandos-operador'), false, 'no buttons, no command list');
  t.equal(await customer.page.isVisible('#med-endereco-linha'), false, 'nor the address');
  t.equal(await customer.page.textContent('#med-limite'), '2,5 kW');
  await noAxeViolations(t, customer.page, 'meter page as a customer');
  await meter.stop();
  t.same(problems, []);
  t.same(customer.problems, []);
});

t.test('a page on another origin can neither read the API nor command a meter (regression, issue 26: wildcard CORS let it)', async (t) => {
  const server = await serve(t, { CLIENTES_EXEMPLO: 'sim' });
  const api = `http://127.0.0.1:${server.http.port}`;
  // The attacker's page, served from another port: another origin, in the same browser as the operator's dashboard.
  const evil = createHttpServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>ofertas</title><p>nada aqui</p>');
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => evil.close(() => resolve())));
  const { page } = await open(t, 800, 600, [/.*/]);
  await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
  const outcome = (await page.evaluate(`(async () => {
    const api = ${JSON.stringify(api)};
    const attempt = async (what, run) => { try { const r = await run(); return what + ': ' + r.status + ' ' + r.type; } catch (error) { return what + ': ' + error.name; } };
    return [
      await attempt('read', () => fetch(api + '/clientes')),
      await attempt('simple', () => fetch(api + '/medidores/13456789/comandos', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{"tipo":"leitura"}' })),
      await attempt('token', () => fetch(api + '/medidores/13456789/comandos', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ${ADMIN_TOKEN}' }, body: '{"tipo":"leitura"}' })),
    ];
  })()`)) as string[];
  t.same(outcome, ['read: TypeError', 'simple: 0 opaque', 'token: TypeError'], 'the answer is unreadable, the simple POST opaque, the one with a token blocked at its preflight');
  t.same(await server.stores.commands.listByMeter('13456789', 0, 10), [], 'no command reached the store');
  const metrics = await (await fetch(`${api}/metricas`)).text();
  t.match(metrics, /consumo_http_requisicoes_total\{rota="\/medidores\/\{matricula\}\/comandos",status="403"\} 1\n/, 'the simple POST was refused: 403 origem_nao_permitida');
});
