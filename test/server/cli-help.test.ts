/**
 * Every command a user runs answers `--help` with its usage and every
 * option (exit 0, nothing started), and a bad flag with one line (exit 1,
 * never a stack trace). The commands of cli/ and the server's entry points
 * are functions, run(argv, env, io): asked in this process; the benches are
 * run as the scripts they are.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SETTINGS, type CliIo } from '../../server/config.js';
import { run as serverMain } from '../../server/main.js';
import { run as postgresMain } from '../../server/postgres-main.js';
import { run as importCommand } from '../../cli/import.js';
import { run as backupCommand } from '../../cli/backup.js';
import { run as meterCommand } from '../../cli/meter.js';
import { run as launcherCommand } from '../../cli/launcher.js';
import { run as demoCommand } from '../../cli/demo.js';
import { run as contractsCommand } from '../../cli/contracts.js';
import { tempDir } from '../helpers.js';

const built = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const README_SETTINGS = [...README.matchAll(/^\| `([A-Z0-9_]+)` \| `--[a-z0-9-]+` \|/gm)].map((match) => match[1] as string);

type Run = (argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo) => Promise<number>;

const COMMANDS: ReadonlyArray<{ name: string; path: string; run?: Run; args?: readonly string[]; mentions: readonly string[] }> = [
  { name: 'npm start', path: 'server/main.js', run: serverMain, mentions: [...README_SETTINGS, ...Object.values(SETTINGS).map((s) => `--${s.flag}`)] },
  { name: 'npm run start:postgres', path: 'server/postgres-main.js', run: postgresMain, mentions: ['DATA_DIR/postgres/url', '--data-dir', '--processos'] },
  { name: 'npm run import', path: 'cli/import.js', run: importCommand, mentions: ['--clientes', '--medicoes', '--dados', '--de-postgres', '--de-schema', '--mesclar', ...README_SETTINGS] },
  { name: 'npm run backup', path: 'cli/backup.js', run: backupCommand, args: ['backup'], mentions: ['--destino', '--data-dir', '--database-url'] },
  { name: 'npm run restore', path: 'cli/backup.js', run: backupCommand, args: ['restore'], mentions: ['--origem', '--data-dir', '--database-url'] },
  { name: 'npm run meter', path: 'cli/meter.js', run: meterCommand, mentions: ['--matricula', '--matriculas', '--porta', '--intervalo-envio', '--chaves', 'MEDIDOR_PORTA'] },
  { name: 'npm run meters', path: 'cli/launcher.js', run: launcherCommand, mentions: ['--quantidade', '--por-processo', '--clientes', '--intervalo-envio'] },
  { name: 'npm run demo', path: 'cli/demo.js', run: demoCommand, mentions: ['DATA_DIR', 'HTTP_PORT', 'UDP_PORT'] },
  { name: 'npm run contratos', path: 'cli/contracts.js', run: contractsCommand, mentions: ['--verificar', 'openapi-prosa.json'] },
  { name: 'npm run load:http', path: 'bench/load-http.js', mentions: ['--rota', '--conexoes', '--duracao', '--pipelining', '--storage'] },
  { name: 'npm run load:udp', path: 'bench/load-udp.js', mentions: ['--medidores', '--taxa', '--duracao', '--lixo'] },
  { name: 'npm run bench', path: 'bench/run-suite.js', mentions: ['BENCH_QUICK'] },
  { name: 'npm run bench:hostil', path: 'bench/hostile.js', mentions: ['--conexoes', '--segundos'] },
  { name: 'npm run bench:frota', path: 'bench/fleet-table.js', mentions: ['--rodadas'] },
  { name: 'npm run bench:migracao', path: 'bench/migration.js', mentions: ['--clientes', '--leituras', '--linhas'] },
  { name: 'npm run bench:caminho', path: 'bench/request-path.js', mentions: ['--requisicoes', '--rodadas'] },
  { name: 'npm run bench:http', path: 'bench/http-ratio.js', mentions: ['--rodadas', '--duracao', '--antes'] },
  { name: 'npm run bench:memoria', path: 'bench/memory.js', mentions: ['--medidores', '--leituras'] },
  { name: 'npm run bench:justica', path: 'bench/fairness.js', mentions: [] },
  { name: 'npm run bench:processos', path: 'bench/processes.js', mentions: [] },
  { name: 'node build/bench/pg-admission.js', path: 'bench/pg-admission.js', mentions: ['usage: node build/bench/pg-admission.js', '--leituras', '--medidores', '--rodadas'] },
];

t.test('the README documents every setting', async (t) => {
  t.ok(README_SETTINGS.length >= Object.keys(SETTINGS).length, `${README_SETTINGS.length} settings in the README`);
});

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A script run with one flag, started at once: the scripts run side by side, not one after another. */
function script(path: string, argv: readonly string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [built(path), ...argv], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, HTTP_PORT: '0', UDP_PORT: '0' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status: code, stdout, stderr });
    });
  });
}

const scripted = new Map(COMMANDS.filter((command) => command.run === undefined).flatMap((command) => ['--help', '--nao-existe'].map((flag) => [`${command.path} ${flag}`, script(command.path, [...(command.args ?? []), flag])] as const)));

/** Runs a command as a user would and says what it printed and how it ended: in this process when it is a function, else as a script. */
async function invoke(command: (typeof COMMANDS)[number], flag: string): Promise<Outcome> {
  if (command.run === undefined) return scripted.get(`${command.path} ${flag}`) as Promise<Outcome>;
  let stdout = '';
  let stderr = '';
  const status = await command.run([...(command.args ?? []), flag], { ...process.env, HTTP_PORT: '0', UDP_PORT: '0' }, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  return { status, stdout, stderr };
}

for (const command of COMMANDS) {
  t.test(`${command.name} --help and a bad flag`, async (t) => {
    const help = await invoke(command, '--help');
    t.equal(help.status, 0, 'exit 0');
    t.match(help.stdout, /^usage: /, 'starts with its usage');
    for (const mention of command.mentions) t.ok(help.stdout.includes(mention), `mentions ${mention}`);
    const bad = await invoke(command, '--nao-existe');
    t.equal(bad.status, 1, 'a bad flag: exit 1');
    t.equal(bad.stderr.trim().split('\n').length, 1, `one line: ${bad.stderr.trim()}`);
    t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  });
}

t.test('each command of cli/ and the server runs as a script too (node build/<path> --help)', async (t) => {
  for (const path of ['server/main.js', 'cli/meter.js', 'cli/launcher.js', 'cli/demo.js']) {
    const help = spawnSync(process.execPath, [built(path), '--help'], { encoding: 'utf8', timeout: 20_000 });
    t.equal(help.status, 0, `${path}: exit 0`);
    t.match(help.stdout, /^usage: /, `${path}: its usage`);
  }
});

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
