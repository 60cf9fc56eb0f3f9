/**
 * The fleet, for operators: `GET /frota` (counts and the longest-silent
 * meters) and `GET /frota/medidores` (every meter known, a page at a time,
 * sortable), both from the fleet tracker, which a restart rebuilds from the
 * store.
 */
import { z } from 'zod';
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import { FLEET_SORT_KEYS, fleetTable, type FleetRow } from '../../domain/fleet-table.js';
import type { FleetTracker } from '../../app/fleet.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { consumoJson } from '../../app/views/decimals.js';
import { positiveInteger, withFields } from './fields.js';
import { silentAfter } from '../../app/fleet.js';

export const FLEET_PAGE_DEFAULT = 50;
export const FLEET_PAGE_MAX = 1000;
/** The customers' names are read again at most this often (ms) for the table. */
const CUSTOMER_NAMES_TTL_MS = 5000;

export const fleetFields = {
  intervalo_s: positiveInteger(86_400).optional(),
  intervalos: positiveInteger(1000).optional(),
  access_token: z.string().optional(),
};
const fleetSchema = z.object(fleetFields);
const tableSchema = z.object({
  ...fleetFields,
  pagina: positiveInteger(1_000_000_000).optional(),
  limite: positiveInteger(FLEET_PAGE_MAX).optional(),
  ordenar: z.enum(FLEET_SORT_KEYS, { error: `deve ser ${FLEET_SORT_KEYS.join(', ')}` }).optional(),
  ordem: z.enum(['asc', 'desc'], { error: 'deve ser asc ou desc' }).optional(),
  busca: z.string().max(100, 'deve ter no máximo 100 caracteres').optional(),
  somente: z.enum(['alertas', 'silenciosos', 'cortados', 'sem_energia'], { error: 'deve ser alertas, silenciosos, cortados ou sem_energia' }).optional(),
});

export function frotaRoute(fleet: FleetTracker, access: ApiAccess): Route {
  const handler = withFields(fleetSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateOperator(input.request, input.query.get('access_token') ?? undefined);
    const fields = read();
    return { status: 200, body: { ...fleet.summary(silentAfter(fields)) } };
  });
  return { path: '/frota', handlers: { GET: handler } };
}

function rowJson(row: FleetRow) {
  return {
    matricula: row.matricula,
    cliente: row.cliente,
    ultima_leitura: { data_hora: formatIsoTimestamp(row.newest.timestamp), consumo: consumoJson(row.newest.consumo) },
    ultimo_contato: formatIsoTimestamp(row.heardAt * 1000),
    silencio_s: row.silenceS,
    silencioso: row.silent,
    fornecimento: row.condition.supply,
    sem_energia: !row.condition.powered,
    alerta: row.alert,
  };
}

export function frotaMedidoresRoute(fleet: FleetTracker, customers: Pick<Store, 'findCustomers'>, access: ApiAccess): Route {
  let names: { readonly at: number; readonly byMatricula: Promise<Map<string, string>> } | undefined;
  const customerNames = (): Promise<Map<string, string>> => {
    const now = Date.now();
    if (names === undefined || now - names.at > CUSTOMER_NAMES_TTL_MS) {
      const byMatricula = customers.findCustomers({}).then((all) => new Map(all.map((customer) => [customer.matricula, customer.username])));
      // A failed read is not cached.
      byMatricula.catch(() => (names = undefined));
      names = { at: now, byMatricula };
    }
    return names.byMatricula;
  };
  const handler = withFields(tableSchema, async (input: RouteInput, read): Promise<Answer> => {
    await access.authenticateOperator(input.request, input.query.get('access_token') ?? undefined);
    const fields = read();
    const sortBy = fields.ordenar ?? 'matricula';
    const page = fields.pagina ?? 1;
    const pageSize = fields.limite ?? FLEET_PAGE_DEFAULT;
    const silentAfterS = silentAfter(fields);
    const table = fleetTable(
      fleet.meters(),
      await customerNames(),
      {
        sortBy,
        descending: fields.ordem === 'desc',
        page,
        pageSize,
        silentAfterS,
        search: fields.busca?.trim(),
        only: fields.somente,
      },
      fleet.now(),
      fleet.conditions,
    );
    const next = new URLSearchParams(input.request.head.query);
    next.set('pagina', String(page + 1));
    next.delete('access_token');
    return {
      status: 200,
      body: {
        total: table.total,
        em_alerta: table.inAlert,
        silenciosos: table.silent,
        cortados: table.cut,
        sem_energia: table.withoutPower,
        silencio_apos_s: silentAfterS,
        pagina: page,
        limite: pageSize,
        ordenar: sortBy,
        ordem: fields.ordem ?? 'asc',
        medidores: table.rows.map(rowJson),
        proxima: page * pageSize < table.total ? `/frota/medidores?${next.toString()}` : null,
      },
    };
  });
  return { path: '/frota/medidores', handlers: { GET: handler }, traits: { heavy: true } };
}
