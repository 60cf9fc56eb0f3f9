/**
 * Password checks for the API: login limits (per customer and per source
 * address) and a gate that bounds how many scrypt computations run at once,
 * so logins can never take over libuv's thread pool, which the file store's
 * writes share.
 */
import type { CredentialStore } from '../database/credential-store.js';
import type { Customer } from '../database/store.js';
import { LoginLimits } from './domain/login-limits.js';
import { hashPassword, verifyPassword } from './domain/password.js';
import { HttpError } from './http/http-error.js';
import { WorkGate } from './work-gate.js';

/** scrypt computations at once (libuv has 4 threads by default). */
export const MAX_CONCURRENT_HASHES = 2;
/** Password checks waiting for the gate past which new ones get 429. */
export const MAX_WAITING_HASHES = 64;

export class PasswordChecks {
  private readonly limits = new LoginLimits();
  private readonly gate = new WorkGate(MAX_CONCURRENT_HASHES, MAX_WAITING_HASHES);
  private readonly credentials: CredentialStore;
  private readonly now: () => number;

  constructor(credentials: CredentialStore, now: () => number = Date.now) {
    this.credentials = credentials;
    this.now = now;
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
    if (wait > 0) {
      throw new HttpError('muitas_tentativas', 'Muitas tentativas de acesso; aguarde antes de tentar de novo.', { headers: [['Retry-After', String(wait)]] });
    }
    const stored = customer === undefined ? undefined : await this.credentials.passwordHash(customer.matricula);
    const ok = await this.gate.run(() => verifyPassword(password, stored));
    if (ok) this.limits.succeeded(key);
    else this.limits.failed(key, this.now());
    return ok;
  }

  /** Hashes a new password (through the same gate) and stores it; false when no customer has the matricula. */
  async set(matricula: string, password: string): Promise<boolean> {
    const hash = await this.gate.run(() => hashPassword(password));
    return this.credentials.setPasswordHash(matricula, hash);
  }
}

export function invalidCredentials(): HttpError {
  return new HttpError('credenciais_invalidas', 'Usuário ou senha incorretos.');
}
