/**
 * `GET /medidores/{matricula}`: the meter as the head-end knows it (issue
 * 16): its customer, supply and power state, demand limit, last contact
 * (and, for the operator, the address it speaks from), newest reading,
 * commands not yet final and recent events. The operator, or the meter's
 * customer.
 */
import type { CommandStore } from '../../database/command-store.js';
import type { EventStore } from '../../database/event-store.js';
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import type { CommandDelivery } from '../udp/command-delivery.js';
import type { FleetTracker } from '../../app/fleet.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import type { MeterAddress } from '../udp/ingest.js';
import { commandJson, pathMatricula, unknownMeter } from './comandos.js';
import { consumoJson } from '../../app/views/decimals.js';
import { eventJson } from './ocorrencias.js';

/** Recent events shown. */
export const RECENT_EVENTS = 10;
/** Commands looked through for the demand limit in force (the newest executed limite_demanda). */
const LIMIT_LOOKBACK = 200;

export interface MeterRouteDeps {
  readonly store: Pick<Store, 'findCustomers' | 'recentReadings'>;
  readonly commands: CommandStore;
  readonly events: EventStore;
  readonly delivery: CommandDelivery;
  readonly fleet: FleetTracker;
  readonly access: ApiAccess;
  readonly addressOf: (matricula: string) => MeterAddress | undefined;
  readonly hasKey: (matricula: string) => boolean;
}

export function medidorRoute({ store, commands, events, delivery, fleet, access, addressOf, hasKey }: MeterRouteDeps): Route {
  const handler = async (input: RouteInput): Promise<Answer> => {
    const principal = await access.authenticate(input.request, input.query.get('access_token') ?? undefined);
    const matricula = pathMatricula(input);
    access.authorize(principal, matricula);
    const [[customer], [newest], recentEvents, history] = await Promise.all([
      store.findCustomers({ matricula, limit: 1 }),
      store.recentReadings(matricula, 1),
      events.list({ matricula, from: 0, to: Number.MAX_SAFE_INTEGER }, 0, RECENT_EVENTS),
      commands.listByMeter(matricula, 0, LIMIT_LOOKBACK),
    ]);
    if (customer === undefined && newest === undefined) throw unknownMeter(matricula);
    const limit = history.find((c) => c.type === 'limite_demanda' && c.state === 'executado');
    const condition = fleet.conditionOf(matricula);
    const heardAt = fleet.heardAt(matricula);
    const address = addressOf(matricula);
    return {
      status: 200,
      body: {
        matricula,
        cliente: customer === undefined ? null : { username: customer.username },
        chave: hasKey(matricula),
        fornecimento: condition.supply,
        sem_energia: !condition.powered,
        limite_demanda_kw: limit === undefined || limit.parameters.kw === 'null' ? null : (limit.parameters.kw ?? null),
        ultimo_contato: heardAt === undefined ? null : formatIsoTimestamp(heardAt * 1000),
        // Where the meter speaks from is the operator's to know.
        endereco: principal?.papel === 'cliente' || address === undefined ? null : `${address.address}:${address.port}`,
        ultima_leitura: newest === undefined ? null : { data_hora: formatIsoTimestamp(newest.timestamp), consumo: consumoJson(newest.consumo) },
        comandos_pendentes: delivery.pendingOf(matricula).map(commandJson),
        ocorrencias_recentes: recentEvents.map(eventJson),
      },
    };
  };
  return { path: '/medidores/{matricula}', handlers: { GET: handler } };
}
