import fc from 'fast-check';
import t from 'tap';
import { MAX_DATAGRAM_BYTES, parseReadingDatagram, type Reading } from '../../protocol/meter-protocol.js';
import { consecutiveMatriculas } from '../../meter/fleet.js';
import { OptionError, parseMeterCommandLine, parseServer } from '../../meter/options.js';
import { MAX_INCREMENT_UNITS, meterSeed, SimulatedMeter } from '../../meter/simulated-meter.js';
import { DEMO_INCREMENT_INTERVAL_S, DEMO_MIN_INCREMENT_UNITS, DEMO_PEAK_AFTER_S, DEMO_PEAK_FACTOR, DEMO_PEAK_SEND_INTERVAL_S, DEMO_SEND_INTERVAL_S } from '../../meter/demo-fleet.js';
import { ALERT_READINGS, computeAlert } from '../../domain/readings/consumption.js';
import { MeterWindow } from '../../domain/readings/admission.js';
import { DEFAULT_QUALITY_RULES, formatQuality } from '../../domain/readings/quality.js';

const settings = (overrides: Partial<ConstructorParameters<typeof SimulatedMeter>[0]> = {}) => ({
  matricula: '13456789',
  initialRegister: 0n,
  seed: 42,
  maxPending: 1000,
  ...overrides,
});

const parse = (datagram: string): Reading[] => parseReadingDatagram(Buffer.from(datagram), { legacyTimeZone: 'UTC' }).values;

t.test('the register only grows, by the minimum to 20 units a tick, reproducibly from the seed', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: MAX_INCREMENT_UNITS }), (seed, ticks, minimum) => {
      const a = new SimulatedMeter(settings({ seed, minIncrementUnits: minimum }));
      const b = new SimulatedMeter(settings({ seed, minIncrementUnits: minimum }));
      let previous = a.register;
      for (let i = 0; i < ticks; i++) {
        a.tick(i);
        b.tick(i);
        const step = a.register - previous;
        if (step < BigInt(minimum) * 1000n || step > BigInt(MAX_INCREMENT_UNITS) * 1000n || step % 1000n !== 0n) throw new Error(`bad step ${step} (minimum ${minimum})`);
        previous = a.register;
      }
      t.equal(a.register, b.register, 'same seed, same consumption');
    }),
    { numRuns: 100 },
  );
  t.not(meterSeed(1, '13456789'), meterSeed(1, '13456790'), 'meters of one fleet differ');
});

t.test('a peak multiplies the consumption from its moment on', async (t) => {
  const plain = new SimulatedMeter(settings());
  const peaked = new SimulatedMeter(settings({ peak: { factorThousandths: 2500n, afterMs: 10 } }));
  for (let i = 0; i < 10; i++) {
    plain.tick(i);
    peaked.tick(i);
  }
  t.equal(peaked.register, plain.register, 'nothing changes before the peak');
  const before = [plain.register, peaked.register];
  for (let i = 10; i < 40; i++) {
    plain.tick(i);
    peaked.tick(i);
  }
  t.equal((peaked.register - before[1]!) * 1000n, (plain.register - before[0]!) * 2500n, '2.5x the same random increments');
});

t.test('readings wait, oldest first, in one datagram within the size limit at a time, until an ACK covers them', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 400 }), (gaps) => {
      const meter = new SimulatedMeter(settings());
      let now = Date.UTC(2026, 0, 1);
      const taken: Reading[] = [];
      for (const gap of gaps) {
        now += gap; // gaps of 0 must still give strictly increasing timestamps
        meter.tick(0);
        meter.takeReading(now);
      }
      const datagram = meter.nextDatagram() as string;
      if (Buffer.byteLength(datagram) > MAX_DATAGRAM_BYTES) throw new Error('datagram too large');
      taken.push(...parse(datagram));
      if (taken[0]?.timestamp !== Date.UTC(2026, 0, 1) + gaps[0]!) throw new Error('a datagram starts with the oldest unacknowledged reading');
      for (let i = 1; i < taken.length; i++) {
        if (taken[i]!.timestamp <= taken[i - 1]!.timestamp) throw new Error('timestamps must increase');
        if (taken[i]!.consumo < taken[i - 1]!.consumo) throw new Error('the register must not go down');
      }
      const covered = taken[Math.floor(taken.length / 2)]!;
      const before = meter.pending;
      meter.acknowledge(covered.timestamp);
      t.equal(meter.pending, before - Math.floor(taken.length / 2) - 1);
      t.equal(meter.counters.acknowledged, Math.floor(taken.length / 2) + 1);
    }),
    { numRuns: 100 },
  );
});

