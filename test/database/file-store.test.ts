import { spawnSync } from 'node:child_process';
import { appendFile, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { join } from 'node:path';
import t from 'tap';
import { CUSTOMERS_FILE, FileStore, LOCK_FILE, READINGS_FILE } from '../../database/file/file-store.js';
import { silentLogger, tempDir } from '../helpers.js';
import { ROLLUPS_DIR } from '../../database/file/hour-rollups.js';
import { DAY_ROLLUPS_DIR } from '../../database/file/day-rollups.js';
import { rollUp, rollUpDays } from '../../domain/readings/rollups.js';
import type { StoredReading } from '../../database/store.js';
import { storeContract } from './store-contract.js';
import { rollupContract } from './rollup-contract.js';
import { credentialContract } from './credential-contract.js';
import { tariffContract } from './tariff-contract.js';
import { FileTariffStore } from '../../database/file/tariff-file-store.js';
import { billingRulesContract } from './billing-rules-contract.js';
import { FileBillingRulesStore } from '../../database/file/billing-rules-file-store.js';
import { profileContract } from './profile-contract.js';
import { FileProfileStore } from '../../database/file/profile-file-store.js';
import { invoiceContract } from './invoice-contract.js';
import { FileInvoiceStore } from '../../database/file/invoice-file-store.js';
import { commandContract } from './command-contract.js';
import { eventContract } from './event-contract.js';
import { FileEventStore } from '../../database/file/event-file-store.js';
import { alertContract } from './alert-contract.js';
import { FileAlertStore } from '../../database/file/alert-file-store.js';
import { FileForecastRecordStore } from '../../database/file/forecast-record-file-store.js';
import { forecastRecordContract } from './forecast-record-contract.js';
import { meterCounterContract } from './meter-counter-contract.js';
import { accessContract } from './access-contract.js';
import { FileAccessStore } from '../../database/file/access-file-store.js';
import { FileAuditStore } from '../../database/file/audit-file-store.js';
import { FileMeterCounterStore } from '../../database/file/meter-counter-file-store.js';
import { FileCommandStore } from '../../database/file/command-file-store.js';

const open = (dataDir: string, seedCustomersFile?: string) => FileStore.open({ dataDir, logger: silentLogger, seedCustomersFile });

storeContract(t, {
  async makeStore(t) {
    const dir = await tempDir(t);
    return { store: await open(dir), reopen: () => open(dir) };
  },
});

rollupContract(t, {
  async makeStore(t, dayZone) {
    const dir = await tempDir(t);
    const openIn = (zone: string) => FileStore.open({ dataDir: dir, logger: silentLogger, dayZone: zone });
    return { store: await openIn(dayZone), reopen: openIn };
  },
});

credentialContract(t, async (t) => {
  const dir = await tempDir(t);
  return { store: await open(dir), reopen: () => open(dir) };
});

tariffContract(t, async (t) => {
  const dir = await tempDir(t);
  const openTariffs = async () => ({ tariffs: await FileTariffStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openTariffs()), reopen: openTariffs };
});

billingRulesContract(t, async (t) => {
  const dir = await tempDir(t);
  const openRules = async () => ({ rules: await FileBillingRulesStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openRules()), reopen: openRules };
});

profileContract(t, async (t) => {
  const dir = await tempDir(t);
  const openBoth = async () => {
    const store = await open(dir);
    return { store, profiles: await FileProfileStore.open(dir, store, silentLogger) };
  };
  return { ...(await openBoth()), reopen: openBoth };
});

invoiceContract(t, async (t) => {
  const dir = await tempDir(t);
  const openInvoices = async () => ({ invoices: await FileInvoiceStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openInvoices()), reopen: openInvoices };
});

commandContract(t, async (t) => {
  const dir = await tempDir(t);
  const openCommands = async () => ({ commands: await FileCommandStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openCommands()), reopen: openCommands };
});

eventContract(t, async (t) => {
  const dir = await tempDir(t);
  const openEvents = async () => ({ events: await FileEventStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openEvents()), reopen: openEvents };
});

// The same contract with a window of 8 events in memory: lists that reach past it read the file (issue 26 §4).
eventContract(t, async (t) => {
  const dir = await tempDir(t);
  const openEvents = async () => ({ events: await FileEventStore.open(dir, silentLogger, 8), close: async () => undefined });
  return { ...(await openEvents()), reopen: openEvents };
});

t.test('events held in memory stay within the window however many arrive (regression, issue 26: a flood held 120,000)', async (t) => {
  const dir = await tempDir(t);
  const store = await FileEventStore.open(dir, silentLogger, 100);
  const at = Date.UTC(2026, 11, 1);
  for (let batch = 0; batch < 20; batch++) {
    await store.append(Array.from({ length: 100 }, (_, i) => ({ matricula: String(1000 + ((batch * 100 + i) % 300)), timestamp: at + batch * 100 + i, type: 'violacao_tampa' as const, detail: '', receivedAt: at, delivery: 'desativada' as const, deliveryAttempts: 0 })));
  }
  t.equal(store.held, 100, 'the window, nothing more');
  const oldest = await store.list({ matricula: '1000', from: 0, to: Number.MAX_SAFE_INTEGER }, 0, 100);
  t.same(oldest.map((e) => e.timestamp - at), [1800, 1500, 1200, 900, 600, 300, 0], 'a list reaching past it reads the file: every event of the meter');
  t.same((await store.newestPerMeter(['violacao_tampa'])).length, 300, 'each meter\'s newest, in memory');
});

alertContract(t, async (t) => {
  const dir = await tempDir(t);
  const openAlerts = async () => ({ alerts: await FileAlertStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openAlerts()), reopen: openAlerts };
});

forecastRecordContract(t, async (t) => {
  const dir = await tempDir(t);
  const openForecasts = async () => ({ forecasts: await FileForecastRecordStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openForecasts()), reopen: openForecasts };
});

accessContract(t, async (t) => {
  const dir = await tempDir(t);
  const openStores = async () => ({ access: await FileAccessStore.open(dir, silentLogger), audit: await FileAuditStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openStores()), reopen: openStores };
});

meterCounterContract(t, async (t) => {
  const dir = await tempDir(t);
  const openCounters = async () => ({ counters: await FileMeterCounterStore.open(dir, silentLogger), close: async () => undefined });
  return { ...(await openCounters()), reopen: openCounters };
});

t.test('the readings log is text, oldest first, one reading per line', async (t) => {
  const dir = await tempDir(t);
  const store = await open(dir);
  await store.append([
    { matricula: '13456789', timestamp: Date.UTC(2026, 10, 20, 23, 40), consumo: 1302000n },
    { matricula: '09812389', timestamp: Date.UTC(2026, 10, 20, 23, 41, 0, 5), consumo: 1500n },
  ]);
  await store.close();
  t.equal(await readFile(join(dir, READINGS_FILE), 'utf8'), '2026-11-20T23:40:00.000Z;13456789;1302\n2026-11-20T23:41:00.005Z;09812389;1.5\n');
});

t.test('a torn last line is cut off at start-up and never stops the server', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, READINGS_FILE), '2026-01-01T00:00:00.000Z;1;10\n2026-01-01T00:01:00.000Z;1;2');
  const store = await open(dir);
  t.same(store.loadSummary, { lines: 1, skipped: 0, tornBytes: 28 });
  t.same((await store.recentReadings('1', 5)).map((r) => r.consumo), [10000n]);
  await store.append([{ matricula: '1', timestamp: Date.UTC(2026, 0, 1, 0, 2), consumo: 30000n }]);
  await store.close();
  t.equal(await readFile(join(dir, READINGS_FILE), 'utf8'), '2026-01-01T00:00:00.000Z;1;10\n2026-01-01T00:02:00.000Z;1;30\n', 'appends start on a line boundary');
});

