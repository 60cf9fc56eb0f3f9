/**
 * The audit log: one entry per state-changing request the API answered
 * (who, what, on what, when, from which address, the outcome). Append-only:
 * nothing in this interface changes or removes an entry, and no route
 * offers to. The specification both backends pass
 * (test/database/audit-contract.ts).
 */

export interface AuditRecord {
  /** ms since the epoch. */
  readonly at: number;
  /** `operador`, `operador:<nome>`, `cliente:<matricula>`, or `anonimo`. */
  readonly actor: string;
  /** The method and the route's pattern, e.g. `POST /medidores/{matricula}/comandos`. */
  readonly action: string;
  /** The path asked for, e.g. `/medidores/13456789/comandos` (at most 300 characters). */
  readonly target: string;
  /** The client's address. */
  readonly address: string;
  /** The HTTP status answered. */
  readonly status: number;
}

export interface AuditEntry extends AuditRecord {
  /** Increasing in the order entries were appended, from 1. */
  readonly id: number;
}

export interface AuditFilter {
  readonly actor?: string | undefined;
  readonly action?: string | undefined;
  /** [from, to) in ms since the epoch. */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

export interface AuditStore {
  /** Appends an entry; resolves it, with its id, once durable. */
  append(record: AuditRecord): Promise<AuditEntry>;
  /** Entries matching the filter, newest first (by id), a page at a time. */
  list(filter: AuditFilter, offset: number, limit: number): Promise<AuditEntry[]>;
}
