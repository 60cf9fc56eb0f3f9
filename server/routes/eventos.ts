/**
 * `GET /eventos`: Server-Sent Events, `medicao` for each stored reading of
 * the meter watched (replaying what a reconnecting client missed) and
 * `frota` once a second.
 */
import { z } from 'zod';
import type { Store } from '../../database/store.js';
import type { ApiAccess, Principal } from '../http/api-access.js';
import { readingEvent, RECONNECT_MS, sseEvent, Subscriber, type LiveEvents } from '../live/live-events.js';
import type { Reading } from '../../database/store.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { matriculaSchema, withFields } from './fields.js';
import { silentAfter } from '../../app/fleet.js';
import { fleetFields } from './frota.js';

/** An event id we send: a reading's timestamp in ms. */
const EVENT_ID = /^\d{1,15}$/;

const eventsSchema = z.object({
  matricula: matriculaSchema.optional(),
  // What Last-Event-ID carries, for a page that opens a new stream after the old one closed.
  ultimo_id: z.string().regex(EVENT_ID, 'deve ser o id de um evento recebido (milissegundos)').transform(Number).optional(),
  ...fleetFields,
});
export function eventosRoute(store: Store, live: LiveEvents, access: ApiAccess): Route {
  const handler = withFields(eventsSchema, async (input: RouteInput, read): Promise<Answer> => {
    const queryToken = input.query.get('access_token') ?? undefined;
    // A meter's events need a token for it; the fleet alone (every meter) needs the operator's.
    let principal: Principal | undefined;
    if (input.query.has('matricula')) principal = await access.authenticate(input.request, queryToken);
    else await access.authenticateOperator(input.request, queryToken);
    const fields = read();
    if (fields.matricula !== undefined) access.authorize(principal, fields.matricula);
    // EventSource sends the id of the last event it got when it reconnects (HTML §9.2.4); anything else is not ours and is ignored.
    const header = input.request.head.headers.get('last-event-id');
    const lastEventId = fields.ultimo_id ?? (header !== undefined && EVENT_ID.test(header) ? Number(header) : undefined);
    const matricula = fields.matricula;
    const replayFrom = matricula === undefined ? undefined : lastEventId;
    // The meter's window of newest readings starts before its newest reading is read: nothing stored in between is missed.
    if (matricula !== undefined) live.windows.watch(matricula);
    let newest: Reading | undefined;
    try {
      [newest] = matricula === undefined ? [] : await store.recentReadings(matricula, 1);
    } catch (error) {
      if (matricula !== undefined) live.windows.unwatch(matricula);
      throw error;
    }
    if (matricula !== undefined) live.windows.settle(matricula, newest?.timestamp ?? Number.NEGATIVE_INFINITY);
    // The fleet names every meter: with tokens required, a customer's stream carries only its own meter.
    const fleetAllowed = principal?.papel !== 'cliente';
    const subscriber = new Subscriber(matricula, replayFrom ?? newest?.timestamp ?? Number.NEGATIVE_INFINITY, fleetAllowed ? silentAfter(fields) : undefined);
    const replay = matricula === undefined || replayFrom === undefined ? undefined : (): Missed => missedReadings(live, matricula, replayFrom, newest?.timestamp);
    return {
      status: 200,
      contentType: 'text/event-stream; charset=utf-8',
      headers: [
        ['Cache-Control', 'no-cache'],
        // Tells reverse proxies (nginx) not to buffer the stream.
        ['X-Accel-Buffering', 'no'],
      ],
      stream: (signal) => events(live, subscriber, signal, replay),
    };
  });
  return { path: '/eventos', handlers: { GET: handler }, traits: { exclusive: true } };
}

/** What a reconnecting client missed: the readings stored after its last event, oldest first, or, when memory does not reach back that far, the newest's time. */
type Missed = { readonly readings: Reading[] } | { readonly reloadThrough: number };

/**
 * From the meter's window in memory (replay-windows.ts), never a scan of
 * the store: a replay costs what it sends. When the window does not reach
 * back to the client's last event, the client reloads what it shows.
 */
function missedReadings(live: LiveEvents, matricula: string, afterMs: number, newest: number | undefined): Missed {
  const readings = live.windows.after(matricula, afterMs);
  if (readings !== undefined) return { readings };
  return { reloadThrough: Math.max(afterMs, newest ?? afterMs, live.windows.newest(matricula) ?? afterMs) };
}

async function* events(live: LiveEvents, subscriber: Subscriber, signal: AbortSignal, replay?: () => Missed): AsyncGenerator<string> {
  // Subscribed before the replay is read: a reading stored meanwhile is in one or the other, and sent once.
  live.subscribe(subscriber);
  try {
    yield `retry: ${RECONNECT_MS}\n\n`;
    if (replay !== undefined) {
      const missed = replay();
      if ('reloadThrough' in missed) {
        // Not in memory: the client reloads what it shows (through the fairly shared routes), and the stream goes on from there.
        subscriber.replayedThrough(missed.reloadThrough);
        yield sseEvent('recarregar', { motivo: 'as medições desde o último evento não estão mais na memória do servidor' }, String(missed.reloadThrough));
      } else {
        const { readings } = missed;
        if (readings.length > 0) yield readings.map(readingEvent).join('');
        subscriber.replayedThrough(readings[readings.length - 1]?.timestamp ?? subscriber.lastSent);
      }
    }
    yield* subscriber.stream(signal);
  } finally {
    live.unsubscribe(subscriber);
    if (subscriber.matricula !== undefined) live.windows.unwatch(subscriber.matricula);
  }
}
