/**
 * ANEEL's tariff file holds rows of one distributor, modality and posto
 * whose validities overlap: a later act that replaces an earlier one for the
 * same period (CEA, REH 2.979 and 3.001/2021), or one act's row for a whole
 * year beside narrower rows that split it (Ceraçá, REH 3.537/2025). The
 * store refuses overlaps, so the file's own are settled before it, by one
 * rule: over the days rows share, the row of the later act prevails, and
 * within one act the narrower validity. A row keeps the days it wins (its
 * validity trimmed to them) and is dropped when it wins none. Rows whose act
 * date is unknown are left as they are (the store then refuses those that
 * clash). Pure: rows and their acts' dates in, rows and a report out.
 */
import { sameTariff, tariffKey, validitiesOverlap, type Tariff } from './tariff.js';
import { DAY_MS } from '../../protocol/timestamp.js';

const OPEN_END = '9999-12-31';

export interface OverlapResolution {
  /** The row as the file has it. */
  readonly row: Tariff;
  /** The days it keeps (none: dropped). */
  readonly kept: readonly Tariff[];
  /** The rows that prevail over its other days. */
  readonly over: readonly Tariff[];
}

const shiftDay = (day: string, days: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const lastDay = (row: Tariff): string => row.vigenciaFim ?? OPEN_END;
const width = (row: Tariff): number => (Date.parse(`${lastDay(row)}T00:00:00Z`) - Date.parse(`${row.vigenciaInicio}T00:00:00Z`)) / DAY_MS;

/** Rows of one key that share days with each other, transitively; in file order within each. */
function overlapGroups(rows: readonly Tariff[]): Tariff[][] {
  const sorted = [...rows].sort((a, b) => a.vigenciaInicio.localeCompare(b.vigenciaInicio));
  const groups: Tariff[][] = [];
  let reach = '';
  for (const row of sorted) {
    const group = groups[groups.length - 1];
    if (group !== undefined && row.vigenciaInicio <= reach) group.push(row);
    else groups.push([row]);
    if (lastDay(row) > reach) reach = lastDay(row);
  }
  const order = new Map(rows.map((row, i) => [row, i]));
  return groups.map((group) => group.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)));
}

/** Which of two rows prevails over a day both cover: the later act, then the narrower validity, then the later row in the file. */
function prevails(a: { row: Tariff; date: string; index: number }, b: { row: Tariff; date: string; index: number }): boolean {
  if (a.date !== b.date) return a.date > b.date;
  if (width(a.row) !== width(b.row)) return width(a.row) < width(b.row);
  return a.index > b.index;
}

/**
 * Settles the file's overlaps by the rule above, given each row's act date
 * (`YYYY-MM-DD`, undefined when unknown); `resolutions` names every row
 * trimmed or dropped.
 */
export function resolveOverlaps(rows: readonly Tariff[], actDateOf: (row: Tariff) => string | undefined): { readonly tariffs: Tariff[]; readonly resolutions: OverlapResolution[] } {
  // A row the file repeats exactly is one row.
  const distinct = rows.filter((row, i) => rows.findIndex((earlier) => sameTariff(earlier, row)) === i);
  const byKey = new Map<string, Tariff[]>();
  for (const row of distinct) byKey.set(tariffKey(row), [...(byKey.get(tariffKey(row)) ?? []), row]);
  const replaced = new Map<Tariff, Tariff[]>();
  const resolutions: OverlapResolution[] = [];
  for (const keyRows of byKey.values()) {
    for (const group of overlapGroups(keyRows)) {
      const dated = group.map((row, index) => ({ row, date: actDateOf(row), index }));
      if (group.length < 2 || dated.some((entry) => entry.date === undefined)) continue;
      const entries = dated as Array<{ row: Tariff; date: string; index: number }>;
      // Days where the winner may change: every row's first day and the day after its last.
      const cuts = [...new Set(group.flatMap((row) => [row.vigenciaInicio, ...(row.vigenciaFim === null ? [] : [shiftDay(row.vigenciaFim, 1)])]))].sort();
      const kept = new Map<Tariff, Tariff[]>(group.map((row) => [row, []]));
      for (let i = 0; i < cuts.length; i++) {
        const from = cuts[i] as string;
        const next = cuts[i + 1];
        const to = next === undefined ? OPEN_END : shiftDay(next, -1);
        const covering = entries.filter((entry) => entry.row.vigenciaInicio <= from && lastDay(entry.row) >= to);
        if (covering.length === 0) continue;
        const winner = covering.reduce((best, entry) => (prevails(entry, best) ? entry : best));
        const pieces = kept.get(winner.row) as Tariff[];
        const last = pieces[pieces.length - 1];
        if (last !== undefined && shiftDay(lastDay(last), 1) === from) pieces[pieces.length - 1] = { ...last, vigenciaFim: to === OPEN_END ? null : to };
        else pieces.push({ ...winner.row, vigenciaInicio: from, vigenciaFim: to === OPEN_END ? null : to });
      }
      for (const row of group) {
        const pieces = kept.get(row) as Tariff[];
        const untouched = pieces.length === 1 && pieces[0]?.vigenciaInicio === row.vigenciaInicio && pieces[0]?.vigenciaFim === row.vigenciaFim;
        if (untouched) continue;
        replaced.set(row, pieces);
        resolutions.push({ row, kept: pieces, over: group.filter((other) => other !== row && (kept.get(other) ?? []).some((piece) => validitiesOverlap(piece, row))) });
      }
    }
  }
  return { tariffs: distinct.flatMap((row) => replaced.get(row) ?? [row]), resolutions };
}

