import t from 'tap';
import fc from 'fast-check';
import { admissionRules } from '../../database/open-store.js';
import type { Reading } from '../../database/store.js';
import { PostgresStore } from '../../database/postgres/postgres-store.js';
import { loadMigrations } from '../../database/postgres/migrate.js';
import { silentLogger } from '../helpers.js';
import { testPostgres } from '../postgres.js';
import { storeContract } from './store-contract.js';
import { rollupContract } from './rollup-contract.js';
import { credentialContract } from './credential-contract.js';
import { tariffContract } from './tariff-contract.js';
import { PgTariffStore } from '../../database/postgres/tariff-pg-store.js';
import { billingRulesContract } from './billing-rules-contract.js';
import { PgBillingRulesStore } from '../../database/postgres/billing-rules-pg-store.js';
import { profileContract } from './profile-contract.js';
import { PgProfileStore } from '../../database/postgres/profile-pg-store.js';
import { invoiceContract } from './invoice-contract.js';
import { PgInvoiceStore } from '../../database/postgres/invoice-pg-store.js';
import { commandContract } from './command-contract.js';
import { eventContract } from './event-contract.js';
import { PgEventStore } from '../../database/postgres/event-pg-store.js';
import { alertContract } from './alert-contract.js';
import { PgAlertStore } from '../../database/postgres/alert-pg-store.js';
import { PgForecastRecordStore } from '../../database/postgres/forecast-record-pg-store.js';
import { forecastRecordContract } from './forecast-record-contract.js';
import { meterCounterContract } from './meter-counter-contract.js';
import { accessContract } from './access-contract.js';
import { PgAccessStore } from '../../database/postgres/access-pg-store.js';
import { PgAuditStore } from '../../database/postgres/audit-pg-store.js';
import { PgMeterCounterStore } from '../../database/postgres/meter-counter-pg-store.js';
import { PgCommandStore } from '../../database/postgres/command-pg-store.js';

const postgres = await testPostgres(t);
const open = (schema: string) =>
  PostgresStore.open({ url: postgres.url, schema, poolMax: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, logger: silentLogger });

storeContract(t, {
  async makeStore(t) {
    const schema = await postgres.emptySchema(t);
    return { store: await open(schema), reopen: () => open(schema) };
  },
});

rollupContract(t, {
  async makeStore(t, dayZone) {
    const schema = await postgres.emptySchema(t);
    const openIn = (zone: string) => PostgresStore.open({ url: postgres.url, schema, poolMax: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, logger: silentLogger, dayZone: zone });
    return { store: await openIn(dayZone), reopen: openIn };
  },
});

credentialContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  return { store: await open(schema), reopen: () => open(schema) };
});

tariffContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openTariffs = async () => {
    const store = await open(schema);
    return { tariffs: new PgTariffStore(store.db), close: () => store.close() };
  };
  return { ...(await openTariffs()), reopen: openTariffs };
});

billingRulesContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openRules = async () => {
    const store = await open(schema);
    return { rules: new PgBillingRulesStore(store.db), close: () => store.close() };
  };
  return { ...(await openRules()), reopen: openRules };
});

profileContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openBoth = async () => {
    const store = await open(schema);
    return { store, profiles: new PgProfileStore(store.db) };
  };
  return { ...(await openBoth()), reopen: openBoth };
});

invoiceContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openInvoices = async () => {
    const store = await open(schema);
    return { invoices: new PgInvoiceStore(store.db), close: () => store.close() };
  };
  return { ...(await openInvoices()), reopen: openInvoices };
});

commandContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openCommands = async () => {
    const store = await open(schema);
    return { commands: new PgCommandStore(store.db), close: () => store.close() };
  };
  return { ...(await openCommands()), reopen: openCommands };
});

alertContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openAlerts = async () => {
    const store = await open(schema);
    return { alerts: new PgAlertStore(store.db), close: () => store.close() };
  };
  return { ...(await openAlerts()), reopen: openAlerts };
});

forecastRecordContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openForecasts = async () => {
    const store = await open(schema);
    return { forecasts: new PgForecastRecordStore(store.db), close: () => store.close() };
  };
  return { ...(await openForecasts()), reopen: openForecasts };
});

accessContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openStores = async () => {
    const store = await open(schema);
    return { access: new PgAccessStore(store.db), audit: new PgAuditStore(store.db), close: () => store.close() };
  };
  return { ...(await openStores()), reopen: openStores };
});

t.test('the audit log refuses changes in the database too (a trigger)', async (t) => {
  const schema = await postgres.emptySchema(t);
  const store = await open(schema);
  t.teardown(() => store.close());
  await new PgAuditStore(store.db).append({ at: 1, actor: 'operador', action: 'POST /x', target: '/x', address: '127.0.0.1', status: 200 });
  await t.rejects(store.db.run('UPDATE auditoria SET ator = $1', ['outro']), /never changed or removed/);
  await t.rejects(store.db.run('DELETE FROM auditoria'), /never changed or removed/);
});

meterCounterContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openCounters = async () => {
    const store = await open(schema);
    return { counters: new PgMeterCounterStore(store.db), close: () => store.close() };
  };
  return { ...(await openCounters()), reopen: openCounters };
});

eventContract(t, async (t) => {
  const schema = await postgres.emptySchema(t);
  const openEvents = async () => {
    const store = await open(schema);
    return { events: new PgEventStore(store.db), close: () => store.close() };
  };
  return { ...(await openEvents()), reopen: openEvents };
});

