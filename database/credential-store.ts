/**
 * Customers' password hashes: the credentials aggregate. Only hashes are
 * given to a store (see domain/auth/password.ts); a store never sees a
 * password.
 */

export interface CredentialStore {
  /** The password hash of the customer with this matricula, or undefined when it has none (or there is no such customer). */
  passwordHash(matricula: string): Promise<string | undefined>;

  /**
   * Sets or replaces the password hash of a registered customer. Resolves
   * true once the new hash is durable (survives a crash), false when no
   * customer has this matricula (nothing is written).
   */
  setPasswordHash(matricula: string, hash: string): Promise<boolean>;
}