t.test('unreadable lines in the middle are skipped, the rest loads', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, READINGS_FILE), '2026-01-01T00:00:00.000Z;1;10\ngarbage\n\0\0\0\n2026-01-01T00:01:00.000Z;1;20\n');
  const store = await open(dir);
  t.same(store.loadSummary, { lines: 2, skipped: 2, tornBytes: 0 });
  t.same((await store.recentReadings('1', 5)).map((r) => r.consumo), [20000n, 10000n]);
  await store.close();
});

t.test('memory holds only the newest readings per meter, however long the log', async (t) => {
  const dir = await tempDir(t);
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(`${new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()};${i % 10};${i}\n`);
  await writeFile(join(dir, READINGS_FILE), lines.join(''));
  const store = await open(dir);
  t.equal(store.loadSummary.lines, 20_000);
  t.same((await store.recentReadings('7', 5)).map((r) => r.consumo), [19997000n, 19987000n, 19977000n, 19967000n, 19957000n]);
  t.same(await store.stats(), { customers: 0, meters: 10, readings: 20_000 });
  await store.close();
});

t.test('past the meter limit, readings of new meters are refused; known meters keep storing, also after a restart', async (t) => {
  const dir = await tempDir(t);
  const withLimit = () => FileStore.open({ dataDir: dir, logger: silentLogger, maxMeters: 3 });
  const minute = (n: number): number => Date.UTC(2026, 0, 1, 0, n);
  const store = await withLimit();
  const first = await store.append(['1', '2', '3', '4', '5'].map((matricula) => ({ matricula, timestamp: minute(0), consumo: 1000n })));
  t.same({ stored: first.stored, duplicates: first.duplicates, refused: first.refused }, { stored: 3, duplicates: 0, refused: 2 });
  t.same([...first.newest.keys()].sort(), ['1', '2', '3'], 'refused readings are not acknowledged');
  const known = await store.append([{ matricula: '2', timestamp: minute(1), consumo: 2000n }, { matricula: '6', timestamp: minute(1), consumo: 1n }]);
  t.same({ stored: known.stored, refused: known.refused }, { stored: 1, refused: 1 });
  t.same(await store.recentReadings('4', 1), [], 'nothing kept for a refused meter');
  t.equal((await store.stats()).meters, 3);
  await store.close();
  // A log holding more meters than a lower limit still loads whole: stored data is never dropped.
  const lower = await FileStore.open({ dataDir: dir, logger: silentLogger, maxMeters: 2 });
  t.equal((await lower.stats()).meters, 3);
  t.equal((await lower.append([{ matricula: '3', timestamp: minute(2), consumo: 3000n }])).stored, 1);
  t.equal((await lower.append([{ matricula: '7', timestamp: minute(2), consumo: 1n }])).refused, 1);
  await lower.close();
});

