import fc from 'fast-check';
import t from 'tap';
import { CUSTOMER_WINDOW_MS, LoginLimits, MAX_ATTEMPTS_PER_SOURCE, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_CUSTOMER, SOURCE_WINDOW_MS } from '../../../domain/auth/login-limits.js';
import { hashPassword, isAcceptablePassword, parseStoredHash, verifyPassword } from '../../../domain/auth/password.js';

t.test('a customer and source are refused after 5 failures in 15 minutes, until the oldest ages out; other sources are not', async (t) => {
  const limits = new LoginLimits();
  for (let i = 0; i < MAX_FAILURES_PER_CUSTOMER; i++) {
    t.equal(limits.admit('10.0.0.1', 'c', i * 1000), 0);
    limits.failed('c', '10.0.0.1', i * 1000);
  }
  t.equal(limits.admit('10.0.0.1', 'c', 10_000), Math.ceil((CUSTOMER_WINDOW_MS - 10_000) / 1000));
  t.equal(limits.admit('10.0.9.9', 'c', 10_000), 0, 'the owner, from an address with no failures, is not locked out');
  t.equal(limits.admit('10.0.0.1', 'c', CUSTOMER_WINDOW_MS), 0, 'the first failure has aged out');
  limits.succeeded('c', '10.0.0.1');
  t.equal(limits.admit('10.0.0.1', 'c', CUSTOMER_WINDOW_MS + 1), 0);
});

t.test('nobody can lock the owner out (regression, issue 26: 10 addresses under the per-address limit made 8 of 15 logins fail)', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 3_599_999 })), { maxLength: 400 }), (guesses) => {
      const limits = new LoginLimits();
      const sorted = [...guesses].sort((a, b) => a[1] - b[1]);
      let admitted = 0;
      const sources = new Set<number>();
      for (const [source, at] of sorted) {
        if (limits.admit(`10.1.${source >> 8}.${source & 255}`, 'c', at) === 0) {
          admitted++;
          sources.add(source);
          limits.failed('c', `10.1.${source >> 8}.${source & 255}`, at);
        }
      }
      const last = sorted.at(-1)?.[1] ?? 0;
      // The owner, from its own address, is let in whatever the guessers did.
      if (limits.admit('192.168.0.10', 'c', last) !== 0) return false;
      // Past the account's cap, each guessing address gets at most one more guess an hour.
      return admitted <= MAX_FAILURES_PER_ACCOUNT + sources.size;
    }),
    { numRuns: 200 },
  );
  const limits = new LoginLimits();
  for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) {
    t.equal(limits.admit(`10.2.0.${i}`, 'c', i), 0);
    limits.failed('c', `10.2.0.${i}`, i);
  }
  t.ok(limits.admit('10.2.0.0', 'c', 100) > 0, 'past the cap, a source that failed waits');
  t.equal(limits.admit('10.2.1.1', 'c', 100), 0, 'a clean one may try');
  limits.failed('c', '10.2.1.1', 100);
  t.ok(limits.admit('10.2.1.1', 'c', 200) > 0, 'and once it failed, it waits too');
});

t.test('a source is refused past 30 attempts a minute, whatever the customers', async (t) => {
  const limits = new LoginLimits();
  for (let i = 0; i < MAX_ATTEMPTS_PER_SOURCE; i++) t.equal(limits.admit('s', `c${i}`, i), 0);
  t.ok(limits.admit('s', 'new', 100) > 0);
  t.equal(limits.admit('s', 'new', SOURCE_WINDOW_MS + 100), 0);
});

t.test('memory stays bounded however many sources and customers are tried', async (t) => {
  const limits = new LoginLimits({ maxTracked: 1000 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string(), fc.string(), fc.boolean()), { maxLength: 3000 }), (events) => {
      events.forEach(([source, customer, fail], i) => {
        limits.admit(source, customer, i);
        if (fail) limits.failed(customer, source, i);
      });
      t.ok(limits.tracked.customers <= 1000 && limits.tracked.sources <= 1000);
    }),
    { numRuns: 20 },
  );
  for (let i = 0; i < 5000; i++) limits.admit(`source-${i}`, `customer-${i}`, i);
  t.ok(limits.tracked.sources <= 1000);
});

t.test('passwords: a hash verifies its password only; parameters travel with it', async (t) => {
  const fast = { ln: 4, r: 8, p: 1 };
  await fc.assert(
    fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), async (password, other) => {
      const stored = await hashPassword(password, fast);
      t.same(parseStoredHash(stored)?.parameters, fast);
      t.equal(await verifyPassword(password, stored), true);
      if (other.normalize('NFC') !== password.normalize('NFC')) t.equal(await verifyPassword(other, stored), false);
    }),
    { numRuns: 50 },
  );
  t.equal(await verifyPassword('anything', undefined), false, 'no hash: false, after the same work');
  t.equal(await verifyPassword('anything', 'scrypt$ln=99,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), false, 'absurd parameters are not run');
  t.equal(isAcceptablePassword('1234567'), false);
  t.equal(isAcceptablePassword('🔑'.repeat(8)), true, 'characters, not UTF-16 units');
  t.equal(isAcceptablePassword('x'.repeat(129)), false);
});
