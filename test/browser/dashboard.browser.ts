/**
 * The dashboard in a real browser (Debian's headless Chromium driven by
 * playwright-core): a person types a matricula, readings arrive over UDP,
 * and the page's chart, cards and alert change without a reload. Opt-in:
 * `npm run test:browser` (needs /usr/bin/chromium); saves a screenshot.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import t from 'tap';
import { readingLine, recentTimestamps, startTestServer, udpClient } from '../helpers.js';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/', import.meta.url));

t.test('typing a matricula shows its readings live; the chart grows and the alert lights up when consumption jumps', async (t) => {
  const server = await startTestServer(t);
  const meter = await udpClient(t, server.udp.port);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // 409 is the API saying "not enough readings yet" to the invoice and alert cards: expected until the fifth reading.
    if (message.type() === 'error' && !message.text().includes('status of 409')) problems.push(`console: ${message.text()}`);
  });

  await page.goto(`http://127.0.0.1:${server.http.port}/`);
  t.equal(await page.title(), 'consumo-inteligente · painel');
  // Before any matricula: the fleet stream is live.
  await page.waitForSelector('#conexao[data-estado="conectado"]');
  await page.fill('#matricula', '13456789');
  await page.click('button[type="submit"]');
  await page.locator('#conexao', { hasText: 'ao vivo: 13456789' }).waitFor();
  t.equal(await page.textContent('#ultima-data'), 'nenhuma medição ainda');

  // Five readings, 10 kWh apart: no alert.
  const times = recentTimestamps(6);
  for (let i = 0; i < 5; i++) await meter.sendForAck(readingLine('13456789', times[i] as string, String(1000 + i * 10)));
  await page.waitForSelector('#grafico-registro[data-pontos="5"]');
  await page.waitForSelector('#alerta[data-alerta="nao"]');
  t.equal(await page.textContent('#alerta-estado'), 'normal');
  t.match(await page.textContent('#ultima-consumo'), /^1\.040 kWh$/, 'the latest register, in pt-BR');
  t.equal(await page.getAttribute('#grafico-consumo', 'data-barras'), '4', 'four periods between five readings');
  t.match(await page.textContent('#fatura-valor'), /R\$/, 'the invoice of the last period');

  // A jump: 40 kWh in the last period against a mean of 10 → alert.
  await meter.sendForAck(readingLine('13456789', times[5] as string, '1080'));
  await page.waitForSelector('#alerta[data-alerta="sim"]');
  t.equal(await page.textContent('#alerta-estado'), 'ALERTA');
  t.equal(await page.getAttribute('#grafico-registro', 'data-pontos'), '6');
  t.equal(await page.locator('#grafico-consumo rect.barra.alta').count(), 1, 'the last period\'s bar is highlighted');
  await page.locator('#frota-vistos', { hasText: /^1$/ }).waitFor();

  await mkdir(OUTPUT_DIR, { recursive: true });
  const screenshot = `${OUTPUT_DIR}painel.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  t.comment(`screenshot: ${screenshot}`);
  t.same(problems, [], 'no script errors and no blocked resources in the page');
});
