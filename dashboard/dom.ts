/**
 * What every view of the dashboard uses from the page: its elements by id
 * (checked for their type), the formats people read (pt-BR), and the two
 * ways of telling things (the error line, the screen reader's announcement).
 */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** The browser's time zone, sent as `fuso` so periods are the viewer's days and months. */
export const FUSO = Intl.DateTimeFormat().resolvedOptions().timeZone;

export const kwh = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 });
export const reais = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
export const quando = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'medium' });
export const diaHora = new Intl.DateTimeFormat('pt-BR', { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });
export const soDia = new Intl.DateTimeFormat('pt-BR', { weekday: 'short', day: '2-digit', month: '2-digit', year: 'numeric' });
export const soMes = new Intl.DateTimeFormat('pt-BR', { month: 'long', year: 'numeric' });

/** The page's element `id`, of the type asked (a mismatch between page and script fails at once, by name). */
export function byId<T extends Element = HTMLElement>(id: string, type?: abstract new () => T): T {
  const found = document.getElementById(id);
  const expected = type ?? (HTMLElement as unknown as abstract new () => T);
  if (!(found instanceof expected)) throw new Error(`painel: #${id} is missing or not a ${expected.name}`);
  return found;
}

export const input = (id: string): HTMLInputElement => byId(id, HTMLInputElement);
export const button = (id: string): HTMLButtonElement => byId(id, HTMLButtonElement);
export const table = (id: string): HTMLTableElement => byId(id, HTMLTableElement);

/** The rows of a table's first body, replaced. */
export function setRows(id: string, rows: readonly HTMLTableRowElement[]): void {
  const body = table(id).tBodies[0];
  if (body !== undefined) body.replaceChildren(...rows);
}

/** A table cell with `text`. */
export const cell = (text: string): HTMLTableCellElement => Object.assign(document.createElement('td'), { textContent: text });

/** A date as the API's days are written (AAAA-MM-DD), by the browser's clock. */
export const isoDate = (d: Date): string => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

export function showError(text: string | undefined): void {
  const line = byId('erro');
  line.textContent = text ?? '';
  line.hidden = text === undefined;
}

export function announce(text: string): void {
  // Cleared first, so the same words are announced again.
  const region = byId('anuncio');
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 50);
}
