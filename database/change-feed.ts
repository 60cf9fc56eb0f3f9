/**
 * Changes one server stored, told to every other server sharing the same
 * database: readings, meter events and commands. With PostgreSQL it is
 * LISTEN/NOTIFY (postgres/pg-change-feed.ts); the file store has one
 * process, so its feed tells nobody. A feed never makes a write wait: what
 * it cannot tell is counted, and a listener that may have missed changes
 * (a lost connection) is told to reload what it keeps from the store.
 */
import type { StoredReading } from './store.js';
import type { MeterEvent } from './event-store.js';

export type Change =
  | { readonly kind: 'leituras'; readonly readings: readonly StoredReading[] }
  | { readonly kind: 'ocorrencias'; readonly events: readonly MeterEvent[] }
  /** A command was created or changed: read it from the command store. */
  | { readonly kind: 'comando'; readonly id: string };

export interface ChangeListener {
  /** A change another server stored, `sentAt` by its clock (ms). Must not throw. */
  changed(change: Change, origin: string, sentAt: number): void;
  /** Changes may have been missed (the feed's connection was lost and is back): reload from the store. Must not throw. */
  resync(): void;
}

export interface ChangeFeedStats {
  /** Notifications sent, received from other servers, and those that could not be sent. */
  readonly published: number;
  readonly received: number;
  readonly failed: number;
  /** Times the feed reconnected (each a resync). */
  readonly reconnects: number;
  /** The delay of the newest notification received (its arrival minus its sending, ms); undefined before the first. */
  readonly lastLagMs: number | undefined;
  /** Whether the feed is listening now. */
  readonly listening: boolean;
}

export interface ChangeFeed {
  /** This process's name in the feed: its own changes come back to it and are ignored. */
  readonly origin: string;
  /** Tells the other servers (returns at once). */
  publish(change: Change): void;
  /** Starts listening; resolves once listening. */
  listen(listener: ChangeListener): Promise<void>;
  stats(): ChangeFeedStats;
  close(): Promise<void>;
}

/** The feed of a store that no other server shares. */
export class LocalChangeFeed implements ChangeFeed {
  readonly origin = 'local';

  publish(): void {}

  async listen(): Promise<void> {}

  stats(): ChangeFeedStats {
    return { published: 0, received: 0, failed: 0, reconnects: 0, lastLagMs: undefined, listening: false };
  }

  async close(): Promise<void> {}
}
