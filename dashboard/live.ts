/**
 * Following live (/eventos, server-sent events): the watched meter's
 * readings, commands, events and alerts, or the fleet's rate for the
 * operator. A stream opened anew resumes after the last event seen; after
 * a reconnect the range is read again; a stream closed for good says why.
 */
import { plainError } from './api.js';
import { alertArrived } from './alerts.js';
import { reload, renderLatestIfNewer } from './consumption.js';
import { byId } from './dom.js';
import { renderFleetSummary } from './fleet.js';
import { commandArrived, eventArrived } from './meter.js';
import { state, type Alert, type Command, type ErrorBody, type FleetSummary, type MeterEvent, type Reading } from './state.js';

/** Live readings are batched into one reload of the range at most this often (ms). */
const RELOAD_DELAY_MS = 800;

function setConnection(kind: 'conectado' | 'reconectando' | 'desconectado', text: string): void {
  const line = byId('conexao');
  line.dataset.estado = kind;
  line.textContent = text;
  const stale = kind !== 'conectado' && state.data !== undefined;
  byId('vista-consumo').dataset.desatualizado = stale ? 'sim' : 'nao';
  byId('desatualizado').hidden = !stale;
}

/** Follows what the view shows: the watched meter, or the fleet (operator); nothing otherwise. */
export function connect(): void {
  const params = new URLSearchParams();
  if (state.view === 'consumo' && state.matricula !== undefined) params.set('matricula', state.matricula);
  else if (!state.fleetAllowed) {
    state.events?.close();
    state.events = undefined;
    setConnection('desconectado', 'sem acompanhamento ao vivo');
    return;
  }
  if (state.session !== undefined) params.set('access_token', state.session.token);
  // Already following this: the browser's own reconnects keep it going.
  const key = params.toString();
  if (state.events !== undefined && state.eventsKey === key && state.events.readyState !== EventSource.CLOSED) return;
  state.events?.close();
  state.eventsKey = key;
  // A stream opened anew (not the browser's own reconnect) resumes after the last event seen.
  if (params.has('matricula') && state.lastEventId !== undefined) params.set('ultimo_id', state.lastEventId);
  const url = `/eventos?${params}`;
  const source = new EventSource(url);
  state.events = source;
  let opened = false;
  source.addEventListener('open', () => {
    // After a reconnect the range is read again: what the stream replays is in it, and nothing shown is stale.
    if (opened && params.has('matricula')) scheduleReload();
    opened = true;
    setConnection('conectado', params.has('matricula') ? `ao vivo: ${state.matricula ?? ''}` : 'ao vivo: frota');
  });
  source.addEventListener('error', () => {
    if (state.events !== source) return;
    if (source.readyState === EventSource.CLOSED) void explainClosed(url);
    else setConnection('reconectando', 'reconectando…');
  });
  source.addEventListener('medicao', (event) => {
    const reading = JSON.parse(event.data as string) as Reading;
    if (reading.matricula !== state.matricula) return;
    state.lastEventId = event.lastEventId;
    renderLatestIfNewer(reading);
    scheduleReload();
  });
  source.addEventListener('recarregar', (event) => {
    state.lastEventId = event.lastEventId;
    scheduleReload();
  });
  source.addEventListener('frota', (event) => {
    state.fleet.summary = JSON.parse(event.data as string) as FleetSummary;
    renderFleetSummary();
  });
  source.addEventListener('comando', (event) => commandArrived(JSON.parse(event.data as string) as Command));
  source.addEventListener('alerta', (event) => alertArrived(JSON.parse(event.data as string) as Alert));
  source.addEventListener('ocorrencia', (event) => eventArrived(JSON.parse(event.data as string) as MeterEvent));
}

/** The stream closed for good (the server answered an error): say why, in words. */
async function explainClosed(url: string): Promise<void> {
  state.events = undefined;
  const response = await fetch(url).catch(() => undefined);
  let reason = 'o servidor não responde';
  if (response !== undefined) {
    const body = response.headers.get('content-type')?.includes('json') === true ? ((await response.json().catch(() => ({}))) as ErrorBody) : {};
    reason = plainError({ status: response.status, body, headers: response.headers });
    response.body?.cancel().catch(() => {});
  }
  setConnection('desconectado', `desconectado: ${reason}`);
}

function scheduleReload(): void {
  if (state.reloadTimer !== undefined) return;
  state.reloadTimer = setTimeout(() => {
    state.reloadTimer = undefined;
    void reload();
  }, RELOAD_DELAY_MS);
}
