/**
 * The README is the user's manual: its tables of settings and error codes
 * must say exactly what the code knows.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SETTINGS } from '../../server/config.js';
import { WIRE_ERRORS } from '../../server/http/error-codes.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

t.test('every wire error code is in the README\'s error table with its status, and no other', async (t) => {
  const section = README.slice(README.indexOf('### Errors'), README.indexOf('### HTTP behaviour'));
  const documented = new Map<string, number>();
  for (const row of section.split('\n').filter((line) => /^\| \d{3} \|/.test(line))) {
    const [, status, codes] = /^\| (\d{3}) \| ([^|]+) \|/.exec(row) ?? [];
    for (const code of (codes ?? '').matchAll(/`([a-z_]+)`/g)) documented.set(code[1] as string, Number(status));
  }
  const expected = Object.entries(WIRE_ERRORS).filter(([code]) => code !== 'cliente_desistiu');
  t.same([...documented].sort(), expected.sort(), 'codes and statuses');
});

t.test('every setting is in the README\'s configuration table, with its flag and default', async (t) => {
  for (const setting of Object.values(SETTINGS)) {
    const row = README.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
    t.ok(row !== undefined, `${setting.env} is documented`);
    t.match(row, `\`--${setting.flag}\``, `${setting.env}: its flag`);
  }
});

t.test('.env.exemplo lists every setting and node --env-file reads it', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const path = fileURLToPath(new URL('../../../.env.exemplo', import.meta.url));
  const text = readFileSync(path, 'utf8');
  for (const setting of Object.values(SETTINGS)) t.match(text, new RegExp(`^(# )?${setting.env}=`, 'm'), setting.env);
  const read = spawnSync(process.execPath, [`--env-file=${path}`, '-e', 'process.stdout.write(process.env.HTTP_PORT ?? "")'], { encoding: 'utf8' });
  t.equal(read.stdout, '50000');
});
