/**
 * The dashboard's entry (index.html loads it as a module): which view
 * shows (#consumo or #frota), watching a meter, and every control's
 * handler. Customer view: consumption.ts, billing.ts, meter.ts; operator
 * view: fleet.ts; both: alerts.ts, live.ts; sign-in: session.ts. Plain
 * browser modules compiled by tsc (dashboard/tsconfig.json), nothing from
 * outside this server.
 */
import { loadSession } from './api.js';
import { loadFleetAlerts } from './alerts.js';
import { compareWhite, downloadReport, removeGoal, setGoal } from './billing.js';
import { exportCsv, reload, renderAlertLog, renderChart, select } from './consumption.js';
import { byId, input, isoDate, showError, table } from './dom.js';
import { checkFleetAccess, downloadFleetReport, loadFleet } from './fleet.js';
import { connect } from './live.js';
import { loadMeter, sendCommand } from './meter.js';
import { renderSession, signIn, signInOperator, signOut } from './session.js';
import { navigate, state } from './state.js';

const FLEET_REFRESH_MS = 5000;
const SEARCH_DELAY_MS = 250;
const RANGES = ['24h', '7d', '30d', '12m'];

/** Watches a meter: its range, state and events, followed live; the address keeps the choice. */
async function watch(matricula: string): Promise<void> {
  if (!/^[0-9]{1,20}$/.test(matricula)) {
    showError('A matrícula tem de 1 a 20 dígitos.');
    return;
  }
  const changed = matricula !== state.matricula;
  state.matricula = matricula;
  if (changed) {
    state.lastEventId = undefined;
    state.alert = undefined;
    renderAlertLog();
  }
  const url = new URL(location.href);
  url.searchParams.set('matricula', matricula);
  url.searchParams.set('intervalo', state.range);
  history.replaceState(null, '', url);
  await reload();
  await loadMeter();
  connect();
}

/** Shows the view the address names (#frota only for who may read the fleet). */
function route(): void {
  const fleet = location.hash === '#frota' && state.fleetAllowed;
  state.view = fleet ? 'frota' : 'consumo';
  byId('vista-frota').hidden = !fleet;
  byId('vista-consumo').hidden = fleet;
  const fleetTab = byId('aba-frota');
  const consumptionTab = byId('aba-consumo');
  if (fleet) fleetTab.setAttribute('aria-current', 'page');
  else fleetTab.removeAttribute('aria-current');
  if (fleet) consumptionTab.removeAttribute('aria-current');
  else consumptionTab.setAttribute('aria-current', 'page');
  clearInterval(state.fleet.timer);
  if (fleet) {
    void loadFleet();
    state.fleet.timer = setInterval(() => void loadFleet(), FLEET_REFRESH_MS);
  }
  connect();
  if (!fleet) renderChart();
}

navigate.openMeter = (matricula) => {
  input('matricula').value = matricula;
  state.matricula = undefined;
  location.hash = '#consumo';
  void watch(matricula);
};

navigate.afterSessionChange = async (matricula) => {
  renderSession();
  await checkFleetAccess();
  if (matricula !== undefined) {
    input('matricula').value = matricula;
    await watch(matricula);
  } else if (state.fleetAllowed) {
    location.hash = '#frota';
  } else if (state.matricula !== undefined) {
    await watch(state.matricula);
  }
  route();
};

