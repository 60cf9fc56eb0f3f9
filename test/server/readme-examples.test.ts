/**
 * The README's examples reproduce: its "Try it" and every `curl` of the REST
 * API section are run, in order, against a fresh server (no example
 * customers), and each answer is compared with the output the README shows,
 * timestamps and tokens aside (they are the reader's own).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parseAneelTariffs } from '../../database/aneel-tariffs.js';
import { curlRequest, sendCurl } from './readme-curl.js';
import { ANEEL_SAMPLE, startTestServer, TEST_OPERATOR_TOKEN } from '../helpers.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const run = promisify(execFile);

interface Example {
  readonly command: string;
  /** What the README shows after it: `# ` lines, or the block that follows a one-command block. */
  readonly expected: string;
  readonly line: number;
}

/** The commands of the sh blocks from "Try it" to the dashboard section, with the output shown for each. */
function examples(): Example[] {
  const start = README.indexOf('Try it');
  const end = README.indexOf('## The dashboard');
  const lines = README.slice(start, end).split('\n');
  const firstLine = README.slice(0, start).split('\n').length;
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const blockStart = found.length;
    let j = i + 1;
    for (; lines[j] !== '```'; j++) {
      const line = lines[j] as string;
      if (line.startsWith('#') || line.trim() === '') continue;
      let command = line;
      const at = firstLine + j;
      // A multi-line `node -e '...'` ends at the line ending its quote.
      if (line === "node -e '") {
        do command += `\n${lines[++j]}`;
        while (!(lines[j] as string).endsWith("'"));
      }
      const shown: string[] = [];
      while ((lines[j + 1] as string).startsWith('# ')) shown.push((lines[++j] as string).slice(2));
      found.push({ command: command.replace(/\s+# .*$/, ''), expected: shown.join('\n'), line: at });
    }
    // A block's last command without `# ` output: its output is the fenced block that follows.
    const last = found.length - 1;
    if (last >= blockStart && (found[last] as Example).expected === '' && /^```(json)?$/.test(lines[j + 1] ?? '')) {
      let k = j + 2;
      const body: string[] = [];
      for (; lines[k] !== '```'; k++) body.push(lines[k] as string);
      found[last] = { ...(found[last] as Example), expected: body.join('\n') };
    }
    i = j;
  }
  return found;
}

/** The reader's own values (times, tokens) as placeholders, and JSON in one canonical spelling. */
function normalise(text: string): string {
  const plain = text
    .replace(/\s{2,}\(.*\)$/gm, '')
    .replace(/"eyJ[^"]*"/g, '"<token>"')
    .replace(/\d{4}-\d\d-\d\dT\d\d(:|%3A)\d\d(:|%3A)\d\d\.\d{3}Z/g, '<instante>')
    .replace(/"(tempo_atividade_s|id|silencio_s|pid|conexoes_http|latencia_ms|atraso_laco_eventos_ms)":\d+(\.\d+)?/g, '"$1":0')
    .replace(/^(\d{3}) (?=\{)/, '')
    .trim();
  try {
    return JSON.stringify(JSON.parse(plain));
  } catch {
    return plain.replace(/\r\n/g, '\n');
  }
}

/** curl's arguments as a shell would split them (quotes, no expansion but `$(date -u +%F)`). */
function words(command: string, today: string): string[] {
  const out: string[] = [];
  for (const match of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push((match[1] ?? match[2] ?? match[3] ?? '').replace('$(date -u +%F)', today));
  return out;
}

t.test('the README examples reproduce on a fresh server', async (t) => {
  const server = await startTestServer(t, { env: { CLIENTES_EXEMPLO: 'nao' } });
  const all = examples();
  let checked = 0;
  for (const example of all) {
    const { command } = example;
    // Examples that need the reader's operator token, a pipe, or an endless stream are shown, not replayed here.
    if (/\$(TOKEN|API_TOKEN_ADMIN)|\||^TOKEN=| -sN /.test(command)) continue;
    // The operator's credential the README reads from DATA_DIR/token-operador: this server's is TEST_OPERATOR_TOKEN.
    if (command.startsWith('OPERADOR="Authorization: Bearer $(cat data/token-operador)"')) continue;
    let actual: string;
    if (command.startsWith('node -e')) {
      const script = command.slice("node -e '".length, -1).replace(', 60000,', `, ${server.udp.port},`);
      actual = (await run(process.execPath, ['-e', script], { timeout: 10_000 })).stdout;
    } else if (command.startsWith('curl')) {
      const now = new Date();
      const today = now.toISOString().slice(0, 10);
      if (command.includes('$(date') && new Date(now.getTime() - 6 * 60_000).toISOString().slice(0, 10) !== today) {
        t.test(`README line ${example.line}`, { skip: "the example's readings straddle midnight UTC right now" }, () => {});
        continue;
      }
      const request = curlRequest(words(command, today).slice(1).map((word) => word.replace('$OPERADOR', `Authorization: Bearer ${TEST_OPERATOR_TOKEN}`)));
      // The tariffs example follows the import of the ANEEL sample this repository ships: load it as `npm run import` does.
      if (request.url.includes('/tarifas')) await server.stores.tariffs.addTariffs(parseAneelTariffs(readFileSync(ANEEL_SAMPLE), 'CEMIG-D').tariffs);
      actual = (await sendCurl(request, server.http.port)).text;
    } else {
      t.fail(`README line ${example.line}: an example this test cannot run: ${command}`);
      continue;
    }
    t.equal(normalise(actual), normalise(example.expected), `README line ${example.line}: ${command.split('\n')[0]}`);
    checked++;
  }
  t.ok(checked >= 14, `every runnable example was run (${checked} of ${all.length})`);
});
