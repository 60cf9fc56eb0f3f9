/**
 * API tokens: JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (JWS
 * HS256), made and checked by `jose`. Only HS256 is accepted (RFC 8725
 * §3.1): a token naming another algorithm, `none` included, is refused.
 * `exp` is required, `nbf` and `iat` are honoured. Pure: key and clock are
 * given.
 */
import { errors, jwtVerify, SignJWT } from 'jose';

export const TOKEN_ROLES = ['cliente', 'operador'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export interface TokenClaims {
  /** A customer's matricula (role `cliente`), or the operator's name (role `operador`). */
  readonly sub: string;
  readonly papel: TokenRole;
  /** The customer's username (role `cliente`). */
  readonly username?: string | undefined;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
  /** The principal's token generation when issued (0 when absent): a token of an older generation was revoked. */
  readonly ger?: number | undefined;
}

export type TokenProblem = 'MALFORMED' | 'BAD_SIGNATURE' | 'EXPIRED' | 'NOT_YET_VALID';

const ALGORITHM = 'HS256';

export async function signToken(claims: TokenClaims, key: Buffer): Promise<string> {
  const payload: Record<string, unknown> = { papel: claims.papel };
  if (claims.username !== undefined) payload.username = claims.username;
  if (claims.ger !== undefined && claims.ger > 0) payload.ger = claims.ger;
  return new SignJWT(payload).setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' }).setSubject(claims.sub).setIssuedAt(claims.iat).setExpirationTime(claims.exp).sign(key);
}

/** The claims of a token this key signed and valid at `nowSeconds`, or why not. */
export async function verifyToken(token: string, key: Buffer, nowSeconds: number): Promise<{ claims: TokenClaims } | { problem: TokenProblem }> {
  // base64url's last character carries unused bits, and jose decodes every one of its
  // encodings to the same signature: only the canonical spelling is the token issued.
  const signature = token.slice(token.lastIndexOf('.') + 1);
  if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) return { problem: 'MALFORMED' };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      currentDate: new Date(nowSeconds * 1000),
      requiredClaims: ['sub', 'exp', 'iat'],
      typ: 'JWT',
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { problem: 'EXPIRED' };
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return { problem: 'NOT_YET_VALID' };
    if (error instanceof errors.JWSSignatureVerificationFailed) return { problem: 'BAD_SIGNATURE' };
    return { problem: 'MALFORMED' };
  }
  const { sub, papel, username, iat, exp, ger } = payload;
  if (typeof sub !== 'string' || !TOKEN_ROLES.includes(papel as TokenRole) || typeof iat !== 'number' || typeof exp !== 'number') return { problem: 'MALFORMED' };
  if (username !== undefined && typeof username !== 'string') return { problem: 'MALFORMED' };
  if (ger !== undefined && !(Number.isSafeInteger(ger) && (ger as number) > 0)) return { problem: 'MALFORMED' };
  if (iat > nowSeconds) return { problem: 'NOT_YET_VALID' };
  return { claims: { sub, papel: papel as TokenRole, username, iat, exp, ger: (ger as number | undefined) ?? 0 } };
}