t.test('one process owns a data directory; a lock left by a dead process is taken over', async (t) => {
  const dir = await tempDir(t);
  const first = await open(dir);
  await t.rejects(open(dir), { name: 'StoreError', code: 'LOCKED' });
  await first.close();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  await writeFile(join(dir, LOCK_FILE), `${dead}\n`);
  const second = await open(dir);
  t.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid));
  await second.close();
  await t.rejects(stat(join(dir, LOCK_FILE)), 'the lock is released on close');
});

t.test('clientes.txt is seeded once, kept in the original format, appended safely', async (t) => {
  const dir = await tempDir(t);
  const seed = join(dir, 'seed.txt');
  await writeFile(seed, 'amancio123;13456789\r\n\nbroken line\nbia;98765432');
  const data = join(dir, 'data');
  const store = await open(data, seed);
  t.same(await store.findCustomers({ username: 'bia' }), [{ username: 'bia', matricula: '98765432' }], 'CRLF and a missing final newline are tolerated');
  t.equal((await store.stats()).customers, 2);
  await store.addCustomers([{ username: 'novo', matricula: '42' }]);
  await store.close();
  t.equal(await readFile(join(data, CUSTOMERS_FILE), 'utf8'), 'amancio123;13456789\r\n\nbroken line\nbia;98765432\nnovo;42\n');
  await appendFile(seed, '\nlater;1\n');
  const reopened = await open(data, seed);
  t.same(await reopened.findCustomers({ username: 'later' }), [], 'an existing clientes.txt is never reseeded');
  t.equal((await reopened.stats()).customers, 3);
  await reopened.close();
});

