/**
 * What each capability of the server (auth, fleet, commands and events,
 * readings, alerts, billing, analytics, reports, operations) gives the
 * composition root (server/app.ts): its routes, its metrics, its background
 * jobs and how it stops. The root only lists them; their order is the
 * order they start in, and the reverse of the order they close in.
 */
import type { Change } from '../../database/change-feed.js';
import type { Route } from '../http/router.js';
import type { Collector } from '../metrics.js';

export interface Capability {
  /** Its routes, registered with the router. */
  readonly routes: readonly Route[];
  /** Its metrics families, shown by /metricas in the order given. */
  readonly metrics?: readonly Collector[];
  /** Starts its background jobs, once the listeners are up. */
  start?(): Promise<void> | void;
  /** What another server sharing the database stored (the change feed): must not throw. */
  changed?(change: Change, origin: string): void;
  /** The change feed may have missed changes: reload what it keeps from the store. Must not throw. */
  resync?(): void;
  /** Stops its jobs and timers and waits for the passes running; called first, while requests and datagrams are still served. */
  stop?(): Promise<void> | void;
  /** Releases what it holds once the HTTP listener has closed and every capability listed after it has closed. */
  close?(): Promise<void> | void;
}
