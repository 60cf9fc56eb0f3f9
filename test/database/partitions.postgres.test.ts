/**
 * Monthly partitions (issue 18): migration 015 converts a table of a
 * million readings without losing one; routes' plans touch only the
 * partitions they need; partitions are made ahead and rows stranded in the
 * default partition get theirs; retention exports whole months as CSV
 * before dropping them.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import { migrate, quoteIdentifier } from '../../database/postgres/migrate.js';
import { listPartitions, maintainPartitions, MONTHS_AHEAD, monthOf } from '../../database/postgres/partitions.js';
import { PostgresStore, RECENT_READINGS_SQL, recentSince } from '../../database/postgres/postgres-store.js';
import { tempDir } from '../helpers.js';
import { rollUpDays } from '../../domain/readings/rollups.js';
import { testPostgres } from '../postgres.js';

const postgres = await testPostgres(t);
const silent = pino({ level: 'silent' });
const open = (schema: string) => PostgresStore.open({ url: postgres.url, schema, poolMax: 3, statementTimeoutMs: 120_000, connectTimeoutMs: 5000, logger: silent });

type PlanNode = Record<string, unknown>;
function planNodes(rows: Array<Record<string, unknown>>): PlanNode[] {
  const nodes: PlanNode[] = [];
  const walk = (node: PlanNode): void => {
    nodes.push(node);
    for (const child of (node.Plans as PlanNode[] | undefined) ?? []) walk(child);
  };
  walk((rows[0]!['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan);
  return nodes;
}
const relations = (nodes: PlanNode[]) => nodes.map((node) => node['Relation Name']).filter((name): name is string => typeof name === 'string');

t.test('migration 015 turns a table of a million readings into monthly partitions without losing a row', async (t) => {
  const schema = postgres.schema(t);
  const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
  t.teardown(() => pool.end());
  await migrate(pool, schema, 14);
  // 1,000,000 readings of 1,000 meters, every 100 minutes from 2026-07-01 (to 2026-09-09), and 2,000 events.
  await postgres.query(
    `INSERT INTO ${quoteIdentifier(schema)}.medicoes (matricula, data_hora, consumo, qualidade)
     SELECT lpad(m::text, 8, '0'), timestamptz '2026-07-01 00:00:00+00' + make_interval(mins => 100 * r), r * 0.125, CASE WHEN r % 997 = 0 THEN 'pico' END
     FROM generate_series(1, 1000) m, generate_series(1, 1000) r`,
  );
  await postgres.query(
    `INSERT INTO ${quoteIdentifier(schema)}.ocorrencias (matricula, data_hora, tipo, detalhe, recebido_em)
     SELECT lpad(m::text, 8, '0'), (extract(epoch FROM timestamptz '2026-07-01 00:00:00+00') * 1000)::bigint + r * 86400000, 'falta_energia', 'ultimo suspiro', 0
     FROM generate_series(1, 1000) m, generate_series(1, 2) r`,
  );
  const fingerprint = `SELECT count(*)::int AS n, count(DISTINCT (matricula, data_hora))::int AS d, sum(consumo)::text AS soma, count(qualidade)::int AS sinalizadas, max(data_hora) AS ultima FROM ${quoteIdentifier(schema)}.medicoes`;
  const before = (await postgres.query(fingerprint)).rows[0];
  t.equal(before.n, 1_000_000);
  const started = Date.now();
  t.same(await migrate(pool, schema, 15), [15]);
  t.comment(`migrated 1,000,000 readings in ${Date.now() - started} ms`);
  t.same((await postgres.query(fingerprint)).rows[0], before, 'the same rows: count, keys, sum of registers, flags, newest');
  t.equal((await postgres.query(`SELECT count(*)::int AS n FROM ${quoteIdentifier(schema)}.ocorrencias`)).rows[0].n, 2000, 'and every event');

  const store = await open(schema);
  t.teardown(() => store.close());
  const months = await store.db.withConnection((client) => listPartitions(client));
  const readingMonths = months.filter((p) => p.table === 'medicoes').map((p) => p.month);
  for (const month of ['2026-07', '2026-08', '2026-09', monthOf(Date.now()), monthOf(Date.now(), 3)]) t.ok(readingMonths.includes(month), `a partition for ${month}`);
  t.equal((await postgres.query(`SELECT count(*)::int AS n FROM ${quoteIdentifier(schema)}.medicoes_padrao`)).rows[0].n, 0, 'nothing left in the default partition');
  // Readings 447 to 892 of each meter fall in August (100 minutes apart from 1 July 00:00 UTC).
  t.equal((await postgres.query(`SELECT count(*)::int AS n FROM ${quoteIdentifier(schema)}.medicoes_2026_08`)).rows[0].n, 1000 * 446, 'August holds its 446 readings per meter');
  const appended = await store.append([{ matricula: '00000001', timestamp: Date.parse('2026-07-01T00:00:00Z') + 1000 * 100 * 60_000, consumo: 125_000n }]);
  t.same(appended.outcomes, ['duplicate'], 'the primary key still makes a copy a copy');
});

t.test('routes read only the partitions and rows they need (EXPLAIN)', async (t) => {
  const schema = postgres.schema(t);
  const store = await open(schema);
  t.teardown(() => store.close());
  await postgres.query(
    `INSERT INTO ${quoteIdentifier(schema)}.medicoes (matricula, data_hora, consumo)
     SELECT lpad(m::text, 8, '0'), timestamptz '2026-01-01 00:00:00+00' + make_interval(hours => 3 * r), r
     FROM generate_series(1, 500) m, generate_series(1, 1000) r`,
  );
  // The rows of months the schema had no partition for waited in the default partition; the maintenance pass gives them theirs.
  const result = await maintainPartitions(store.db, Date.now(), 0, undefined);
  t.ok(result.ran && result.created.includes('medicoes_2026_01') && result.created.includes('medicoes_2026_05'), `created ${result.created.join(', ')}`);
  await postgres.query(`ANALYZE ${quoteIdentifier(schema)}.medicoes`);
  const history = await postgres.queryIn(schema, 'EXPLAIN (ANALYZE, FORMAT JSON) SELECT data_hora, consumo FROM medicoes WHERE matricula = $1 AND data_hora >= $2 AND data_hora < $3 ORDER BY data_hora DESC LIMIT 1000', [
    '00000042',
    new Date('2026-03-01T00:00:00Z'),
    new Date('2026-03-15T00:00:00Z'),
  ]);
  t.same(relations(planNodes(history.rows)), ['medicoes_2026_03'], 'a range within March touches March only');
  // This month, meter 42 reads on: the newest-readings query touches this month's partitions and those near it, never the old months.
  const now = Date.now();
  await postgres.query(
    `INSERT INTO ${quoteIdentifier(schema)}.medicoes (matricula, data_hora, consumo) SELECT lpad(m::text, 8, '0'), $1::timestamptz - make_interval(mins => 30 * r), 2000 - r FROM generate_series(1, 400) m, generate_series(0, 99) r`,
    [new Date(now - 60_000)],
  );
  await postgres.query(`DELETE FROM ${quoteIdentifier(schema)}.medicoes WHERE matricula = '00000043' AND data_hora > '2026-06-01'`);
  await postgres.query(`ANALYZE ${quoteIdentifier(schema)}.medicoes`);
  const recent = planNodes((await postgres.queryIn(schema, `EXPLAIN (ANALYZE, FORMAT JSON) ${RECENT_READINGS_SQL}`, ['00000042', 5, recentSince(now)])).rows);
  const touched = relations(recent);
  t.notOk(touched.some((name) => /medicoes_2026_0[1-5]/.test(name)), `the old months are pruned: ${touched.join(', ')}`);
  t.ok(touched.length <= 2 + MONTHS_AHEAD + 1, 'at most this month, the last, the ones ahead and the default');
  const scans = recent.filter((node) => node['Node Type'] === 'Index Scan' || node['Node Type'] === 'Index Only Scan');
  t.ok(scans.length > 0 && scans.every((node) => node['Scan Direction'] === 'Backward' && String(node['Index Name']).endsWith('_pkey')), 'backward scans of each partition\'s primary key');
  // A merge of the partitions in time order: the 5 rows returned, and at most the one row each other partition offers the merge.
  t.ok(scans.reduce((sum, node) => sum + Number(node['Actual Rows']), 0) <= 5 + scans.length - 1, 'reading the 5 rows returned and at most one more per partition');
  t.notOk(recent.some((node) => ['Seq Scan', 'Sort', 'Bitmap Heap Scan'].includes(node['Node Type'] as string)), 'no table scan, no sort');
  t.same((await store.recentReadings('00000042', 2)).map((r) => r.consumo), [2_000_000n, 1_999_000n]);
  t.same((await store.recentReadings('00000043', 2)).map((r) => r.consumo), [1_000_000n, 999_000n], 'a meter silent since May: read over every month');
  // Admission judges a reading against the meter's window, found the same way.
  const appended = await store.append([{ matricula: '00000043', timestamp: Date.parse('2026-01-01T00:00:00Z') + 3 * 3_600_000 * 1000, consumo: 1_000_000n }]);
  t.same(appended.outcomes, ['duplicate'], 'a copy of the newest reading of a meter silent for months is still a copy');
});

t.test('partitions ahead, strays moved, and retention that exports whole months before dropping them', async (t) => {
  const schema = postgres.schema(t);
  // Days of São Paulo (UTC-3): the last local day of a UTC month ends three hours into the next.
  const store = await PostgresStore.open({ url: postgres.url, schema, poolMax: 3, statementTimeoutMs: 120_000, connectTimeoutMs: 5000, logger: silent, dayZone: 'America/Sao_Paulo' });
  t.teardown(() => store.close());
  const now = Date.now();
  const later = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 5, 10);
  const ahead = await maintainPartitions(store.db, later, 0, undefined);
  t.ok(ahead.created.includes(`medicoes_${monthOf(later, 3).replace('-', '_')}`) && ahead.created.includes(`ocorrencias_${monthOf(later, 3).replace('-', '_')}`), 'three months ahead of the pass, for both tables');
  t.same((await maintainPartitions(store.db, later, 0, undefined)).created, [], 'a second pass creates nothing');

  // Readings of the last four months (one per meter per day) and an event in each month.
  const months = [monthOf(now, -3), monthOf(now, -2), monthOf(now, -1), monthOf(now)];
  for (const month of months) {
    await postgres.query(
      `INSERT INTO ${quoteIdentifier(schema)}.medicoes (matricula, data_hora, consumo) SELECT lpad(m::text, 4, '0'), $1::timestamptz + make_interval(days => d), d FROM generate_series(1, 10) m, generate_series(0, 4) d`,
      [`${month}-01T12:00:00Z`],
    );
    await postgres.query(`INSERT INTO ${quoteIdentifier(schema)}.ocorrencias (matricula, data_hora, tipo, detalhe, recebido_em) VALUES ('0001', $1, 'violacao_tampa', 'tampa, "aberta"', $1)`, [Date.parse(`${month}-02T00:00:00Z`)]);
  }
  // One reading a month through the store, so the month's hourly rollups exist too.
  await store.restore(months.map((month, i) => ({ matricula: '9999', timestamp: Date.parse(`${month}-01T13:00:00Z`), consumo: BigInt(i) })));
  // A local day across the dropped month's end: two hours before it (dropped) and an hour after (kept).
  const keptStart = Date.parse(`${monthOf(now, -2)}-01T00:00:00Z`);
  await store.restore([
    { matricula: '9999', timestamp: keptStart - 2 * 3_600_000, consumo: 10n },
    { matricula: '9999', timestamp: keptStart + 3_600_000, consumo: 11n },
  ]);
  const acrossEnd = (await store.daily({ matricula: '9999', from: keptStart - 86_400_000, to: keptStart + 3_600_000 })).at(-1);
  t.same([acrossEnd?.readings, acrossEnd?.oldest?.register], [2, 10n], 'before retention, the local day holds both');
  await maintainPartitions(store.db, now, 0, undefined);
  const dir = await tempDir(t);
  const retention = await maintainPartitions(store.db, now, 2, join(dir, 'exportadas'));
  const gone = [monthOf(now, -3)].flatMap((month) => [`medicoes_${month.replace('-', '_')}`, `ocorrencias_${month.replace('-', '_')}`]);
  t.ok(gone.every((name) => retention.dropped.includes(name) && retention.exported.includes(name)), `exported and dropped: ${retention.dropped.join(', ')}`);
  t.notOk(retention.dropped.some((name) => name.endsWith(monthOf(now, -2).replace('-', '_'))), 'the months kept are kept');
  const files = (await readdir(join(dir, 'exportadas'))).sort();
  t.ok(gone.every((name) => files.includes(`${name}.csv`)) && !files.some((name) => name.endsWith('.tmp')), `whole files: ${files.join(', ')}`);
  const readings = (await readFile(join(dir, 'exportadas', `${gone[0]}.csv`), 'utf8')).split('\r\n');
  t.equal(readings[0], 'data_hora,matricula,consumo,tensao_v,corrente_a,potencia_kw,fator_potencia,frequencia_hz,qualidade');
  t.equal(readings.filter((line) => line !== '').length, 1 + 50 + 2, 'a header and the month\'s 52 readings (50, and meter 9999\'s two)');
  t.match(readings[1], new RegExp(`^${monthOf(now, -3)}-01T12:00:00\\.000Z,0001,0\\.000,,,,,,$`));
  const events = await readFile(join(dir, 'exportadas', `${gone[1]}.csv`), 'utf8');
  t.match(events, /,0001,violacao_tampa,"tampa, ""aberta""",/, 'a detail with a comma and quotes, quoted (RFC 4180)');
  const left = await postgres.query(`SELECT count(*)::int AS n FROM ${quoteIdentifier(schema)}.medicoes`);
  t.equal(left.rows[0].n, 150 + 4, 'the three months kept keep their readings (50 each, and meter 9999\'s four)');
  t.same((await store.recentReadings('0001', 1)).map((r) => r.consumo), [4000n]);
  t.same(
    (await store.hourly({ matricula: '9999', from: 0, to: Date.parse('9999-01-01') })).map((rollup) => new Date(rollup.start).toISOString()),
    [new Date(keptStart + 3_600_000).toISOString(), ...months.slice(1).map((month) => `${month}-01T13:00:00.000Z`)],
    'the dropped month\'s hourly rollups go with its readings; the kept months keep theirs',
  );
  const hours = await store.hourly({ matricula: '9999', from: 0, to: Date.parse('9999-01-01') });
  t.same(
    await store.daily({ matricula: '9999', from: 0, to: Date.parse('9999-01-01') }),
    rollUpDays(hours, 'America/Sao_Paulo'),
    'the days the dropped month touched are written again from the hours left',
  );
  const after = (await store.daily({ matricula: '9999', from: keptStart - 86_400_000, to: keptStart + 3_600_000 })).at(-1);
  t.same([after?.readings, after?.oldest?.register], [1, 11n], 'the local day across its end keeps the kept month\'s reading only');
});
