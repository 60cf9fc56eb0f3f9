/** Settings: defaults, flags over environment, and one ConfigError naming each bad setting. */
import fc from 'fast-check';
import t from 'tap';
import { ConfigError, loadConfig, SETTINGS } from '../../server/config.js';

const LIMIT_SETTINGS = [
  ['HTTP_TEMPO_CABECALHOS_MS', 'httpHeaderTimeoutMs', 100, 9_999_999],
  ['HTTP_TEMPO_CORPO_MS', 'httpBodyTimeoutMs', 100, 9_999_999],
  ['HTTP_TEMPO_OCIOSO_MS', 'httpIdleTimeoutMs', 100, 9_999_999],
  ['HTTP_MAX_CONEXOES', 'httpMaxConnections', 1, 1_000_000],
  ['HTTP_MAX_PIPELINE', 'httpMaxPipelined', 1, 1024],
  ['MAX_MEDIDORES', 'maxMeters', 1, 100_000_000],
  ['UDP_MAX_PENDENTES', 'udpMaxPending', 100, 100_000_000],
] as const;

t.test('every setting has a default that loads', async (t) => {
  const config = loadConfig({}, []);
  t.equal(config.httpHeaderTimeoutMs, 10_000);
  t.equal(config.httpBodyTimeoutMs, 10_000);
  t.equal(config.httpIdleTimeoutMs, 30_000);
  t.equal(config.httpMaxConnections, 10_000);
  t.equal(config.httpMaxPipelined, 32);
  t.equal(config.maxMeters, 1_000_000);
  t.equal(config.udpMaxPending, 200_000);
  t.ok(Object.isFrozen(config));
});

t.test('limits accept any whole number in range, from the environment or a flag', async (t) => {
  for (const [env, field, min, max] of LIMIT_SETTINGS) {
    const flag = `--${SETTINGS[field].flag}`;
    fc.assert(
      fc.property(fc.integer({ min, max }), (value) => {
        t.equal(loadConfig({ [env]: String(value) }, [])[field], value);
        t.equal(loadConfig({ [env]: String(min) }, [flag, String(value)])[field], value, 'the flag wins');
      }),
      { numRuns: 50 },
    );
  }
});

/** The ConfigError loadConfig throws, or undefined if it loads. */
function configError(env: Record<string, string>, argv: string[]): ConfigError | undefined {
  try {
    loadConfig(env, argv);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

t.test('a bad limit is a ConfigError naming it, in one line', async (t) => {
  for (const [env, field, min, max] of LIMIT_SETTINGS) {
    for (const bad of ['', 'abc', '-1', '1.5', String(min - 1), String(max + 1), '1e3']) {
      const error = configError({ [env]: bad }, []);
      t.equal(error?.setting, env, `${env}=${JSON.stringify(bad)}`);
      t.notMatch(error?.message ?? '', /\n/);
    }
    const flag = `--${SETTINGS[field].flag}`;
    t.equal(configError({}, [flag, 'x'])?.setting, flag);
  }
});

t.test('settings that need PostgreSQL, or each other, say so in one line naming the setting', async (t) => {
  for (const [env, setting] of [
    [{ PROCESSOS: '2' }, 'PROCESSOS'],
    [{ RETENCAO_MESES: '12' }, 'RETENCAO_MESES'],
    [{ STORAGE: 'postgres', DATABASE_URL: 'postgres://u:p@h/d', RETENCAO_EXPORTAR: '/tmp/x' }, 'RETENCAO_EXPORTAR'],
  ] as const) {
    const error = configError(env, []);
    t.equal(error?.setting, setting, JSON.stringify(env));
    t.notMatch(error?.message ?? '', /\n/);
  }
  const fine = loadConfig({ STORAGE: 'postgres', DATABASE_URL: 'postgres://u:p@h/d', PROCESSOS: '2', RETENCAO_MESES: '24', RETENCAO_EXPORTAR: 'exportadas' }, []);
  t.same([fine.processes, fine.retentionMonths], [2, 24]);
  t.ok(fine.retentionExportDir.endsWith('/exportadas') && fine.retentionExportDir.startsWith('/'), 'an absolute directory');
});

t.test('ports, the tariff, the time zone and the log level: a bad value is a ConfigError naming it, in one line (process.test checks what the process does with one)', async (t) => {
  for (const [env, bad] of [['HTTP_PORT', 'abc'], ['UDP_PORT', '70000'], ['TARIFA', '-1'], ['TZ_LEGADO', 'Mars/Olympus'], ['LOG_LEVEL', 'loud']] as const) {
    const error = configError({ [env]: bad }, []);
    t.equal(error?.setting, env, `${env}=${bad}`);
    t.match(error?.message ?? '', `invalid setting ${env}`);
    t.notMatch(error?.message ?? '', /\n/);
  }
});
