/**
 * Commands to meters: the command aggregate (issue 16). A command is
 * created once per idempotency key of its requester, then changes only by
 * the transitions of domain/commands.ts, each stored with a
 * compare-and-set on the state it came from, so two servers delivering the
 * same command cannot both move it. The specification both backends pass
 * (test/database/command-contract.ts).
 */
import type { Command } from '../domain/commands.js';

export interface StoredCommand extends Command {
  readonly parameters: Readonly<Record<string, string>>;
  /** Who asked (`operador`, or a customer's matricula). */
  readonly requestedBy: string;
  readonly idempotencyKey: string | null;
}

export interface CommandStore {
  /**
   * Stores a new command, or, when its requester already created one with
   * the same idempotency key, answers that one (`created: false`). Durable
   * when it resolves.
   */
  create(command: StoredCommand): Promise<{ readonly command: StoredCommand; readonly created: boolean }>;
  get(id: string): Promise<StoredCommand | undefined>;
  /** A meter's commands, newest first. */
  listByMeter(matricula: string, offset: number, limit: number): Promise<StoredCommand[]>;
  /**
   * Stores `next` if the stored command is still as `previous` left it
   * (same state and attempts); otherwise answers the stored one unchanged.
   */
  update(previous: StoredCommand, next: StoredCommand): Promise<{ readonly command: StoredCommand; readonly applied: boolean }>;
  /** Every command not yet final, oldest first (ties by id): what delivery resumes after a restart. */
  open(): Promise<StoredCommand[]>;
  /** Every command, oldest first (ties by id): migration between backends. */
  all(): Promise<StoredCommand[]>;
}
