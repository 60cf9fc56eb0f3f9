/**
 * `npm run bench:http`: the issue-30 goal for the request path, measured.
 * The project's server against the bare node:net responder
 * (bench/sketch-responder.ts, answering the route's own bytes) under wrk,
 * both routes, without and with 10-deep pipelining, runs interleaved so the
 * machine's drift hits both alike. `--antes DIR` adds another build of the
 * server (a worktree's `build/`) to the same rounds: before and after in one
 * run. Prints requests/s and the ratios; fails only on non-2xx or errors.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, parseCli, preloadFiles, routeTarget, runHttpLoad, spread, startTarget, WRK, type LoadGenerator, type RunningTarget } from './lib.js';

const values = parseCli('bench:http', 'The request path against a bare node:net responder (wrk, 50 connections, pipelining 1 and 10), interleaved rounds.', {
  rodadas: { default: '3', help: 'recorded runs per target and setting (after one unrecorded warm-up run)' },
  duracao: { default: '5', help: 'seconds per run' },
  antes: { default: '', help: 'another build directory (e.g. ../antes/build) whose server runs in the same rounds' },
  rotas: { default: '/medicoes/ultima-medicao,/alerta-consumo', help: 'routes, comma-separated' },
  pipelining: { default: '1,10', help: 'pipelining depths, comma-separated' },
});
const ROUNDS = Number(values.rodadas);
const SECONDS = Number(values.duracao);
if (!Number.isSafeInteger(ROUNDS) || ROUNDS < 1 || !Number.isSafeInteger(SECONDS) || SECONDS < 1) {
  process.stderr.write('bench:http: --rodadas and --duracao must be whole numbers from 1 (--help shows the options)\n');
  process.exit(1);
}
const generator: LoadGenerator = existsSync(WRK) ? 'wrk' : 'autocannon';
const beforeMain = values.antes === '' ? undefined : resolve(values.antes, 'server/main.js');
if (beforeMain !== undefined && !existsSync(beforeMain)) {
  process.stderr.write(`bench:http: invalid option --antes: ${beforeMain} does not exist\n`);
  process.exit(1);
}

const dir = await mkdtemp(join(tmpdir(), 'bench-http-'));
let failed = false;
try {
  const shape = { customers: 1000, readings: 100_000, meters: 1000 };
  const dataDirs = { projeto: join(dir, 'projeto'), antes: join(dir, 'antes') };
  await preloadFiles(dataDirs.projeto, shape);
  if (beforeMain !== undefined) await preloadFiles(dataDirs.antes, shape);
  process.stdout.write(`bench:http: ${generator}, 50 connections, ${SECONDS} s a run, ${ROUNDS} rounds; ${shape.customers} customers, ${shape.readings} readings (file store)\n\n`);
  process.stdout.write('| route | pipelining | bare responder req/s | project req/s | project / bare |' + (beforeMain === undefined ? '' : ' before req/s | before / bare | project / before |') + '\n');
  process.stdout.write('| --- | --- | --- | --- | --- |' + (beforeMain === undefined ? '' : ' --- | --- | --- |') + '\n');
  for (const route of values.rotas.split(',')) {
    const project = await startTarget('projeto', { DATA_DIR: dataDirs.projeto });
    const body = await (await fetch(`http://127.0.0.1:${project.httpPort}${routeTarget(route)}`)).text();
    const targets: Array<[string, RunningTarget]> = [['projeto', project], ['bare', await startTarget('sketch', { SKETCH_BODY: body })]];
    if (beforeMain !== undefined) targets.push(['antes', await startTarget('projeto', { DATA_DIR: dataDirs.antes }, [], beforeMain)]);
    try {
      for (const pipelining of values.pipelining.split(',').map(Number)) {
        const rps: Record<string, number[]> = {};
        for (let round = -1; round < ROUNDS; round++) {
          for (const [name, target] of targets) {
            const result = await runHttpLoad(generator, { url: `http://127.0.0.1:${target.httpPort}${routeTarget(route)}`, connections: 50, durationS: round < 0 ? 2 : SECONDS, pipelining });
            if (result.non2xx > 0 || result.errors > 0) {
              failed = true;
              process.stdout.write(`FAIL: ${name} ${route} answered ${result.non2xx} non-2xx and ${result.errors} errors\n`);
            }
            if (round >= 0) (rps[name] ??= []).push(result.requestsPerSecond);
          }
        }
        const m = (name: string): number => median(rps[name] ?? [Number.NaN]);
        let row = `| ${route} | ${pipelining} | ${spread(rps.bare ?? [])} | ${spread(rps.projeto ?? [])} | ${(m('projeto') / m('bare')).toFixed(2)} |`;
        if (beforeMain !== undefined) row += ` ${spread(rps.antes ?? [])} | ${(m('antes') / m('bare')).toFixed(2)} | ${(m('projeto') / m('antes')).toFixed(2)} |`;
        process.stdout.write(`${row}\n`);
      }
    } finally {
      await Promise.all(targets.map(([, target]) => target.stop()));
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
