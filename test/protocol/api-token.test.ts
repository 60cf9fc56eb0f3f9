import fc from 'fast-check';
import t from 'tap';
import { signToken, verifyToken, type TokenClaims } from '../../protocol/api-token.js';

const key = fc.uint8Array({ minLength: 32, maxLength: 64 }).map((bytes) => Buffer.from(bytes));
const claims: fc.Arbitrary<TokenClaims> = fc.record({
  sub: fc.stringMatching(/^\d{1,20}$/),
  papel: fc.constantFrom('cliente' as const, 'operador' as const),
  username: fc.string({ minLength: 1, maxLength: 100 }),
  iat: fc.integer({ min: 0, max: 2 ** 40 }),
  exp: fc.integer({ min: 1, max: 2 ** 41 }),
  // The principal's token generation (0: none written): it reads back as it was signed.
  ger: fc.integer({ min: 0, max: 1_000_000 }),
}).filter((c) => c.exp > c.iat);

t.test('a token verifies under its key from iat until it expires, and never under another key', async (t) => {
  await fc.assert(
    fc.asyncProperty(claims, key, key, async (value, right, wrong) => {
      const token = await signToken(value, right);
      t.same(await verifyToken(token, right, value.exp - 1), { claims: value });
      t.same(await verifyToken(token, right, value.exp), { problem: 'EXPIRED' }, 'exp is exclusive (RFC 7519 §4.1.4)');
      if (value.iat > 0) t.same(await verifyToken(token, right, value.iat - 1), { problem: 'NOT_YET_VALID' }, 'issued in the future');
      if (!right.equals(wrong)) t.same(await verifyToken(token, wrong, value.exp - 1), { problem: 'BAD_SIGNATURE' });
    }),
    { numRuns: 200 },
  );
});

t.test('changing any character of a token makes it invalid', async (t) => {
  await fc.assert(
    fc.asyncProperty(claims, key, fc.nat(), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.='), async (value, k, at, char) => {
      const token = await signToken(value, k);
      const index = at % token.length;
      if (token[index] === char) return;
      const tampered = token.slice(0, index) + char + token.slice(index + 1);
      const result = await verifyToken(tampered, k, value.exp - 1);
      t.ok('problem' in result, `position ${index} changed to ${char}`);
    }),
    { numRuns: 1000 },
  );
});

t.test('free token: another spelling of the signature\'s last character is refused', async (t) => {
  const k = Buffer.alloc(32, 7);
  const value: TokenClaims = { sub: '13456789', papel: 'cliente', username: 'amancio123', iat: 100, exp: 1000, ger: 0 };
  const token = await signToken(value, k);
  let accepted = 0;
  for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
    if (char === token[token.length - 1]) continue;
    if ('claims' in (await verifyToken(token.slice(0, -1) + char, k, 500))) accepted++;
  }
  t.equal(accepted, 0, 'only the issued spelling verifies');
  t.same(await verifyToken(token, k, 500), { claims: value });
});

t.test('nbf is honoured; alg none, another algorithm or extra segments are refused', async (t) => {
  const k = Buffer.alloc(32, 1);
  const { SignJWT } = await import('jose');
  const early = await new SignJWT({ papel: 'cliente' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('1').setIssuedAt(0).setNotBefore(50).setExpirationTime(100).sign(k);
  t.same(await verifyToken(early, k, 10), { problem: 'NOT_YET_VALID' });
  t.ok('claims' in (await verifyToken(early, k, 60)));
  const hs512 = await new SignJWT({ papel: 'cliente' }).setProtectedHeader({ alg: 'HS512', typ: 'JWT' }).setSubject('1').setIssuedAt(0).setExpirationTime(100).sign(Buffer.alloc(64, 1));
  t.same(await verifyToken(hs512, Buffer.alloc(64, 1), 1), { problem: 'MALFORMED' });
  const token = await signToken({ sub: '1', papel: 'cliente', username: 'a', iat: 0, exp: 10 }, k);
  const [, payload] = token.split('.') as [string, string, string];
  const header = (json: object): string => Buffer.from(JSON.stringify(json)).toString('base64url');
  t.same(await verifyToken(`${header({ alg: 'none', typ: 'JWT' })}.${payload}.`, k, 1), { problem: 'MALFORMED' });
  t.same(await verifyToken(`${token}.extra`, k, 1), { problem: 'MALFORMED' });
  t.same(await verifyToken('', k, 1), { problem: 'MALFORMED' });
  const noRole = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('1').setIssuedAt(0).setExpirationTime(100).sign(k);
  t.same(await verifyToken(noRole, k, 1), { problem: 'MALFORMED' }, 'a token without a role');
});
