/**
 * Password checks for the API: login limits (per customer and source, per
 * source; login-limits.ts), the password rules (length, not a common one),
 * and the hashing itself, on a thread of its own (password-hasher.ts) and
 * shared in turn between source addresses (FairGate): a flood of logins
 * neither delays the file store's writes on libuv's thread pool nor keeps a
 * real customer's login waiting behind the flood's queue.
 */
import type { CredentialStore } from '../../database/credential-store.js';
import type { Customer } from '../../database/store.js';
import { LoginLimits, RateLimit } from '../../domain/auth/login-limits.js';
import { hashPassword, verifyPassword, DEFAULT_SCRYPT } from '../../domain/auth/password.js';
import { DomainError } from '../../domain/errors.js';
import { FairGate } from '../fair-gate.js';
import { PasswordHasher } from './password-hasher.js';

/** scrypt computations at once: one thread (password-hasher.ts). */
export const MAX_CONCURRENT_HASHES = 1;
/** Password checks one address may have waiting or running; past it 429. */
export const MAX_HASHES_PER_SOURCE = 2;
/** Password checks waiting in all past which new ones get 429. */
export const MAX_WAITING_HASHES = 64;
/** VALIDACAO_CONSULTAS_POR_MINUTO's default: the demo's 5 meters ask 100 a minute; enumerating 10^8 matriculas from one address would take 115 days. */
export const DEFAULT_LOOKUPS_PER_MINUTE = 600;

export class PasswordChecks {
  private readonly limits = new LoginLimits();
  private readonly gate = new FairGate(MAX_CONCURRENT_HASHES, MAX_HASHES_PER_SOURCE, MAX_WAITING_HASHES);
  private readonly hasher = new PasswordHasher();
  private readonly credentials: CredentialStore;
  private readonly now: () => number;
  private readonly lookups: RateLimit;

  /** `lookupsPerMinute`: lookups without a password one address may make a minute (VALIDACAO_CONSULTAS_POR_MINUTO; 0: no limit). */
  constructor(credentials: CredentialStore, options: { lookupsPerMinute?: number; now?: () => number } = {}) {
    this.credentials = credentials;
    this.now = options.now ?? Date.now;
    this.lookups = new RateLimit(options.lookupsPerMinute ?? DEFAULT_LOOKUPS_PER_MINUTE);
  }

  /**
   * Counts a lookup without a password (`/validacao-usuario` with no
   * `senha`) against its source: 429 `muitas_tentativas` past the per-address
   * limit, as for guesses (matriculas are not secret, but a list of who is a
   * customer is not to be scraped).
   */
  lookup(source: string): void {
    const wait = this.lookups.take(source, this.now());
    if (wait > 0) throw tooManyAttempts(wait);
  }

  /**
   * Whether `password` is the customer's (undefined customer: no such
   * customer; the check costs the same). Counted against the source and the
   * customer: 429 `muitas_tentativas` past the limits, before any work.
   * `identifier` names the customer when it does not exist.
   */
  async check(source: string, customer: Customer | undefined, identifier: string, password: string): Promise<boolean> {
    const key = customer === undefined ? identifier : `matricula:${customer.matricula}`;
    const wait = this.limits.admit(source, key, this.now());
    if (wait > 0) throw tooManyAttempts(wait);
    const stored = customer === undefined ? undefined : await this.credentials.passwordHash(customer.matricula);
    // An address that has not been failing (the owner, most likely) is checked before the guessers' queue.
    const ok = await this.gate.run(source, () => verifyPassword(password, stored, this.hasher.kdf), !this.limits.failedRecently(source, this.now()));
    if (ok) this.limits.succeeded(key, source);
    else this.limits.failed(key, source, this.now());
    return ok;
  }

  /**
   * Whether `password` is the one of `storedHash` (undefined: no such
   * account; the check costs the same), for the account `key` (e.g.
   * `operador:<nome>`): the same limits and gate as customers' logins.
   */
  async checkHash(source: string, key: string, storedHash: string | undefined, password: string): Promise<boolean> {
    const wait = this.limits.admit(source, key, this.now());
    if (wait > 0) throw tooManyAttempts(wait);
    const ok = await this.gate.run(source, () => verifyPassword(password, storedHash, this.hasher.kdf), !this.limits.failedRecently(source, this.now()));
    if (ok) this.limits.succeeded(key, source);
    else this.limits.failed(key, source, this.now());
    return ok;
  }

  /** A new password's hash, made through the same gate as `source`'s work. */
  hash(password: string, source = ''): Promise<string> {
    return this.gate.run(source, () => hashPassword(password, DEFAULT_SCRYPT, this.hasher.kdf));
  }

  /** Hashes a new password (through the same gate, as `source`'s) and stores it; false when no customer has the matricula. */
  async set(matricula: string, password: string, source = ''): Promise<boolean> {
    return this.credentials.setPasswordHash(matricula, await this.hash(password, source));
  }

  close(): Promise<void> {
    return this.hasher.close();
  }
}

function tooManyAttempts(waitS: number): DomainError {
  return new DomainError('muitas_tentativas', 'Muitas tentativas de acesso; aguarde antes de tentar de novo.', { retryAfterS: waitS });
}

export function invalidCredentials(): DomainError {
  return new DomainError('credenciais_invalidas', 'Usuário ou senha incorretos.');
}
