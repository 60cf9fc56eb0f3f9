/**
 * Customer passwords: only a salted scrypt hash is kept (RFC 7914), in a
 * self-describing text form `scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`
 * (base64, no padding), so the cost can be raised later: a stored hash is
 * verified with the parameters it names, and new hashes use the current
 * ones. scrypt runs where the caller's KDF runs it (the server: a thread of
 * its own, app/auth/password-hasher.ts), never on the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { createRequire } from 'node:module';

/** 8 to 128 characters (counted as Unicode code points). */
export const MIN_PASSWORD_CHARS = 8;
export const MAX_PASSWORD_CHARS = 128;

export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^15, r = 8, p = 1: 32 MiB and some tens of ms per hash on this project's 2-core machine. */
export const DEFAULT_SCRYPT: ScryptParameters = { ln: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Parameters outside these are refused when read back (a tampered file must not make one check cost minutes or gigabytes). */
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;

const STORED_PATTERN = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{16,88})$/;

export function passwordLength(password: string): number {
  let count = 0;
  for (const _ of password) count++;
  return count;
}

export function isAcceptablePassword(password: string): boolean {
  const length = passwordLength(password);
  return length >= MIN_PASSWORD_CHARS && length <= MAX_PASSWORD_CHARS;
}

/** scrypt (RFC 7914) of a password: where it runs is the caller's choice. */
export type Kdf = (password: string, salt: Buffer, options: { readonly N: number; readonly r: number; readonly p: number; readonly maxmem: number }, length: number) => Promise<Buffer>;

/** scrypt on libuv's thread pool (tests, the import command). */
export const LIBUV_SCRYPT: Kdf = (password, salt, options, length) =>
  new Promise((resolve, reject) => scrypt(password, salt, length, options as ScryptOptions, (error, key) => (error === null ? resolve(key) : reject(error))));

let common: ReadonlySet<string> | undefined;

/** The package decompresses its dictionaries when loaded (~60 ms of CPU with the collection it leaves): loaded on first use, not with every process that imports this module. */
function loadCommonPasswords(): ReadonlySet<string> {
  const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as { dictionary: Record<string, readonly string[]> };
  return new Set((dictionary['passwords-common'] as readonly string[]).map((word) => word.toLowerCase()));
}

/**
 * Whether `password` is one people commonly choose, or the account's own
 * username or matricula (compared in lower case, NFC): the list is
 * zxcvbn-ts's common passwords (@zxcvbn-ts/language-common, 49,233 from
 * leaked-password corpora), read once, on first use.
 */
export function isCommonPassword(password: string, account: { readonly username?: string; readonly matricula?: string } = {}): boolean {
  const plain = password.normalize('NFC').toLowerCase();
  if (plain === account.username?.normalize('NFC').toLowerCase() || plain === account.matricula) return true;
  common ??= loadCommonPasswords();
  return common.has(plain);
}

function derive(password: string, salt: Buffer, parameters: ScryptParameters, length: number, kdf: Kdf): Promise<Buffer> {
  const N = 2 ** parameters.ln;
  return kdf(password.normalize('NFC'), salt, { N, r: parameters.r, p: parameters.p, maxmem: 2 * 128 * N * parameters.r + (1 << 20) }, length);
}

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, parameters: ScryptParameters = DEFAULT_SCRYPT, kdf: Kdf = LIBUV_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, parameters, HASH_BYTES, kdf);
  return `scrypt$ln=${parameters.ln},r=${parameters.r},p=${parameters.p}$${b64(salt)}$${b64(hash)}`;
}

/** The parts of a stored hash, or undefined when it is not one this module wrote. */
export function parseStoredHash(stored: string): { parameters: ScryptParameters; salt: Buffer; hash: Buffer } | undefined {
  const match = STORED_PATTERN.exec(stored);
  if (match === null) return undefined;
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (ln < 1 || ln > MAX_LN || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return undefined;
  return { parameters: { ln, r, p }, salt: Buffer.from(match[4] as string, 'base64'), hash: Buffer.from(match[5] as string, 'base64') };
}

/** A hash of no password, checked when a customer has none or does not exist, so both cost what a real check costs. */
let decoy: Promise<string> | undefined;

/**
 * Whether `password` matches `stored` (constant-time comparison). With no
 * stored hash (unknown customer, or none set) a decoy hash is checked and
 * false returned: the answer takes as long either way.
 */
export async function verifyPassword(password: string, stored: string | undefined, kdf: Kdf = LIBUV_SCRYPT): Promise<boolean> {
  const parsed = stored === undefined ? undefined : parseStoredHash(stored);
  if (parsed === undefined) {
    decoy ??= hashPassword(randomBytes(12).toString('hex'), DEFAULT_SCRYPT, kdf);
    const fake = parseStoredHash(await decoy) as NonNullable<ReturnType<typeof parseStoredHash>>;
    const derived = await derive(password, fake.salt, fake.parameters, fake.hash.length, kdf);
    timingSafeEqual(derived, fake.hash);
    return false;
  }
  const derived = await derive(password, parsed.salt, parsed.parameters, parsed.hash.length, kdf);
  return derived.length === parsed.hash.length && timingSafeEqual(derived, parsed.hash);
}
