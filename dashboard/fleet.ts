/**
 * The operator's view: the fleet's counts, its active alerts, and its
 * table (/frota/medidores: sorted, searched, filtered, paged, refreshed
 * every few seconds), the readings per second live, the fleet's reports.
 */
import { api, authorization, download, plainError } from './api.js';
import { loadFleetAlerts } from './alerts.js';
import { button, byId, FUSO, isoDate, kwh, quando, setRows, showError, table } from './dom.js';
import { navigate, state } from './state.js';

export const FLEET_PAGE = 50;
/** Column names, shown beside each cell when a phone stacks a row (painel.css). */
const FLEET_COLUMNS = ['Matrícula', 'Cliente', 'Última leitura', 'Último contato', 'Alerta', 'Silencioso', 'Fornecimento'];

interface FleetPage {
  readonly total: number;
  readonly em_alerta: number;
  readonly silenciosos: number;
  readonly cortados: number;
  readonly sem_energia: number;
  readonly silencio_apos_s: number;
  readonly pagina: number;
  readonly proxima: string | null;
  readonly medidores: readonly {
    readonly matricula: string;
    readonly cliente: string | null;
    readonly ultima_leitura: { readonly consumo: number; readonly data_hora: string };
    readonly silencio_s: number;
    readonly alerta: boolean | null;
    readonly silencioso: boolean;
    readonly fornecimento: string;
    readonly sem_energia: boolean;
  }[];
}

/** Whether this session may read the fleet (the operator's, or anyone's with AUTENTICACAO_API=aberta): shows the Frota tab. */
export async function checkFleetAccess(): Promise<void> {
  const answer = await fetch('/frota/medidores?limite=1', { headers: authorization() }).catch(() => undefined);
  state.fleetAllowed = answer?.status === 200;
  byId('aba-frota').hidden = !state.fleetAllowed;
}

const relative = (seconds: number): string =>
  seconds < 60 ? `há ${seconds} s` : seconds < 3600 ? `há ${Math.floor(seconds / 60)} min` : seconds < 86_400 ? `há ${Math.floor(seconds / 3600)} h` : `há ${Math.floor(seconds / 86_400)} d`;

export async function loadFleet(): Promise<void> {
  const fleet = state.fleet;
  const query = new URLSearchParams({ pagina: String(fleet.page), limite: String(FLEET_PAGE), ordenar: fleet.sortBy, ordem: fleet.order });
  if (fleet.search !== '') query.set('busca', fleet.search);
  if (fleet.only !== '') query.set('somente', fleet.only);
  void loadFleetAlerts();
  const answer = await api<FleetPage>(`/frota/medidores?${query}`);
  if (answer.status !== 200) {
    showError(plainError(answer));
    return;
  }
  showError(undefined);
  const body = answer.body;
  byId('frota-total').textContent = kwh.format(body.total);
  byId('frota-alertas').textContent = kwh.format(body.em_alerta);
  byId('frota-silenciosos').textContent = kwh.format(body.silenciosos);
  byId('frota-cortados').textContent = kwh.format(body.cortados);
  byId('frota-sem-energia').textContent = kwh.format(body.sem_energia);
  byId('frota-criterio').textContent = `Silencioso: nada recebido há mais de ${body.silencio_apos_s} s (um medidor que avisou falta de energia conta como sem energia, não silencioso).`;
  const rows = body.medidores.map((m) => {
    const tr = document.createElement('tr');
    const link = Object.assign(document.createElement('button'), { type: 'button', textContent: m.matricula });
    link.addEventListener('click', () => navigate.openMeter(m.matricula));
    const cells: (string | HTMLElement)[] = [
      link,
      m.cliente ?? '—',
      `${kwh.format(m.ultima_leitura.consumo)} kWh · ${quando.format(new Date(m.ultima_leitura.data_hora))}`,
      relative(m.silencio_s),
      m.alerta === true ? 'ALERTA' : m.alerta === false ? 'normal' : '—',
      m.silencioso ? 'sim' : 'não',
      `${m.fornecimento}${m.sem_energia ? ' · sem energia' : ''}`,
    ];
    cells.forEach((content, i) => {
      const td = document.createElement('td');
      td.dataset.rotulo = FLEET_COLUMNS[i] ?? '';
      if (typeof content === 'string') td.textContent = content;
      else td.append(content);
      if (i === 4 && m.alerta === true) td.className = 'em-alerta';
      if (i === 5 && m.silencioso) td.className = 'silencioso';
      if (i === 6 && (m.fornecimento === 'cortado' || m.sem_energia)) td.className = 'em-alerta';
      tr.append(td);
    });
    return tr;
  });
  setRows('tabela-frota', rows);
  const pages = Math.max(1, Math.ceil(body.total / FLEET_PAGE));
  byId('pagina-info').textContent = `página ${body.pagina} de ${pages} (${kwh.format(body.total)} ${body.total === 1 ? 'medidor' : 'medidores'})`;
  button('anterior').disabled = body.pagina <= 1;
  button('seguinte').disabled = body.proxima === null;
  for (const th of table('tabela-frota').tHead?.rows[0]?.cells ?? []) {
    if (th.dataset.coluna === fleet.sortBy) th.setAttribute('aria-sort', fleet.order === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
}

export function renderFleetSummary(): void {
  const summary = state.fleet.summary;
  if (summary !== undefined) byId('frota-taxa').textContent = kwh.format(summary.leituras_por_segundo);
}

/** The fleet's report of today, as `format` (pdf or csv). */
export async function downloadFleetReport(format: string): Promise<void> {
  const today = isoDate(new Date());
  await download(`/relatorios?${new URLSearchParams({ periodo: 'diario', inicio: today, fuso: FUSO, formato: format })}`, `relatorio-frota-${today}.${format}`);
}
