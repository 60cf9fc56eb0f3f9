/**
 * The README is the user's manual: its tables of settings and error codes
 * must say exactly what the code knows.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SETTINGS, shownDefault } from '../../server/config.js';
import { WIRE_ERRORS } from '../../server/http/error-codes.js';
import { METER_OPTION_NAMES, meterOptionSpec } from '../../meter/options.js';

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

t.test('every setting is in the README\'s configuration table, with its flag and default, and nothing else is', async (t) => {
  const rows = README.split('\n').filter((line) => /^\| `[A-Z0-9_]+` \| `--/.test(line));
  t.same(rows.map((line) => /^\| `([A-Z0-9_]+)`/.exec(line)?.[1]).sort(), Object.values(SETTINGS).map((s) => s.env).sort(), 'the table lists exactly the settings');
  for (const setting of Object.values(SETTINGS)) {
    const row = README.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
    t.ok(row !== undefined, `${setting.env} is documented`);
    const [, , flag, fallback] = (row ?? '').split('|').map((cell) => cell.trim());
    t.equal(flag, `\`--${setting.flag}\``, `${setting.env}: its flag`);
    t.equal(fallback?.replaceAll('`', ''), shownDefault(setting), `${setting.env}: its default`);
  }
});

t.test('.env.exemplo lists every setting and node --env-file reads it', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const path = fileURLToPath(new URL('../../../.env.exemplo', import.meta.url));
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  for (const setting of Object.values(SETTINGS)) {
    const at = lines.findIndex((line) => line.startsWith(`${setting.env}=`) || line.startsWith(`# ${setting.env}=`));
    t.ok(at > 0, `${setting.env} is listed`);
    t.equal(lines[at - 1], `# ${setting.help}`, `${setting.env}: its meaning, as --help says it`);
    // A default shown in words (the machine's time zone, a file in DATA_DIR) is written as an example.
    if (setting.shown === undefined) t.equal(lines[at]?.slice(lines[at]?.indexOf('=') + 1), setting.default, `${setting.env}: its default`);
  }
  const read = spawnSync(process.execPath, [`--env-file=${path}`, '-e', 'process.stdout.write(process.env.HTTP_PORT ?? "")'], { encoding: 'utf8' });
  t.equal(read.stdout, '50000');
});

t.test('every meter option is in the README\'s table of meter options, with its default, and nothing else is', async (t) => {
  const section = README.slice(README.indexOf('Options of a meter'), README.indexOf('Launcher options:'));
  const rows = section.split('\n').filter((line) => line.startsWith('| `--'));
  const documented = rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`--([a-z-]+)/g)].map((match) => match[1] as string));
  t.same(documented.sort(), [...METER_OPTION_NAMES].sort(), 'the table lists exactly the options');
  for (const name of METER_OPTION_NAMES) {
    const row = rows.find((line) => new RegExp(`\`--${name}[\` =]`).test(line.split('|')[1] ?? '')) ?? '';
    const fallback = meterOptionSpec(name).default;
    // A row can hold several options (`--host`, `--porta`): their defaults in the same order.
    if (fallback !== undefined) t.match(row.split('|')[2] ?? '', `\`${fallback}\``, `--${name}: its default, ${fallback}`);
  }
});
