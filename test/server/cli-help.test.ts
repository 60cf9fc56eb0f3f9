/**
 * Every command a user runs answers `--help` with its usage and every
 * option (exit 0, nothing started), and a bad flag with one line (exit 1,
 * never a stack trace).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SETTINGS } from '../../server/config.js';
import { tempDir } from '../helpers.js';

const built = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const README_SETTINGS = [...README.matchAll(/^\| `([A-Z0-9_]+)` \| `--[a-z0-9-]+` \|/gm)].map((match) => match[1] as string);

const COMMANDS: ReadonlyArray<{ name: string; path: string; args?: readonly string[]; mentions: readonly string[] }> = [
  { name: 'npm start', path: 'server/main.js', mentions: [...README_SETTINGS, ...Object.values(SETTINGS).map((s) => `--${s.flag}`)] },
  { name: 'npm run start:postgres', path: 'server/postgres-main.js', mentions: ['DATA_DIR/postgres/url', '--data-dir', '--processos'] },
  { name: 'npm run import', path: 'cli/import.js', mentions: ['--clientes', '--medicoes', '--dados', '--de-postgres', '--de-schema', '--mesclar', ...README_SETTINGS] },
  { name: 'npm run backup', path: 'cli/backup.js', args: ['backup'], mentions: ['--destino', '--data-dir', '--database-url'] },
  { name: 'npm run restore', path: 'cli/backup.js', args: ['restore'], mentions: ['--origem', '--data-dir', '--database-url'] },
  { name: 'npm run meter', path: 'cli/meter.js', mentions: ['--matricula', '--matriculas', '--porta', '--intervalo-envio', '--chaves', 'MEDIDOR_PORTA'] },
  { name: 'npm run meters', path: 'cli/launcher.js', mentions: ['--quantidade', '--por-processo', '--clientes', '--intervalo-envio'] },
  { name: 'npm run demo', path: 'cli/demo.js', mentions: ['DATA_DIR', 'HTTP_PORT', 'UDP_PORT'] },
  { name: 'npm run load:http', path: 'bench/load-http.js', mentions: ['--rota', '--conexoes', '--duracao', '--pipelining', '--storage'] },
  { name: 'npm run load:udp', path: 'bench/load-udp.js', mentions: ['--medidores', '--taxa', '--duracao', '--lixo'] },
  { name: 'npm run bench', path: 'bench/run-suite.js', mentions: ['BENCH_QUICK'] },
  { name: 'npm run bench:hostil', path: 'bench/hostile.js', mentions: ['--conexoes', '--segundos'] },
  { name: 'npm run bench:frota', path: 'bench/fleet-table.js', mentions: ['--rodadas'] },
  { name: 'npm run bench:migracao', path: 'bench/migration.js', mentions: ['--clientes', '--leituras', '--linhas'] },
  { name: 'npm run bench:caminho', path: 'bench/request-path.js', mentions: ['--requisicoes', '--rodadas'] },
  { name: 'npm run bench:justica', path: 'bench/fairness.js', mentions: [] },
  { name: 'npm run bench:processos', path: 'bench/processes.js', mentions: [] },
  { name: 'node build/bench/pg-admission.js', path: 'bench/pg-admission.js', mentions: ['usage: node build/bench/pg-admission.js', '--leituras', '--medidores', '--rodadas'] },
];

t.test('the README documents every setting', async (t) => {
  t.ok(README_SETTINGS.length >= Object.keys(SETTINGS).length, `${README_SETTINGS.length} settings in the README`);
});

for (const command of COMMANDS) {
  t.test(`${command.name} --help and a bad flag`, async (t) => {
    const help = spawnSync(process.execPath, [built(command.path), ...(command.args ?? []), '--help'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, HTTP_PORT: '0', UDP_PORT: '0' } });
    t.equal(help.status, 0, 'exit 0');
    t.match(help.stdout, /^usage: /, 'starts with its usage');
    for (const mention of command.mentions) t.ok(help.stdout.includes(mention), `mentions ${mention}`);
    const bad = spawnSync(process.execPath, [built(command.path), ...(command.args ?? []), '--nao-existe'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, HTTP_PORT: '0', UDP_PORT: '0' } });
    t.equal(bad.status, 1, 'a bad flag: exit 1');
    t.equal(bad.stderr.trim().split('\n').length, 1, `one line: ${bad.stderr.trim()}`);
    t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  });
}

t.test('a command started through a path with a space, or a symlink, runs (import and backup once did nothing there)', async (t) => {
  const dir = await tempDir(t);
  const spaced = join(dir, 'minha pasta');
  await mkdir(spaced);
  for (const [path, args] of [['cli/import.js', []], ['cli/backup.js', ['backup']]] as const) {
    const link = join(spaced, path.split('/').pop() as string);
    await symlink(built(path), link);
    const help = spawnSync(process.execPath, [link, ...args, '--help'], { encoding: 'utf8', timeout: 20_000 });
    t.equal(help.status, 0, `${path}: exit 0`);
    t.match(help.stdout, /^usage: /, `${path}: its usage, not silence`);
  }
});
