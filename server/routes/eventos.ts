/**
 * Live routes: `GET /eventos` (Server-Sent Events: `medicao` for each stored
 * reading of the meter watched, `frota` once a second) and `GET /frota`
 * (the same fleet summary as JSON).
 */
import { z } from 'zod';
import type { Store } from '../../database/store.js';
import type { ApiAccess, Principal } from '../api-access.js';
import type { FleetTracker } from '../fleet.js';
import { RECONNECT_MS, Subscriber, type LiveEvents } from '../live-events.js';
import type { Answer, Route, RouteInput } from '../router.js';
import { matriculaSchema, positiveInteger, readFields } from './fields.js';

/** The simulated meters' default send interval, in seconds. */
export const DEFAULT_SEND_INTERVAL_S = 15;
/** Send intervals without a reading after which a meter counts as silent. */
export const DEFAULT_SILENT_INTERVALS = 3;

const fleetFields = {
  intervalo_s: positiveInteger(86_400).optional(),
  intervalos: positiveInteger(1000).optional(),
  access_token: z.string().optional(),
};
const eventsSchema = z.object({ matricula: matriculaSchema.optional(), ...fleetFields });
const fleetSchema = z.object(fleetFields);

function silentAfter(fields: { intervalo_s?: number | undefined; intervalos?: number | undefined }): number {
  return (fields.intervalo_s ?? DEFAULT_SEND_INTERVAL_S) * (fields.intervalos ?? DEFAULT_SILENT_INTERVALS);
}

export function eventosRoute(store: Store, live: LiveEvents, access: ApiAccess): Route {
  const handler = async (input: RouteInput): Promise<Answer> => {
    const queryToken = input.query.get('access_token') ?? undefined;
    // A meter's events need a token for it; the fleet alone (every meter) needs the operator's.
    let principal: Principal | undefined;
    if (input.query.has('matricula')) principal = await access.authenticate(input.request, queryToken);
    else await access.authenticateOperator(input.request, queryToken);
    const fields = readFields(input, eventsSchema);
    if (fields.matricula !== undefined) access.authorize(principal, fields.matricula);
    const [newest] = fields.matricula === undefined ? [] : await store.recentReadings(fields.matricula, 1);
    // The fleet names every meter: with tokens required, a customer's stream carries only its own meter.
    const fleetAllowed = principal?.papel !== 'cliente';
    const subscriber = new Subscriber(fields.matricula, newest?.timestamp ?? Number.NEGATIVE_INFINITY, fleetAllowed ? silentAfter(fields) : undefined);
    return {
      status: 200,
      contentType: 'text/event-stream; charset=utf-8',
      headers: [
        ['Cache-Control', 'no-cache'],
        // Tells reverse proxies (nginx) not to buffer the stream.
        ['X-Accel-Buffering', 'no'],
      ],
      stream: (signal) => events(live, subscriber, signal),
    };
  };
  return { path: '/eventos', handlers: { GET: handler }, traits: { exclusive: true } };
}

async function* events(live: LiveEvents, subscriber: Subscriber, signal: AbortSignal): AsyncGenerator<string> {
  live.subscribe(subscriber);
  try {
    yield `retry: ${RECONNECT_MS}\n\n`;
    yield* subscriber.stream(signal);
  } finally {
    live.unsubscribe(subscriber);
  }
}

export function frotaRoute(fleet: FleetTracker, access: ApiAccess): Route {
  const handler = async (input: RouteInput): Promise<Answer> => {
    await access.authenticateOperator(input.request, input.query.get('access_token') ?? undefined);
    const fields = readFields(input, fleetSchema);
    return { status: 200, body: { ...fleet.summary(silentAfter(fields)) } };
  };
  return { path: '/frota', handlers: { GET: handler } };
}
