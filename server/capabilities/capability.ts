/**
 * What each capability of the server (readings, billing, commands and
 * events, analytics, reports, fleet, auth) gives the composition root
 * (server/app.ts): its routes, its background jobs, its metrics, and how to
 * stop. The root only lists them.
 */
import type { Route } from '../http/router.js';
import type { Collector } from '../metrics.js';

export interface Capability {
  /** Its routes, registered with the router. */
  readonly routes: readonly Route[];
  /** Its metrics families, shown by /metricas in the order given. */
  readonly metrics?: readonly Collector[];
  /** Starts its background jobs, once the listeners are up. */
  start?(): void;
  /** Stops its jobs and waits for the passes running; releases what it holds. */
  close(): Promise<void>;
}
