/**
 * The operator's fleet table: every meter known with its customer, newest
 * reading, last contact, alert and silence, filtered, sorted and paged.
 * Pure: values in, values out.
 */
import type { Reading } from './readings/reading.js';
import { NORMAL_CONDITION, type MeterCondition } from './meter-condition.js';

/** Customers' names in Portuguese order (a collator: far cheaper per comparison than localeCompare). */
const NAMES = new Intl.Collator('pt-BR');

/** A meter as the fleet table shows it. */
export interface FleetMeter {
  readonly matricula: string;
  /** When it was last heard, in whole seconds since the epoch. */
  readonly heardAt: number;
  /** Its newest readings, newest first, at most ALERT_READINGS. */
  readonly recent: readonly Reading[];
  /** The consumption alert of those readings (decided when they change). */
  readonly alert: boolean | null;
}

export const FLEET_SORT_KEYS = ['matricula', 'cliente', 'ultima_leitura', 'ultimo_contato', 'alerta', 'silencio'] as const;
export type FleetSortKey = (typeof FLEET_SORT_KEYS)[number];

export interface FleetTableQuery {
  readonly sortBy: FleetSortKey;
  readonly descending: boolean;
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
  /** Seconds without a reading after which a meter is silent. */
  readonly silentAfterS: number;
  /** Keeps meters whose matricula starts with it or whose customer's username contains it (case-insensitive). */
  readonly search?: string | undefined;
  /** Only meters in alert, silent, cut, or without power. */
  readonly only?: 'alertas' | 'silenciosos' | 'cortados' | 'sem_energia' | undefined;
}

export interface FleetRow {
  readonly matricula: string;
  readonly cliente: string | null;
  readonly newest: Reading;
  readonly heardAt: number;
  readonly silenceS: number;
  /** Nothing heard for longer than the threshold, and not known to be without power. */
  readonly silent: boolean;
  readonly condition: MeterCondition;
  /** null: fewer than 5 readings, or a register that went down. */
  readonly alert: boolean | null;
}

export interface FleetTable {
  /** Meters that pass the filters (every page together). */
  readonly total: number;
  readonly inAlert: number;
  readonly silent: number;
  readonly cut: number;
  readonly withoutPower: number;
  readonly rows: readonly FleetRow[];
}

/** Sort order of alert values: in alert, then normal, then unknown. */
const ALERT_RANK = (alert: boolean | null): number => (alert === true ? 2 : alert === false ? 1 : 0);

function compare(a: FleetRow, b: FleetRow, key: FleetSortKey): number {
  switch (key) {
    case 'matricula':
      return a.matricula < b.matricula ? -1 : a.matricula > b.matricula ? 1 : 0;
    case 'cliente': {
      // Meters of no customer sort after every customer's, whichever the direction of the rest.
      if (a.cliente === b.cliente) return 0;
      if (a.cliente === null) return 1;
      if (b.cliente === null) return -1;
      return NAMES.compare(a.cliente, b.cliente);
    }
    case 'ultima_leitura':
      return a.newest.timestamp - b.newest.timestamp;
    case 'ultimo_contato':
      return a.heardAt - b.heardAt;
    case 'alerta':
      return ALERT_RANK(a.alert) - ALERT_RANK(b.alert);
    case 'silencio':
      return a.silenceS - b.silenceS;
  }
}

/** `conditions`: the meters whose supply or power is not the normal one (the others are). */
export function fleetTable(meters: readonly FleetMeter[], customers: ReadonlyMap<string, string>, query: FleetTableQuery, nowS: number, conditions: ReadonlyMap<string, MeterCondition> = new Map()): FleetTable {
  const search = query.search?.toLocaleLowerCase('pt-BR');
  const rows: FleetRow[] = [];
  let inAlert = 0;
  let silent = 0;
  let cut = 0;
  let withoutPower = 0;
  for (const meter of meters) {
    const newest = meter.recent[0];
    if (newest === undefined) continue;
    const cliente = customers.get(meter.matricula) ?? null;
    if (search !== undefined && search !== '' && !meter.matricula.startsWith(search) && !(cliente?.toLocaleLowerCase('pt-BR').includes(search) ?? false)) continue;
    const silenceS = Math.max(0, nowS - meter.heardAt);
    const condition = conditions.get(meter.matricula) ?? NORMAL_CONDITION;
    // A meter that sent its last gasp is without power, not silent: there is nothing wrong with the channel.
    const row: FleetRow = { matricula: meter.matricula, cliente, newest, heardAt: meter.heardAt, silenceS, silent: condition.powered && silenceS > query.silentAfterS, condition, alert: meter.alert };
    if (query.only === 'alertas' && row.alert !== true) continue;
    if (query.only === 'silenciosos' && !row.silent) continue;
    if (query.only === 'cortados' && condition.supply !== 'cortado') continue;
    if (query.only === 'sem_energia' && condition.powered) continue;
    if (row.alert === true) inAlert++;
    if (row.silent) silent++;
    if (condition.supply === 'cortado') cut++;
    if (!condition.powered) withoutPower++;
    rows.push(row);
  }
  const direction = query.descending ? -1 : 1;
  const order = (a: FleetRow, b: FleetRow): number => {
    const primary = compare(a, b, query.sortBy);
    if (primary !== 0) return query.sortBy === 'cliente' && (a.cliente === null || b.cliente === null) ? primary : primary * direction;
    // Ties in matricula order, so pages never overlap or skip.
    return compare(a, b, 'matricula');
  };
  const start = (query.page - 1) * query.pageSize;
  const needed = Math.min(rows.length, start + query.pageSize);
  // The first pages (what operators look at) need only the first rows in order, not the whole fleet sorted.
  const first = needed * 4 < rows.length ? smallest(rows, needed, order) : rows.sort(order);
  return { total: rows.length, inAlert, silent, cut, withoutPower, rows: first.slice(start, start + query.pageSize) };
}

/** The `count` first items by `order`, in order: a bounded max-heap, O(n log count). */
function smallest<T>(items: readonly T[], count: number, order: (a: T, b: T) => number): T[] {
  const heap: T[] = [];
  const siftDown = (): void => {
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let largest = at;
      if (left < heap.length && order(heap[left] as T, heap[largest] as T) > 0) largest = left;
      if (right < heap.length && order(heap[right] as T, heap[largest] as T) > 0) largest = right;
      if (largest === at) return;
      [heap[at], heap[largest]] = [heap[largest] as T, heap[at] as T];
      at = largest;
    }
  };
  for (const item of items) {
    if (heap.length < count) {
      heap.push(item);
      for (let at = heap.length - 1; at > 0; ) {
        const parent = (at - 1) >> 1;
        if (order(heap[at] as T, heap[parent] as T) <= 0) break;
        [heap[at], heap[parent]] = [heap[parent] as T, heap[at] as T];
        at = parent;
      }
    } else if (count > 0 && order(item, heap[0] as T) < 0) {
      heap[0] = item;
      siftDown();
    }
  }
  return heap.sort(order);
}
