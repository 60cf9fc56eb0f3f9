import fc from 'fast-check';
import t from 'tap';
import { signToken, verifyToken } from '../../protocol/api-token.js';

const key = fc.uint8Array({ minLength: 32, maxLength: 64 }).map((bytes) => Buffer.from(bytes));
const claims = fc.record({
  sub: fc.stringMatching(/^\d{1,20}$/),
  username: fc.string({ minLength: 1, maxLength: 100 }),
  iat: fc.integer({ min: 0, max: 2 ** 40 }),
  exp: fc.integer({ min: 1, max: 2 ** 41 }),
});

t.test('a token verifies under its key until it expires, and never under another key', async () => {
  fc.assert(
    fc.property(claims, key, key, (value, right, wrong) => {
      const token = signToken(value, right);
      t.same(verifyToken(token, right, value.exp - 1), { claims: value });
      t.same(verifyToken(token, right, value.exp), { problem: 'EXPIRED' }, 'exp is exclusive (RFC 7519 §4.1.4)');
      if (!right.equals(wrong)) t.same(verifyToken(token, wrong, value.exp - 1), { problem: 'BAD_SIGNATURE' });
    }),
  );
});

t.test('changing any character of a token makes it invalid', async () => {
  fc.assert(
    fc.property(claims, key, fc.nat(), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.='), (value, k, at, char) => {
      const token = signToken(value, k);
      const index = at % token.length;
      if (token[index] === char) return;
      const tampered = token.slice(0, index) + char + token.slice(index + 1);
      const result = verifyToken(tampered, k, value.exp - 1);
      // base64url's last character may carry unused bits: a change there can decode to the same bytes.
      if ('claims' in result) t.same(Buffer.from(tampered.split('.')[2] ?? '', 'base64url'), Buffer.from(token.split('.')[2] ?? '', 'base64url'));
      else t.ok(result.problem === 'MALFORMED' || result.problem === 'BAD_SIGNATURE');
    }),
    { numRuns: 2000 },
  );
});

t.test('only the HS256 header is accepted: alg none or another algorithm is malformed', async () => {
  const k = Buffer.alloc(32, 1);
  const token = signToken({ sub: '1', username: 'a', iat: 0, exp: 10 }, k);
  const [, payload, mac] = token.split('.') as [string, string, string];
  const header = (json: object): string => Buffer.from(JSON.stringify(json)).toString('base64url');
  t.same(verifyToken(`${header({ alg: 'none', typ: 'JWT' })}.${payload}.`, k, 1), { problem: 'MALFORMED' });
  t.same(verifyToken(`${header({ alg: 'HS512', typ: 'JWT' })}.${payload}.${mac}`, k, 1), { problem: 'MALFORMED' });
  t.same(verifyToken(`${token}.extra`, k, 1), { problem: 'MALFORMED' });
  t.same(verifyToken('', k, 1), { problem: 'MALFORMED' });
});
