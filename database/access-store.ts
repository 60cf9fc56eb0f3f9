/**
 * Who may use the API beyond its customers: named operator accounts (each
 * a person, with a password hash, created and disabled by an operator), and
 * every principal's token generation. A token carries the generation of its
 * principal when issued; bumping it (a password change, a disabled account,
 * a sign-out) makes every token issued before invalid at once. The
 * specification both backends pass (test/database/access-contract.ts).
 */

export interface OperatorAccount {
  /** 3 to 40 of a-z, 0-9, `.`, `_`, `-`. */
  readonly nome: string;
  /** scrypt hash as domain/auth/password.ts writes it. */
  readonly passwordHash: string;
  readonly active: boolean;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** Who created it (an actor as the audit log names it). */
  readonly createdBy: string;
}

export interface AccessStore {
  /** Creates the account; false, writing nothing, when the name is taken. Durable when it resolves. */
  createOperator(account: OperatorAccount): Promise<boolean>;
  operator(nome: string): Promise<OperatorAccount | undefined>;
  /** Every account, by name. */
  operators(): Promise<OperatorAccount[]>;
  /** Changes an account's password hash or state; the account after, or undefined when there is none. Durable when it resolves. */
  updateOperator(nome: string, change: { readonly passwordHash?: string; readonly active?: boolean }): Promise<OperatorAccount | undefined>;
  /** The principal's token generation (`cliente:<m>`, `operador:<nome>`); 0 until first bumped. */
  generation(principal: string): Promise<number>;
  /** Adds one to the principal's generation, atomically (servers sharing a database never lose a bump); the new value, durable. */
  bumpGeneration(principal: string): Promise<number>;
  /** Every principal's generation above 0. */
  generations(): Promise<ReadonlyMap<string, number>>;
}

export const OPERATOR_NAME = /^[a-z0-9._-]{3,40}$/;
