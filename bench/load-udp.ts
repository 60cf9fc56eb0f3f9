/**
 * `npm run load:udp -- --medidores 10000 --taxa 50000 --duracao 10 [--lixo 20000]`
 * Sends readings from many simulated meters (one reading per datagram) at a
 * target aggregate rate, then lets the senders resend what was not
 * acknowledged, stops the server and checks its store: readings sent,
 * acknowledged, stored and lost. Exits non-zero when an acknowledged
 * reading is missing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCli } from './lib.js';
import { runUdpLoad } from './udp-load.js';

const values = parseCli('load:udp', 'Sends readings from many simulated meters at an aggregate rate, then checks what the server stored.', {
  medidores: { default: '10000', help: 'meters simulated' },
  taxa: { default: '50000', help: 'readings per second, all meters together' },
  duracao: { default: '10', help: 'seconds of sending' },
  drenagem: { default: '15', help: 'seconds to resend what is unacknowledged after that' },
  remetentes: { default: '1', help: 'sender processes' },
  storage: { default: 'arquivos', help: 'arquivos or postgres (DATABASE_URL)' },
  'udp-buffer-recepcao': { default: String(8 * 1024 * 1024), help: "the server's UDP receive buffer, bytes" },
  lixo: { default: '0', help: 'hostile datagrams per second sent meanwhile' },
  processos: { default: '1', help: 'the server\'s PROCESSOS (more than 1 needs --storage postgres)' },
  antes: { default: '', help: "another build directory (e.g. ../antes/build): its server is loaded instead of this build's (before-and-after runs)" },
  remetente: { default: 'c', help: 'the meters\' sender: c (bench/udp-sender.c, compiled on first use with cc; Node if there is no compiler) or node' },
});
const number = (name: keyof typeof values, min: number): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`load:udp: invalid option --${name}: a whole number of at least ${min} (got ${JSON.stringify(values[name])})\n`);
    process.exit(1);
  }
  return n;
};
if (values.remetente !== 'c' && values.remetente !== 'node') {
  process.stderr.write('load:udp: invalid option --remetente: c or node\n');
  process.exit(1);
}
if (values.storage !== 'arquivos' && values.storage !== 'postgres') {
  process.stderr.write('load:udp: invalid option --storage: arquivos or postgres\n');
  process.exit(1);
}

const dir = await mkdtemp(join(tmpdir(), 'consumo-udp-'));
try {
  const result = await runUdpLoad({
    dataDir: join(dir, 'data'),
    storage: values.storage,
    meters: number('medidores', 1),
    rate: number('taxa', 1),
    durationS: number('duracao', 1),
    drainS: number('drenagem', 0),
    senders: number('remetentes', 1),
    receiveBuffer: number('udp-buffer-recepcao', 4096),
    garbageRate: number('lixo', 0),
    serverEnv: { PROCESSOS: String(number('processos', 1)) },
    sender: values.remetente,
    ...(values.antes === '' ? {} : { serverMain: resolve(values.antes, 'server/main.js') }),
  });
  process.stdout.write(
    `load:udp ${result.meters} meters, target ${result.targetRate}/s for ${result.durationS} s (${result.storage}; ${result.sender} sender; receive buffer granted ${result.receiveBufferBytes} bytes)\n` +
      `sent ${result.sent} (${Math.round(result.sentRate)}/s) | acknowledged ${result.acknowledged} | stored ${result.stored} | ` +
      `lost ${result.lost} | acknowledged but missing ${result.acknowledgedMissing} | acknowledged while sending ${result.acknowledgedWhileSending} (${Math.round(result.keptUpRate)}/s)\n`,
  );
  if (result.garbageSent > 0) {
    const counters = result.serverCounters;
    process.stdout.write(
      `meanwhile ${result.garbageSent} hostile datagrams (${Math.round(result.garbageSent / result.durationS)}/s) | server counted: ${counters === undefined ? 'unknown' : `malformed lines ${counters.malformed}, shed datagrams ${counters.shed}, unauthenticated ${counters.unauthenticated}`} | server RSS peak ${Math.round(result.serverRssBytes / 2 ** 20)} MiB\n`,
    );
  }
  if (result.acknowledgedMissing > 0) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