t.test('late readings spread over many log blocks come out of history in timestamp order (the merge holds them back)', async (t) => {
  const dir = await tempDir(t);
  const store = await open(dir);
  const minute = (n: number): number => Date.UTC(2026, 0, 1) + n * 60_000;
  // 100 readings of meter 1, each followed by 2,000 readings of other meters: ~8 MiB of log, 8 blocks.
  for (let n = 1; n <= 100; n++) {
    await store.append([{ matricula: '1', timestamp: minute(n), consumo: BigInt(n * 1000) }]);
    await store.append(Array.from({ length: 2000 }, (_, i) => ({ matricula: String(1000 + i), timestamp: minute(n) + 1, consumo: BigInt(n) })));
  }
  // Late: between readings already stored several blocks back (within the meter's 32 newest).
  const late = [minute(80) + 30_000, minute(95) + 30_000];
  t.same((await store.append(late.map((timestamp) => ({ matricula: '1', timestamp, consumo: 0n })))).outcomes, ['stored', 'stored']);
  const expected = [...Array.from({ length: 100 }, (_, i) => minute(i + 1)), ...late].sort((a, b) => b - a);
  for (const reopened of [false, true]) {
    const current = reopened ? await open(dir) : store;
    const got: number[] = [];
    let batches = 0;
    for await (const batch of current.history({ matricula: '1', from: 0, to: minute(1000) })) {
      batches++;
      got.push(...batch.map((reading) => reading.timestamp));
    }
    t.same(got, expected, `${reopened ? 'after a restart' : 'as stored'}: newest first, the late ones in their place (${batches} batches)`);
    const window: number[] = [];
    for await (const batch of current.history({ matricula: '1', from: minute(79), to: minute(82) })) window.push(...batch.map((reading) => reading.timestamp));
    t.same(window, [minute(81), minute(80) + 30_000, minute(80), minute(79)], 'a range around a late reading');
    if (reopened) await current.close();
    else await store.close();
  }
});

/** Whether every meter's rollups equal rollUp of its history, over everything stored. */
async function rollupsAgree(store: FileStore, matriculas: readonly string[]): Promise<string[]> {
  const differing: string[] = [];
  for (const matricula of matriculas) {
    const readings: StoredReading[] = [];
    for await (const batch of store.history({ matricula, from: 0, to: Number.MAX_SAFE_INTEGER })) readings.push(...batch);
    const text = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
    if (text(await store.hourly({ matricula, from: 0, to: Number.MAX_SAFE_INTEGER })) !== text(rollUp(readings))) differing.push(matricula);
    else if (text(await store.daily({ matricula, from: 0, to: Number.MAX_SAFE_INTEGER })) !== text(rollUpDays(rollUp(readings), store.dayZone))) differing.push(`${matricula} (days)`);
  }
  return differing;
}