t.test('migrations: applied once, recorded, safe when servers start together', async (t) => {
  const schema = postgres.schema(t);
  const stores = await Promise.all([open(schema), open(schema), open(schema)]);
  const files = await loadMigrations();
  t.ok(files.length >= 11, `the migrations in resources/migrations (${files.length})`);
  t.same(stores.map((s) => s.db.appliedMigrations.length).sort(), [0, 0, files.length], 'exactly one start applied the schema');
  const { rows } = await postgres.query(`SELECT versao, nome FROM "${schema}".schema_migrations ORDER BY versao`);
  t.same(rows, files.map((file) => ({ versao: file.version, nome: file.name })), 'each recorded by version and name');
  t.same(files.slice(0, 3).map((file) => file.name), ['esquema_inicial', 'credenciais', 'tarifas'], 'numbered from 001, in order');
  const again = await open(schema);
  t.same(again.db.appliedMigrations, [], 'nothing to apply on a later start');
  await Promise.all([...stores, again].map((s) => s.close()));
});

t.test('registers are exact numerics, to the column\'s 18 digits; timestamps keep their milliseconds', async (t) => {
  const schema = await postgres.emptySchema(t);
  const store = await open(schema);
  await store.append([{ matricula: '09812389', timestamp: Date.UTC(2026, 10, 20, 23, 40, 0, 123), consumo: 999_999_999_999_999_999n }]);
  const { rows } = await postgres.query(`SELECT consumo::text AS consumo FROM "${schema}".medicoes`);
  t.same(rows, [{ consumo: '999999999999999.999' }]);
  t.same(await store.recentReadings('09812389', 1), [{ matricula: '09812389', timestamp: Date.UTC(2026, 10, 20, 23, 40, 0, 123), consumo: 999_999_999_999_999_999n }]);
  await store.close();
});

t.test('the newest rows of a meter are asked through a statement each connection prepares once (planning it over the partitions cost more than running it: routes on PostgreSQL ran at a third of the rate)', async (t) => {
  const schema = await postgres.emptySchema(t);
  // One connection: what the store's queries prepared is what this session's pg_prepared_statements shows.
  const store = await PostgresStore.open({ url: postgres.url, schema, poolMax: 1, statementTimeoutMs: 5000, connectTimeoutMs: 2000, logger: silentLogger });
  t.teardown(() => store.close());
  await store.append([{ matricula: '42', timestamp: Date.now() - 60_000, consumo: 5n }]);
  for (let i = 0; i < 3; i++) t.equal((await store.recentReadings('42', 1))[0]?.consumo, 5n);
  const { rows } = await store.db.run<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
  const recent = rows.filter((row) => row.statement.includes('FROM medicoes WHERE matricula = $1'));
  t.equal(recent.length, 1, `prepared once for three asks (${rows.map((row) => row.name).join(', ')})`);
});

t.test('an unreachable database is StoreError UNAVAILABLE (no retries with startupTimeoutMs 0)', async (t) => {
  await t.rejects(
    PostgresStore.open({ url: 'postgres://nobody:x@127.0.0.1:1/none', schema: 'public', poolMax: 1, statementTimeoutMs: 1000, connectTimeoutMs: 500, logger: silentLogger, startupTimeoutMs: 0 }),
    { name: 'StoreError', code: 'UNAVAILABLE' },
  );
});

t.test('invoices: servers with pools of their own, racing to issue one cycle, issue it once', async (t) => {
  const schema = await postgres.emptySchema(t);
  const servers = await Promise.all([open(schema), open(schema), open(schema)]);
  t.teardown(() => Promise.all(servers.map((s) => s.close())));
  const stores = servers.map((s) => new PgInvoiceStore(s.db));
  const results = await Promise.all(stores.flatMap((store) => [1, 2].map(() => store.issue('0101', '2026-05', async () => () => '{"total":1}', new Date('2026-06-11T00:00:00Z')))));
  t.equal(results.filter((r) => r.created).length, 1, 'six requests on three servers: one invoice');
  t.equal(new Set(results.map((r) => r.invoice.numero)).size, 1);
});

t.test('windows read ahead at start change no verdict: any history, then any batch, judged the same warmed or cold', async (t) => {
  const rules = admissionRules({ readingMinIntervalMs: 0, unregisteredMeters: 'aceitar', spikeFactor: 10, spikeFloorW: 1000, gapFactor: 3, zeroHours: 6 });
  const [warmSchema, coldSchema] = [postgres.schema(t), postgres.schema(t)];
  const openWith = (schema: string) => PostgresStore.open({ url: postgres.url, schema, poolMax: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000, logger: silentLogger, admission: rules });
  let run = 0;
  const T0 = Date.UTC(2026, 10, 1);
  const step = fc.record({ minutes: fc.integer({ min: 1, max: 600 }), wh: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.integer({ min: -200, max: 100_000 })) });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 45 }), { minLength: 1, maxLength: 3 }), fc.nat({ max: 44 }), async (meters, split) => {
      run++;
      const history: Reading[] = [];
      const batch: Reading[] = [];
      meters.forEach((steps, m) => {
        let at = T0;
        let register = 1_000_000n;
        steps.forEach((s, i) => {
          at += s.minutes * 60_000;
          register = register + BigInt(s.wh) < 0n ? 0n : register + BigInt(s.wh);
          (i < split ? history : batch).push({ matricula: `${run}0${m}`, timestamp: at, consumo: register });
        });
      });
      const outcomes: string[] = [];
      for (const [schema, warm] of [[warmSchema, true], [coldSchema, false]] as const) {
        const first = await openWith(schema);
        if (history.length > 0) await first.append(history);
        await first.close();
        const store = await openWith(schema);
        if (warm) t.ok((await store.warmWindows()) >= (history.length > 0 ? 1 : 0));
        const result = await store.append(batch);
        outcomes.push(JSON.stringify([result.outcomes, result.qualities]));
        await store.close();
      }
      return outcomes[0] === outcomes[1];
    }),
    { numRuns: 20 },
  );
});