function bindCustomerView(): void {
  byId('meta-form').addEventListener('submit', (event) => void setGoal(event));
  byId('meta-remover').addEventListener('click', () => void removeGoal());
  for (const reportButton of document.querySelectorAll<HTMLElement>('[data-relatorio]')) {
    reportButton.addEventListener('click', () => void downloadReport(reportButton.dataset.relatorio ?? '', reportButton.dataset.formato ?? ''));
  }
  byId('escolha').addEventListener('submit', (event) => {
    event.preventDefault();
    void watch(input('matricula').value.trim());
  });
  for (const choice of document.querySelectorAll<HTMLInputElement>('input[name="intervalo"]')) {
    choice.addEventListener('change', () => {
      byId('personalizado').hidden = choice.value !== 'outro';
      if (choice.value === 'outro') {
        if (input('inicio').value === '') {
          const today = new Date();
          input('fim').value = isoDate(today);
          today.setDate(today.getDate() - 2);
          input('inicio').value = isoDate(today);
        }
        return;
      }
      state.range = choice.value;
      state.selected = undefined;
      if (state.matricula !== undefined) void watch(state.matricula);
    });
  }
  byId('personalizado').addEventListener('submit', (event) => {
    event.preventDefault();
    const inicio = input('inicio').value;
    const fim = input('fim').value;
    if (inicio === '' || fim === '' || fim < inicio) {
      showError('Escolha um início e um fim, o fim no mesmo dia ou depois do início.');
      return;
    }
    state.custom = { inicio, fim };
    state.range = 'outro';
    state.selected = undefined;
    if (state.matricula !== undefined) void watch(state.matricula);
  });
  const svg = byId('grafico', SVGSVGElement);
  svg.addEventListener('pointermove', (event) => {
    if (state.geometry === undefined) return;
    const index = state.geometry.periodAt(event.clientX - svg.getBoundingClientRect().left);
    select(index === -1 ? undefined : index);
  });
  svg.addEventListener('pointerleave', () => select(undefined));
  byId('exportar').addEventListener('click', () => void exportCsv());
  byId('comparar').addEventListener('click', () => void compareWhite());
  for (const commandButton of document.querySelectorAll<HTMLElement>('[data-comando]')) commandButton.addEventListener('click', () => void sendCommand(commandButton.dataset.comando ?? ''));
  new ResizeObserver(() => renderChart()).observe(byId('grafico-area'));
}

function bindSignIn(): void {
  byId('abrir-entrar').addEventListener('click', () => {
    const box = byId('entrar');
    box.hidden = !box.hidden;
    byId('abrir-entrar').setAttribute('aria-expanded', String(!box.hidden));
    if (!box.hidden) input('usuario').focus();
  });
  byId('entrar-form').addEventListener('submit', (event) => void signIn(event));
  byId('operador-form').addEventListener('submit', (event) => void signInOperator(event));
  byId('sair').addEventListener('click', () => void signOut());
}

function bindFleetView(): void {
  const fleet = state.fleet;
  const reload = (page: number): void => {
    fleet.page = page;
    void loadFleet();
  };
  for (const reportButton of document.querySelectorAll<HTMLElement>('[data-relatorio-frota]')) reportButton.addEventListener('click', () => void downloadFleetReport(reportButton.dataset.relatorioFrota ?? ''));
  for (const th of table('tabela-frota').tHead?.querySelectorAll<HTMLElement>('th[data-coluna]') ?? []) {
    th.querySelector('button')?.addEventListener('click', () => {
      const column = th.dataset.coluna ?? 'matricula';
      fleet.order = fleet.sortBy === column && fleet.order === 'asc' ? 'desc' : 'asc';
      fleet.sortBy = column;
      reload(1);
    });
  }
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  byId('busca').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      fleet.search = input('busca').value.trim();
      reload(1);
    }, SEARCH_DELAY_MS);
  });
  byId('frota-filtros').addEventListener('submit', (event) => event.preventDefault());
  byId('somente').addEventListener('change', () => {
    fleet.only = byId('somente', HTMLSelectElement).value;
    reload(1);
  });
  byId('anterior').addEventListener('click', () => reload(Math.max(1, fleet.page - 1)));
  byId('seguinte').addEventListener('click', () => reload(fleet.page + 1));
  byId('alertas-frota-anterior').addEventListener('click', () => {
    state.fleetAlertsPage = Math.max(1, state.fleetAlertsPage - 1);
    void loadFleetAlerts();
  });
  byId('alertas-frota-seguinte').addEventListener('click', () => {
    state.fleetAlertsPage++;
    void loadFleetAlerts();
  });
}

async function start(): Promise<void> {
  state.session = loadSession();
  bindCustomerView();
  bindSignIn();
  bindFleetView();
  window.addEventListener('hashchange', route);
  renderSession();
  renderAlertLog();
  await checkFleetAccess();
  const params = new URLSearchParams(location.search);
  const range = params.get('intervalo');
  if (range !== null && RANGES.includes(range)) {
    state.range = range;
    input(`int-${range}`).checked = true;
  }
  const matricula = state.session?.papel === 'cliente' ? state.session.matricula : params.get('matricula');
  if (matricula !== null && matricula !== undefined) {
    input('matricula').value = matricula;
    await watch(matricula);
  }
  route();
}

void start();