t.test('hourly and daily rollups: a crash at any moment of their writing (a copy of the data taken while readings arrive and rollups are flushed every few ms) reopens to rollups equal to the log', async (t) => {
  const dataDir = await tempDir(t);
  const dayZone = 'America/Sao_Paulo';
  const store = await FileStore.open({ dataDir, logger: silentLogger, rollupFlushMs: 2, dayZone });
  const matriculas = ['11', '12', '13', '14'];
  const random = fc.sample(fc.array(fc.record({ matricula: fc.constantFrom(...matriculas), minute: fc.integer({ min: 0, max: 600 }), consumo: fc.bigInt({ min: 0n, max: 10_000n }) }), { minLength: 5, maxLength: 40 }), { numRuns: 60, seed: 30 });
  const base = Date.UTC(2026, 10, 30, 18);
  let crashes = 0;
  for (const [round, batch] of random.entries()) {
    // Late readings and copies among them: history decides what is stored, the rollups must follow.
    await store.append(batch.map((r) => ({ matricula: r.matricula, timestamp: base + (r.minute + round * 5) * 60_000, consumo: r.consumo })));
    if (round % 6 !== 5) continue;
    // Each file copied no earlier than what it depends on was, as a crash leaves them: the checkpoint (written after
    // the records it vouches for), the month files (written after the slots they use), the slots, the log.
    // The days before the hours (a day's record is written after its hours'), each file as above.
    const copy = await tempDir(t);
    const order = (name: string) => (name === 'ponto' ? 0 : name === 'fuso' ? 1 : name.endsWith('.bin') ? 2 : 3);
    for (const dir of [DAY_ROLLUPS_DIR, ROLLUPS_DIR]) {
      await mkdir(join(copy, dir));
      const names = (await readdir(join(dataDir, dir))).sort((a, b) => order(a) - order(b));
      // The checkpoint first: copied with the days, before either.
      if (dir === DAY_ROLLUPS_DIR) await copyFile(join(dataDir, ROLLUPS_DIR, 'ponto'), join(copy, ROLLUPS_DIR + '-ponto')).catch(() => undefined);
      for (const name of names) {
        // A checkpoint being replaced may vanish between the listing and the copy.
        await copyFile(join(dataDir, dir, name), join(copy, dir, name)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
    }
    // The checkpoint taken first replaces the one copied after the days (a later one would vouch for records not copied).
    await rename(join(copy, ROLLUPS_DIR + '-ponto'), join(copy, ROLLUPS_DIR, 'ponto')).catch(() => undefined);
    await copyFile(join(dataDir, READINGS_FILE), join(copy, READINGS_FILE));
    const crashed = await FileStore.open({ dataDir: copy, logger: silentLogger, dayZone });
    t.same(await rollupsAgree(crashed, matriculas), [], `crash ${++crashes}: every meter's rollups equal its history`);
    await crashed.close();
  }
  t.same(await rollupsAgree(store, matriculas), [], 'and the running store agrees too');
  await store.close();
});

t.test('hourly rollups are rebuilt from the log when their directory is missing, unreadable or belongs to another log', async (t) => {
  const dataDir = await tempDir(t);
  const base = Date.UTC(2026, 10, 30, 23);
  const first = await open(dataDir);
  await first.append(Array.from({ length: 90 }, (_, i) => ({ matricula: String(1 + (i % 3)), timestamp: base + i * 60_000, consumo: BigInt(i) })));
  const expected = await first.hourly({ matricula: '2', from: 0, to: Number.MAX_SAFE_INTEGER });
  t.equal(expected.length, 2, 'two hours of readings (across a month)');
  await first.close();
  const reopenWith = async (what: string, damage: () => Promise<void>, sameLog = true) => {
    await damage();
    const store = await open(dataDir);
    t.same(await rollupsAgree(store, ['1', '2', '3', '9']), [], `${what}: rebuilt`);
    if (sameLog) t.same(await store.hourly({ matricula: '2', from: 0, to: Number.MAX_SAFE_INTEGER }), expected, `${what}: the same rollups`);
    await store.close();
  };
  await reopenWith('a data directory from before rollups', () => rm(join(dataDir, ROLLUPS_DIR), { recursive: true }));
  await reopenWith('an unreadable meters file', () => writeFile(join(dataDir, ROLLUPS_DIR, 'medidores.txt'), 'não é matrícula\n'));
  await reopenWith('a checkpoint past the log', () => writeFile(join(dataDir, ROLLUPS_DIR, 'ponto'), `999999999 ${'0'.repeat(64)}\n`));
  // The log replaced by another one as long (a restore by hand): the fingerprint differs.
  const log = await readFile(join(dataDir, READINGS_FILE), 'latin1');
  await reopenWith('another log of the same length', () => writeFile(join(dataDir, READINGS_FILE), log.replaceAll(';2;', ';9;'), 'latin1'), false);
  const store = await open(dataDir);
  t.same(await store.hourly({ matricula: '2', from: 0, to: Number.MAX_SAFE_INTEGER }), [], 'the replaced log\'s meter 2 has none');
  t.equal((await store.hourly({ matricula: '9', from: 0, to: Number.MAX_SAFE_INTEGER })).length, 2, 'its meter 9 has them');
  await store.close();
});

t.test('hourly rollups: a flush that cannot write (a month file that is a directory) is repaired from the log by a later one; reads count every reading meanwhile', async (t) => {
  const dataDir = await tempDir(t);
  const store = await FileStore.open({ dataDir, logger: silentLogger, rollupFlushMs: 5 });
  const january = Date.UTC(2027, 0, 10, 12);
  await store.append([{ matricula: '5', timestamp: january - 86_400_000 * 20, consumo: 1n }]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  // The next month's file cannot be opened: every flush fails until it can.
  await mkdir(join(dataDir, ROLLUPS_DIR, '2027-01.bin'));
  for (let i = 0; i < 5; i++) {
    await store.append([{ matricula: '5', timestamp: january + i * 60_000, consumo: BigInt(10 + i) }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.same(await rollupsAgree(store, ['5']), [], 'while flushes fail, reads still count every reading');
  await rm(join(dataDir, ROLLUPS_DIR, '2027-01.bin'), { recursive: true });
  await store.append([{ matricula: '5', timestamp: january + 3_600_000, consumo: 99n }]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(await rollupsAgree(store, ['5']), [], 'once it can, a flush repairs from the log: the same');
  await store.close();
  const reopened = await open(dataDir);
  t.same(await rollupsAgree(reopened, ['5']), [], 'and after a restart');
  const [first] = await reopened.hourly({ matricula: '5', from: january - 3_600_000, to: january + 3_600_000 });
  t.equal(first?.readings, 5, 'five readings in the hour, counted once');
  await reopened.close();
});
