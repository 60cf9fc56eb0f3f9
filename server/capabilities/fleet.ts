/**
 * The fleet: which meters are heard, silent, without supply or power, kept
 * in memory from the store and from what every server stores (the change
 * feed); the live stream of what happens (/eventos, server-sent events);
 * and the fleet's table (/frota, /frota/medidores).
 */
import { FleetTracker } from '../../app/fleet.js';
import type { EventStore, MeterEvent } from '../../database/event-store.js';
import type { AppendResult, Store } from '../../database/store.js';
import { POWER_EVENTS, SUPPLY_EVENTS } from '../../domain/meter-condition.js';
import { ALERT_READINGS } from '../../domain/readings/consumption.js';
import { VALID } from '../../domain/readings/quality.js';
import type { Reading } from '../../protocol/meter-protocol.js';
import type { ApiAccess } from '../http/api-access.js';
import { LiveEvents } from '../live/live-events.js';
import { eventosRoute } from '../routes/eventos.js';
import { frotaMedidoresRoute, frotaRoute } from '../routes/frota.js';
import { eventJson } from '../routes/ocorrencias.js';
import type { Capability } from './capability.js';

export interface FleetDeps {
  readonly stores: { readonly store: Store; readonly events: EventStore };
  readonly access: ApiAccess;
  readonly warn: (error: unknown, message: string) => void;
}

export interface FleetCapability extends Capability {
  readonly tracker: FleetTracker;
  readonly live: LiveEvents;
  /** Readings this server stored (ingest): the fleet hears them, the live stream tells them. */
  stored(readings: readonly Reading[], result: AppendResult): void;
  /** Events this server stored: the meters' conditions change, the live stream tells them. */
  noted(events: readonly MeterEvent[]): void;
}

/** Resolves once the fleet is read from the store, so silent meters and alerts survive a restart. */
export async function fleetCapability({ stores, access, warn }: FleetDeps): Promise<FleetCapability> {
  const { store, events } = stores;
  const tracker = new FleetTracker();
  // The fleet as the store knows it (and, after a lost change feed, what other servers stored).
  const load = async (refresh: boolean): Promise<void> => {
    for await (const meters of store.recentReadingsOfEveryMeter(ALERT_READINGS)) tracker.seed(meters, refresh);
    tracker.noted(await events.newestPerMeter(SUPPLY_EVENTS));
    tracker.noted(await events.newestPerMeter(POWER_EVENTS));
  };
  await load(false);
  const live = new LiveEvents((silentAfterS) => tracker.summary(silentAfterS));
  const noted = (stored: readonly MeterEvent[]): void => {
    tracker.noted(stored);
    for (const event of stored) live.meterNews(event.matricula, 'ocorrencia', eventJson(event));
  };
  return {
    tracker,
    live,
    stored(readings, result) {
      tracker.heard(readings, result.outcomes, result.qualities);
      live.stored(readings, result.outcomes);
    },
    noted,
    routes: [eventosRoute(store, live, access), frotaRoute(tracker, access), frotaMedidoresRoute(tracker, store, access)],
    metrics: [(out) => live.writeMetrics(out)],
    changed(change, origin) {
      if (change.kind === 'leituras') {
        const outcomes = change.readings.map(() => 'stored' as const);
        tracker.heard(change.readings, outcomes, change.readings.map((reading) => reading.quality ?? VALID), { origin });
        live.stored(change.readings, outcomes);
      } else if (change.kind === 'ocorrencias') noted(change.events);
    },
    resync() {
      load(true).catch((error: unknown) => warn(error, 'could not reload the fleet after the change feed came back'));
    },
    close: () => live.close(),
  };
}
