/**
 * API tokens: JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (JWS
 * HS256, RFC 7515), so any JWT tool can read them. Only this one header is
 * accepted: a token naming another algorithm is malformed, never
 * "verified" some other way (RFC 8725 §3.1). Pure: key and clock are given.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** The customer's matricula: what the token may read. */
  readonly sub: string;
  readonly username: string;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
}

export type TokenProblem = 'MALFORMED' | 'BAD_SIGNATURE' | 'EXPIRED';

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const SEGMENT = /^[A-Za-z0-9_-]+$/;

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function signature(signingInput: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(signingInput, 'latin1').digest();
}

export function signToken(claims: TokenClaims, key: Buffer): string {
  const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${signature(signingInput, key).toString('base64url')}`;
}

/** The claims of a token this key signed and that has not expired at `nowSeconds`, or why not. */
export function verifyToken(token: string, key: Buffer, nowSeconds: number): { claims: TokenClaims } | { problem: TokenProblem } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER || !parts.every((part) => SEGMENT.test(part))) return { problem: 'MALFORMED' };
  const [, payload, mac] = parts as [string, string, string];
  const expected = signature(`${HEADER}.${payload}`, key);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { problem: 'BAD_SIGNATURE' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { problem: 'MALFORMED' };
  }
  if (!isClaims(claims)) return { problem: 'MALFORMED' };
  if (nowSeconds >= claims.exp) return { problem: 'EXPIRED' };
  return { claims };
}

function isClaims(value: unknown): value is TokenClaims {
  if (value === null || typeof value !== 'object') return false;
  const claims = value as Record<string, unknown>;
  return typeof claims.sub === 'string' && typeof claims.username === 'string' && Number.isInteger(claims.iat) && Number.isInteger(claims.exp);
}
