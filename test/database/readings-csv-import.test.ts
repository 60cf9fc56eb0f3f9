/**
 * `npm run import -- --medicoes FILE` with the readings CSV (issue 27 §2):
 * export → import into an empty installation → the same history, flags
 * included, from a file newest first (as exported) or oldest first; counts
 * per outcome and unreadable lines named; a large file in bounded memory.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { run } from '../../cli/import.js';
import { READINGS_CSV_HEADER } from '../../protocol/readings-csv.js';
import { startTestServer, tempDir, TEST_OPERATOR_TOKEN } from '../helpers.js';
import { send } from '../server/billing-fixtures.js';
import { DAY_MS } from '../../protocol/timestamp.js';

const IMPORT = fileURLToPath(new URL('../../cli/import.js', import.meta.url));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { PATH: process.env.PATH }, { out: (text) => (out += text), err: (text) => (err += text) });
  return { code, out, err };
}

const METERS = ['13456789', '555', '0042'];

t.test('export → import into an empty installation → the same history, flags and quantities included, in either order', async (t) => {
  const original = await startTestServer(t);
  const start = Date.now() - 30 * DAY_MS;
  for (const [m, matricula] of METERS.entries()) {
    const readings = Array.from({ length: 400 }, (_, i) => ({ matricula, timestamp: start + i * 3_600_000, consumo: 1000n * BigInt(m + 1) + BigInt(i) * 700n, ...(i % 3 === 0 ? { quantities: { voltage: 127_100 + i, current: 4_250 } } : {}) }));
    // A spike, a register that goes down, and a gap: flagged at admission.
    readings[100] = { ...(readings[100] as (typeof readings)[number]), consumo: (readings[100] as (typeof readings)[number]).consumo + 900_000n };
    readings.splice(200, 30);
    readings[300] = { ...(readings[300] as (typeof readings)[number]), consumo: 10n };
    await original.stores.store.append(readings);
  }
  const exported: string[] = [];
  const before = new Map<string, string>();
  for (const matricula of METERS) {
    const csv = await send(original.http.port, 'GET', `/medicoes?matricula=${matricula}&formato=csv`, undefined, { token: TEST_OPERATOR_TOKEN });
    t.equal(csv.status, 200);
    exported.push(csv.bytes.toString('utf8'));
    before.set(matricula, (await send(original.http.port, 'GET', `/medicoes?matricula=${matricula}&limite=1000`, undefined, { token: TEST_OPERATOR_TOKEN })).bytes.toString('utf8'));
  }
  t.match(before.get('555'), /"pico"/, 'the history has flags to keep');
  t.match(before.get('555'), /"regressiva"/);
  t.match(before.get('555'), /"lacuna_antes"/);
  // One file with every meter: the first export's header, then each export's lines.
  const lines = exported.flatMap((body) => body.split('\r\n').slice(1).filter((line) => line !== ''));
  const dir = await tempDir(t);
  const newestFirst = join(dir, 'medicoes.csv');
  await writeFile(newestFirst, `${READINGS_CSV_HEADER}\r\n${lines.join('\r\n')}\r\n`);
  const oldestFirst = join(dir, 'medicoes-crescente.csv');
  await writeFile(oldestFirst, `${READINGS_CSV_HEADER}\n${[...lines].reverse().join('\n')}`);

  for (const [file, order] of [[newestFirst, 'newest first: read from the end'], [oldestFirst, 'oldest first']] as const) {
    const target = await tempDir(t);
    const imported = await cli(['--medicoes', file, '--data-dir', target]);
    t.equal(imported.code, 0, imported.err);
    t.match(imported.out, `(${lines.length} lines, ${order})`);
    t.match(imported.out, `\n  ${lines.length} stored\n`);
    t.match(imported.out, '\n  0 unreadable lines\n');
    t.notMatch(imported.out, /judged with other quality flags/, 'every flag judged again as the file says');
    const copy = await startTestServer(t, { dataDir: target });
    for (const matricula of METERS) {
      t.equal((await send(copy.http.port, 'GET', `/medicoes?matricula=${matricula}&limite=1000`, undefined, { token: TEST_OPERATOR_TOKEN })).bytes.toString('utf8'), before.get(matricula), `${order}: ${matricula}'s history as it was`);
      t.equal((await send(copy.http.port, 'GET', `/medicoes?matricula=${matricula}&formato=csv`, undefined, { token: TEST_OPERATOR_TOKEN })).bytes.toString('utf8'), exported[METERS.indexOf(matricula)], `${order}: ${matricula}'s CSV byte for byte`);
    }
    const again = await cli(['--medicoes', file, '--data-dir', await tempDir(t)]);
    t.equal(again.code, 0);
    await copy.close();
  }
});

t.test('what is not imported is counted by outcome, and unreadable lines are named', async (t) => {
  const dir = await tempDir(t);
  const now = Date.now();
  const at = (ms: number): string => new Date(ms).toISOString();
  const file = join(dir, 'misto.csv');
  await writeFile(file, [
    READINGS_CSV_HEADER,
    `${at(now - 3 * DAY_MS)},7,10,,,,,,valida`,
    `${at(now - 2 * DAY_MS)},7,11,,,,,,valida`,
    `${at(now - 2 * DAY_MS)},7,99,,,,,,valida`,
    'isto não é uma leitura',
    `${at(now + DAY_MS)},7,12,,,,,,valida`,
    `${at(Date.UTC(2001, 0, 1))},8,1,,,,,,valida`,
    `${at(now - DAY_MS)},7,12,,,,,,valida`,
    `${at(now - DAY_MS)},7,12,,,,,,valida`,
    `${at(now - DAY_MS / 2)},7,abc,,,,,,valida`,
    '',
  ].join('\r\n'));
  const imported = await cli(['--medicoes', file, '--data-dir', dir]);
  t.equal(imported.code, 0, imported.err);
  t.match(imported.out, '(9 lines, oldest first)');
  for (const line of ['3 stored', '1 already stored (same register)', '1 conflito', '1 futura', '1 antiga (older than MEDICAO_IDADE_MAXIMA_DIAS', '2 unreadable lines (line 5: campos, line 10: consumo)']) t.match(imported.out, `\n  ${line}`);
  const older = await cli(['--medicoes', file, '--data-dir', await tempDir(t), '--medicao-idade-maxima-dias', '36500']);
  t.match(older.out, '\n  4 stored', 'a longer MEDICAO_IDADE_MAXIMA_DIAS takes older history');
  const notCsv = join(dir, 'outro.csv');
  await writeFile(notCsv, 'data,valor\n1,2\n');
  const refused = await cli(['--medicoes', notCsv, '--data-dir', await tempDir(t)]);
  t.equal(refused.code, 1, 'a file that is neither the CSV nor the original format: nothing imported');
});

t.test('a large file imports in bounded memory (a heap far smaller than the file)', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'grande.csv');
  const out = createWriteStream(file);
  out.write(`${READINGS_CSV_HEADER}\r\n`);
  const count = 480_000;
  const start = Date.now() - 200 * DAY_MS;
  // Newest first, as the export writes: read from the end.
  for (let m = 0; m < 48; m++) {
    const rows: string[] = [];
    for (let i = count / 48 - 1; i >= 0; i--) rows.push(`${new Date(start + i * 600_000).toISOString()},${9_000 + m},${(i * 0.1).toFixed(1)},127.1,3.2,0.41,0.92,60,valida\r\n`);
    if (!out.write(rows.join(''))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  const bytes = (await readFile(file)).length;
  const result = spawnSync(process.execPath, ['--max-old-space-size=64', IMPORT, '--medicoes', file, '--data-dir', join(dir, 'dados')], { encoding: 'utf8', timeout: 100_000 });
  t.equal(result.status, 0, result.stderr.slice(-500));
  t.match(result.stdout, `\n  ${count} stored\n`, `${count} lines (${(bytes / 2 ** 20).toFixed(0)} MiB) with a 64 MiB heap (the readings as objects would take several times that)`);
});
