/**
 * The README's billing worked examples reproduce from a fresh directory
 * (issue 27 §2): each `<!-- exemplo-faturamento -->` block is run as
 * written — `npm run import` with the files shipped under resources/, the
 * server started as the block starts it (its own operator token file), the
 * curls — and each answer holds what its `# contém:` lines say, to the cent.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { run as runImport } from '../../cli/import.js';
import { startServer, type RunningServer } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { silentLogger, tempDir } from '../helpers.js';
import { curlRequest, sendCurl } from './readme-curl.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const MARK = '<!-- exemplo-faturamento -->';

/** The sh blocks right after each mark, as lines. */
function blocks(): string[][] {
  const found: string[][] = [];
  for (let at = README.indexOf(MARK); at !== -1; at = README.indexOf(MARK, at + 1)) {
    const start = README.indexOf('```sh\n', at) + '```sh\n'.length;
    found.push(README.slice(start, README.indexOf('\n```', start)).split('\n'));
  }
  return found;
}

/** Shell words: quotes kept together, `$VAR` and `$(cat FILE)` resolved from `vars`. */
function words(line: string, vars: Record<string, string>): string[] {
  const out: string[] = [];
  for (const match of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    let word = match[1] ?? match[2] ?? match[3] ?? '';
    if (match[1] === undefined) word = word.replace(/\$([A-Z_]+)/g, (_, name: string) => vars[name] ?? '');
    out.push(word);
  }
  return out;
}

t.test('the billing worked examples reproduce to the cent', async (t) => {
  const found = blocks();
  t.equal(found.length, 2, 'both worked examples are marked');
  for (const [index, lines] of found.entries()) {
    const vars: Record<string, string> = {};
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HTTP_PORT: '0', UDP_PORT: '0', LOG_LEVEL: 'silent', CLIENTES_EXEMPLO: 'nao' };
    let server: RunningServer | undefined;
    let answer = '';
    let checked = 0;
    const dataDirs = new Map<string, string>();
    const dataDir = async (given: string): Promise<string> => {
      if (!dataDirs.has(given)) dataDirs.set(given, await tempDir(t));
      return dataDirs.get(given) as string;
    };
    try {
      for (const line of lines) {
        if (line.trim() === '') continue;
        if (line.startsWith('# contém: ')) {
          t.ok(answer.includes(line.slice('# contém: '.length)), `example ${index + 1}: ${line.slice(2)} (in ${answer.length > 0 && !answer.includes(line.slice("# contém: ".length)) ? answer : "the answer"})`);
          checked++;
          continue;
        }
        if (line.startsWith('#')) continue;
        if (line.startsWith('export ')) {
          for (const assignment of line.slice('export '.length).split(' ')) {
            const [name, value] = assignment.split('=') as [string, string];
            env[name] = name === 'DATA_DIR' ? await dataDir(value) : value;
          }
        } else if (line.startsWith('npm run import -- ')) {
          let out = '';
          let err = '';
          const code = await runImport(words(line, vars).slice(4), env, { out: (text) => (out += text), err: (text) => (err += text) });
          t.equal(code, 0, `${line}: ${err}${out}`);
        } else if (/^([A-Z_]+=\S+ )*npm start &$/.test(line)) {
          const extra = Object.fromEntries(line.split(' ').filter((word) => word.includes('=')).map((word) => word.split('=') as [string, string]));
          server = await startServer(loadConfig({ ...env, ...extra }, []), silentLogger);
        } else if (line.startsWith('OPERADOR=')) {
          const file = /\$\(cat ([^)]+)\)/.exec(line)?.[1] as string;
          const [dir, name] = [file.slice(0, file.lastIndexOf('/')), file.slice(file.lastIndexOf('/') + 1)];
          vars.OPERADOR = `Authorization: Bearer ${(await readFile(`${await dataDir(`./${dir}`)}/${name}`, 'utf8')).trim()}`;
        } else if (line.startsWith('curl ')) {
          const response = await sendCurl(curlRequest(words(line, vars).slice(1)), (server as RunningServer).http.port);
          answer = `${response.status} ${response.text}`;
          t.ok(response.status < 300, `example ${index + 1}: ${line.slice(0, 90)} → ${answer.slice(0, 200)}`);
        } else if (line === 'kill %1') {
          await server?.close();
          server = undefined;
        } else t.fail(`example ${index + 1}: a command this test cannot run: ${line}`);
      }
    } finally {
      await server?.close();
    }
    t.equal(checked, 3, `example ${index + 1}: its three checked lines`);
  }
});