t.test('an ACK covering everything sent asks for the next datagram of a backlog', async (t) => {
  const meter = new SimulatedMeter(settings());
  for (let i = 0; i < 200; i++) meter.takeReading(Date.UTC(2026, 0, 1) + i * 1000);
  const first = parse(meter.nextDatagram()!);
  t.ok(first.length > 10 && first.length < 200);
  t.equal(meter.acknowledge(first[3]!.timestamp), false, 'a partial ACK waits for the rest');
  t.equal(meter.acknowledge(first[first.length - 1]!.timestamp), true, 'all sent covered, more pending: send now');
  t.equal(meter.pending, 200 - first.length);
  let rest: Reading[] = [];
  while (meter.pending > 0) {
    rest = parse(meter.nextDatagram()!);
    meter.acknowledge(rest[rest.length - 1]!.timestamp);
  }
  t.equal(meter.nextDatagram(), undefined, 'nothing more pending');
});

t.test('a full buffer drops the oldest readings and counts them', async (t) => {
  const meter = new SimulatedMeter(settings({ maxPending: 5 }));
  let dropped = 0;
  for (let i = 0; i < 8; i++) dropped += meter.takeReading(1000 + i);
  t.equal(dropped, 3);
  t.equal(meter.counters.dropped, 3);
  t.same(parse(meter.nextDatagram()!).map((r) => r.timestamp), [1003, 1004, 1005, 1006, 1007]);
});

t.test('meter options: flags, MEDIDOR_* variables, one clear error per bad value', async (t) => {
  const options = parseMeterCommandLine(['--matricula', '09812389', '--intervalo-envio', '0.5', '--pico', '2.5', '--pico-apos', '30'], { MEDIDOR_PORTA: '60001', MEDIDOR_INTERVALO_ENVIO: '99' });
  t.same(options.matriculas, ['09812389']);
  t.equal(options.port, 60001);
  t.equal(options.sendIntervalMs, 500, 'a flag wins over the environment');
  t.equal(options.incrementIntervalMs, 1000);
  t.same(options.peak, { factorThousandths: 2500n, afterMs: 30_000 });
  t.equal(options.initialRegister, undefined, 'no --inicial: resumed from the server (or its --estado), else 0');
  t.equal(options.httpPort, 50000, 'asks the server on its default HTTP port');
  t.equal(parseMeterCommandLine(['--porta-http', '0'], {}).httpPort, undefined, '--porta-http 0: not asked');
  t.match(parseMeterCommandLine([], {}).matriculas[0], /^[1-9]\d{7}$/, 'a random 8-digit matricula by default');
  t.same(parseMeterCommandLine(['--matriculas', '1, 2,3'], {}).matriculas, ['1', '2', '3']);
  for (const [args, env, option] of [
    [['--porta', '70000'], {}, '--porta'],
    [['--intervalo-envio', '0'], {}, '--intervalo-envio'],
    [['--intervalo-incremento', 'abc'], {}, '--intervalo-incremento'],
    [['--matricula', '12a'], {}, '--matricula'],
    [['--inicial=-1'], {}, '--inicial'],
    [['--pico', '0'], {}, '--pico'],
    [['--pico-apos', '10'], {}, '--pico-apos'],
    [[], { MEDIDOR_SEMENTE: 'x' }, 'MEDIDOR_SEMENTE'],
    [['--matricula', '1', '--matriculas', '2'], {}, '--matriculas'],
    [['--nada', '1'], {}, 'command line'],
    [['--servidores', 'localhost'], {}, '--servidores'],
    [['--servidores', 'a:1,b:0'], {}, '--servidores'],
    [['--servidores', 'a:1,,b:2'], {}, '--servidores'],
    [['--servidores', Array.from({ length: 17 }, (_, i) => `h${i}:1`).join(',')], {}, '--servidores'],
  ] as const) {
    t.throws(() => parseMeterCommandLine(args, env), { name: 'OptionError', option }, option);
  }
  t.ok(new OptionError('--x', 'y').message.startsWith('invalid option --x'));
});

