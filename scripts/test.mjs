#!/usr/bin/env node
/**
 * `npm test`: runs the compiled test files (build/test/**\/*.test.js) in
 * `node` processes, a few at a time, and says which failed.
 *
 * Why not `tap`'s own runner: it starts every test process with tap's
 * coverage bookkeeping (@tapjs/processinfo's module-loading hook on a thread
 * of its own, and a hook on child_process that puts it into every process a
 * test spawns: servers, meters, CLIs), plus source maps and @tapjs/mock's
 * loader. With coverage off that bought nothing and cost about a third of
 * the suite's CPU (README "Tests"). The files are plain tap tests: each also
 * runs alone with `node FILE` or `npx tap FILE` (`npm run coverage` uses
 * tap's runner).
 *
 * Short files (under SHORT_FILE_MS last time) share a process, a few in a
 * row, as a test runner without isolation does: a Node start, tap and the
 * server's modules cost ~0.7 s of CPU per process, more than most of them
 * take. The longest start first, so the run ends with short work.
 *
 * Usage: node scripts/test.mjs [FILE or DIR ...]   (default: build/test)
 * Settings: TEST_JOBS (processes at once, default 4), TEST_TIMEOUT_S (per
 * process, default 120), TEST_ISOLATED=1 (one process per file),
 * TEST_DURATIONS=1 (rewrite test/durations.json from this run).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Four on two cores: several files spend much of their time waiting on meters, servers and timers. */
const JOBS = Number(process.env.TEST_JOBS ?? 4);
const TIMEOUT_S = Number(process.env.TEST_TIMEOUT_S ?? 120);
/** After tap's own timeout has had its chance to report, the process is killed. */
const KILL_GRACE_MS = 15_000;
/** A file that took less than this shares a process with other short ones... */
const SHORT_FILE_MS = 8_000;
/** ...up to about this much work per process. */
const SHARED_PROCESS_MS = 24_000;
const BATCH = fileURLToPath(new URL('./test-batch.mjs', import.meta.url));
/** How long each file took: this machine's last run (build/), else the durations kept in the repository. */
const TIMES = join(ROOT, 'build', '.test-times.json');
const KEPT_TIMES = join(ROOT, 'test', 'durations.json');

function testFiles(paths) {
  const found = [];
  const visit = (path) => {
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    else if (path.endsWith('.test.js')) found.push(path);
  };
  for (const path of paths) visit(path);
  return found;
}

function readTimes(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

/** A unit passed when its process exited 0 and none of its tests failed. */
const passed = (result) => result.code === 0 && !result.failedTests;

/** Groups the files into processes, longest first: short known files together, every other file alone. */
function plan(files, durationOf) {
  const alone = [];
  const short = [];
  for (const file of files) {
    const ms = durationOf(file);
    if (process.env.TEST_ISOLATED !== '1' && ms !== undefined && ms < SHORT_FILE_MS) short.push(file);
    else alone.push({ files: [file], ms: ms ?? statSync(file).size });
  }
  const shared = [];
  for (const file of short.sort((a, b) => durationOf(b) - durationOf(a))) {
    const open = shared.find((unit) => unit.ms + durationOf(file) <= SHARED_PROCESS_MS);
    if (open !== undefined) {
      open.files.push(file);
      open.ms += durationOf(file);
    } else shared.push({ files: [file], ms: durationOf(file) });
  }
  return [...alone, ...shared].sort((a, b) => b.ms - a.ms);
}

/** Runs one process over `files`; resolves with its exit status, output and assertion count. */
function runUnit(files) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, files.length === 1 ? files : [BATCH, ...files], {
      cwd: ROOT,
      // TAP=1 tells the tests they run under a runner (test/postgres.ts shares one PostgreSQL per run, keyed by this process).
      env: { ...process.env, TAP: '1', TAP_TIMEOUT: String(TIMEOUT_S) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_S * 1000 + KILL_GRACE_MS);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const output = Buffer.concat(chunks).toString('utf8');
      const summary = /^# \{ total: (\d+), pass: (\d+)/m.exec(output);
      // With TAP=1 set, tap leaves judging to the runner: a process whose tests failed exits 0 all the same. A failed
      // top-level test (`not ok` at the start of a line) or a summary with failures fails the unit.
      const failedTests = /^not ok /m.test(output) || /^# \{ total: \d+, pass: \d+, fail: [1-9]/m.test(output);
      resolve({ files, code, signal, output, failedTests, ms: Date.now() - started, total: summary ? Number(summary[1]) : 0, passed: summary ? Number(summary[2]) : 0 });
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const files = testFiles(args.length > 0 ? args : [join(ROOT, 'build', 'test')]);
  const times = { ...readTimes(KEPT_TIMES), ...readTimes(TIMES) };
  const key = (file) => relative(ROOT, file);
  const units = plan(files, (file) => times[key(file)]);
  const started = Date.now();
  const results = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < units.length) {
      const result = await runUnit(units[next++].files);
      results.push(result);
      done += result.files.length;
      const ok = passed(result);
      const names = result.files.map(key).join(', ');
      process.stdout.write(`${ok ? 'ok' : 'not ok'} ${done}/${files.length} ${names} (${result.passed}/${result.total} assertions, ${(result.ms / 1000).toFixed(1)} s${result.signal ? `, killed by ${result.signal}` : ''})\n`);
      if (!ok) process.stdout.write(`${result.output}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(JOBS, units.length) }, worker));
  const failed = results.filter((result) => !passed(result));
  const total = results.reduce((sum, result) => sum + result.total, 0);
  // A file that ran alone has its own duration; files that shared a process keep theirs.
  const measured = Object.fromEntries(results.filter((result) => result.files.length === 1).map((result) => [key(result.files[0]), result.ms]));
  writeFileSync(TIMES, JSON.stringify({ ...readTimes(TIMES), ...measured }));
  if (process.env.TEST_DURATIONS === '1') {
    const rounded = Object.fromEntries(Object.entries({ ...readTimes(KEPT_TIMES), ...measured }).sort(([a], [b]) => a.localeCompare(b)).map(([file, ms]) => [file, Math.round(ms / 100) * 100]));
    writeFileSync(KEPT_TIMES, `${JSON.stringify(rounded, null, 2)}\n`);
  }
  const failedFiles = failed.flatMap((result) => result.files.map(key));
  process.stdout.write(`\n${files.length - failedFiles.length} of ${files.length} files passed (${results.length} processes), ${total} assertions, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  if (failed.length > 0) process.stdout.write(`failed: ${failedFiles.join(', ')}${failed.some((result) => result.files.length > 1) ? ' (files that shared a process: run each alone with node FILE to tell which)' : ''}\n`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