t.test('--servidores: host:porta lists, IPv6 in brackets; without it, --host and --porta', async (t) => {
  t.same(parseMeterCommandLine(['--servidores', '10.0.0.1:60000, servidor-b:60001,[::1]:60002'], {}).servers, [
    { host: '10.0.0.1', port: 60000 },
    { host: 'servidor-b', port: 60001 },
    { host: '::1', port: 60002 },
  ]);
  t.same(parseMeterCommandLine([], { MEDIDOR_HOST: 'h', MEDIDOR_PORTA: '5' }).servers, [{ host: 'h', port: 5 }]);
  fc.assert(
    fc.property(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`)), fc.integer({ min: 1, max: 65535 }), (host, port) => {
      const parsed = parseServer(`${host}:${port}`);
      t.same(parsed, { host: host.startsWith('[') ? host.slice(1, -1) : host, port });
    }),
    { numRuns: 300 },
  );
  fc.assert(fc.property(fc.string(), (text) => {
    const parsed = parseServer(text);
    // Whatever it takes is a host without spaces and a port in range, and reads back as it was written.
    if (parsed !== undefined) t.ok(parsed.port >= 1 && parsed.port <= 65535 && !/\s/.test(parsed.host) && (text === `${parsed.host}:${parsed.port}` || text === `[${parsed.host}]:${parsed.port}` || /^0\d/.test(text.split(':').pop() as string)));
  }), { numRuns: 500 });
});

t.test('consecutive matriculas keep their width', async (t) => {
  t.same(consecutiveMatriculas('00000098', 3), ['00000098', '00000099', '00000100']);
  t.same(consecutiveMatriculas('9', 2), ['9', '10']);
  t.throws(() => consecutiveMatriculas('99999999999999999999', 2), { name: 'OptionError' });
});

t.test("the demo's meters make the 1.5x rule meaningful: no alert on ordinary noise, an alert on the spike", async (t) => {
  const ticksPerPeriod = Math.round(DEMO_SEND_INTERVAL_S / DEMO_INCREMENT_INTERVAL_S);
  const alertsOf = (meter: SimulatedMeter, ticksOfPeriods: readonly number[], elapsedOf: (period: number) => number): boolean[] => {
    const readings: Reading[] = [];
    ticksOfPeriods.forEach((ticks, period) => {
      for (let i = 0; i < ticks; i++) meter.tick(elapsedOf(period));
      readings.push({ matricula: meter.matricula, timestamp: period * 1000, consumo: meter.register });
    });
    const alerts: boolean[] = [];
    for (let end = ALERT_READINGS; end <= readings.length; end++) {
      const alert = computeAlert(readings.slice(end - ALERT_READINGS, end));
      if (alert === 'inconsistent') throw new Error('a steady register went down');
      alerts.push(alert.alert);
    }
    return alerts;
  };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      // Timers drift: a period may hold one increment more or fewer than planned.
      fc.array(fc.integer({ min: ticksPerPeriod - 1, max: ticksPerPeriod + 1 }), { minLength: 30, maxLength: 60 }),
      (seed, ticks) => {
        const steady = new SimulatedMeter(settings({ seed, minIncrementUnits: DEMO_MIN_INCREMENT_UNITS }));
        return alertsOf(steady, ticks, () => 0).every((alert) => !alert);
      },
    ),
    { numRuns: 300 },
  );
  const peakTicks = Math.round(DEMO_PEAK_SEND_INTERVAL_S / DEMO_INCREMENT_INTERVAL_S);
  const spiking = new SimulatedMeter(
    settings({ minIncrementUnits: DEMO_MIN_INCREMENT_UNITS, peak: { factorThousandths: BigInt(DEMO_PEAK_FACTOR) * 1000n, afterMs: DEMO_PEAK_AFTER_S * 1000 } }),
  );
  const alerts = alertsOf(spiking, Array.from({ length: 12 }, () => peakTicks), (period) => period * DEMO_PEAK_SEND_INTERVAL_S * 1000);
  t.ok(alerts.some((alert) => alert), 'the spike alerts');
  t.notOk(alerts[alerts.length - 1], 'and the alert ends once the spike is the new mean');
});

t.test("the demo's spike is an ordinary surge to validation: none of its readings is flagged, so it still alerts", async (t) => {
  const peakTicks = Math.round(DEMO_PEAK_SEND_INTERVAL_S / DEMO_INCREMENT_INTERVAL_S);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
      const meter = new SimulatedMeter(
        settings({ seed, minIncrementUnits: DEMO_MIN_INCREMENT_UNITS, peak: { factorThousandths: BigInt(DEMO_PEAK_FACTOR) * 1000n, afterMs: DEMO_PEAK_AFTER_S * 1000 } }),
      );
      const window = new MeterWindow();
      const flags: string[] = [];
      for (let period = 0; period < 40; period++) {
        for (let i = 0; i < peakTicks; i++) meter.tick(period * DEMO_PEAK_SEND_INTERVAL_S * 1000);
        const reading = { matricula: meter.matricula, timestamp: (period + 1) * DEMO_PEAK_SEND_INTERVAL_S * 1000, consumo: meter.register };
        const mask = window.assess(reading, DEFAULT_QUALITY_RULES);
        window.add(reading.timestamp, Number(reading.consumo), mask);
        if (mask !== 0) flags.push(`${period}:${formatQuality(mask)}`);
      }
      t.same(flags, [], `seed ${seed}`);
    }),
    { numRuns: 200 },
  );
});

t.test('electrical quantities: plausible around nominal, power from the increments, none after a cut; a sag raises subtensao once', async (t) => {
  const meter = new SimulatedMeter(settings({ nominalVoltage: 220, minIncrementUnits: 10 }));
  const measured = [];
  for (let period = 0; period < 50; period++) {
    const before = meter.register;
    for (let i = 0; i < 4; i++) meter.tick(0);
    meter.takeReading(period * 1000);
    const reading = meter.pendingReadingsForTest().at(-1) as Reading;
    const q = reading.quantities!;
    measured.push(q);
    t.ok(q.voltage! >= 215_600 && q.voltage! <= 224_400, `voltage within 2% of 220 V (${q.voltage})`);
    t.ok(q.powerFactor! >= 850 && q.powerFactor! <= 990, 'power factor 0.85-0.99');
    t.ok(Math.abs(q.frequency! - 60_000) <= 50, '60 Hz +/- 0.05');
    t.ok(Math.abs(q.activePower! - Number((reading.consumo - before) / 4n) / 8) <= 1, 'kW is the mean increment per tick over the 8 hours a tick stands for');
    t.ok(q.activePower! >= 1250 && q.activePower! <= 2500, `a home's power: 10 to 20 kWh a tick is 1.25 to 2.5 kW (${q.activePower})`);
    t.ok(q.current! <= 14_000, `tens of A at most (${q.current})`);
    const expectedCurrent = (q.activePower! * 1000) / ((q.voltage! / 1000) * (q.powerFactor! / 1000));
    t.ok(Math.abs(q.current! - expectedCurrent) <= 1 + expectedCurrent / 1000, 'current = P / (V x FP), within the rounding of V and FP to thousandths');
  }
  t.equal(meter.pendingEvents.length, 0, 'no event while the voltage is normal');
  meter.takeReading(60_000);
  t.equal(meter.pendingReadingsForTest().at(-1)?.quantities?.activePower, 0, 'no ticks since the last reading (cut, or no load): no power');
  meter.voltageDeviation = -0.2;
  meter.takeReading(61_000);
  meter.takeReading(62_000);
  t.same(meter.pendingEvents.map((e) => [e.type, e.timestamp]), [['subtensao', 61_000]], 'a sag below 90% raises one subtensao, not one per reading');
  t.match(meter.pendingEvents[0]?.detail, /^tensão 1[67]\d,\d V, nominal 220 V$/);
  meter.voltageDeviation = 0;
  meter.takeReading(63_000);
  meter.voltageDeviation = 0.15;
  meter.takeReading(64_000);
  t.same(meter.pendingEvents.map((e) => e.type), ['subtensao', 'sobretensao'], 'back to normal, then a swell: a new excursion');
  const plain = new SimulatedMeter(settings());
  plain.tick(0);
  plain.takeReading(1000);
  t.equal(plain.pendingReadingsForTest()[0]?.quantities, undefined, 'without a nominal voltage, no quantities (the original format)');
  t.notMatch(plain.nextDatagram(), /V=/);
});
