/**
 * Alerts, in both views: the watched meter's (/alertas?matricula=) and the
 * fleet's active ones a page at a time (operator), each active one with its
 * Reconhecer button.
 */
import { api, plainError } from './api.js';
import { announce, button, byId, quando, setRows, showError } from './dom.js';
import { navigate, state, type Alert } from './state.js';

export const ALERT_KIND_LABELS: Record<string, string> = {
  consumo_elevado: 'Consumo elevado (regra 1,5x)',
  meta_em_risco: 'Meta em risco',
  leitura_sinalizada: 'Medição sinalizada',
  falta_energia: 'Falta de energia',
  violacao_tampa: 'Violação da tampa',
  subtensao: 'Subtensão',
  sobretensao: 'Sobretensão',
  limite_excedido: 'Limite de demanda atingido',
};
const ALERT_STATE_LABELS: Record<Alert['estado'], string> = { ativo: 'ativo', reconhecido: 'reconhecido', encerrado: 'encerrado' };
/** Column names, shown beside each cell when a phone stacks a row (painel.css). */
const ALERT_COLUMNS = ['Alerta', 'Estado', 'Desde', 'Detalhe'];
/** Active alerts shown at a time above the fleet table: more go to the next page, so the table stays in sight. */
const FLEET_ALERTS_PAGE = 5;

export const kindLabel = (tipo: string): string => ALERT_KIND_LABELS[tipo] ?? tipo;

export async function loadAlerts(): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const answer = await api<{ alertas: Alert[] }>(`/alertas?matricula=${matricula}&limite=20`);
  if (matricula !== state.matricula) return;
  state.alerts = answer.status === 200 ? answer.body.alertas : [];
  renderAlerts();
}

export function renderAlerts(): void {
  renderAlertTable('tabela-alertas', 'alertas-vazio', state.alerts ?? [], false);
}

/** Alerts as table rows (with their matricula as a link when `withMatricula`), each active one with its Reconhecer button. */
function renderAlertTable(tableId: string, emptyId: string, list: readonly Alert[], withMatricula: boolean): void {
  byId(emptyId).hidden = list.length > 0;
  setRows(
    tableId,
    list.map((alert) => {
      const tr = document.createElement('tr');
      tr.dataset.estado = alert.estado;
      if (withMatricula) {
        const td = document.createElement('td');
        const link = Object.assign(document.createElement('a'), { href: `?matricula=${alert.matricula}#consumo`, textContent: alert.matricula });
        link.addEventListener('click', (event) => {
          event.preventDefault();
          navigate.openMeter(alert.matricula);
        });
        td.append(link);
        td.dataset.rotulo = 'Matrícula';
        tr.append(td);
      }
      const who = alert.reconhecido_por === null ? '' : ` (por ${alert.reconhecido_por})`;
      [kindLabel(alert.tipo), `${ALERT_STATE_LABELS[alert.estado]}${who}`, quando.format(new Date(alert.criado_em)), alert.detalhe].forEach((text, i) => {
        const td = Object.assign(document.createElement('td'), { textContent: text });
        td.dataset.rotulo = ALERT_COLUMNS[i] ?? '';
        if (i === 3) td.className = 'detalhe-alerta';
        tr.append(td);
      });
      const td = document.createElement('td');
      // Acknowledging changes state: it needs a session (the meter's customer, or the operator).
      if (alert.estado === 'ativo' && state.session !== undefined) {
        const acknowledgeButton = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Reconhecer', className: 'secundario' });
        acknowledgeButton.setAttribute('aria-label', `Reconhecer o alerta ${kindLabel(alert.tipo)}${withMatricula ? ` da matrícula ${alert.matricula}` : ''}`);
        acknowledgeButton.addEventListener('click', () => void acknowledge(alert));
        td.append(acknowledgeButton);
      }
      tr.append(td);
      return tr;
    }),
  );
}

/** The fleet's active alerts (operator), a page at a time. */
export async function loadFleetAlerts(): Promise<void> {
  const page = state.fleetAlertsPage;
  const answer = await api<{ alertas: Alert[]; proxima: string | null }>(`/alertas?estado=ativo&limite=${FLEET_ALERTS_PAGE}&pagina=${page}`);
  state.fleetAlerts = answer.status === 200 ? answer.body.alertas : [];
  if (state.fleetAlerts.length === 0 && page > 1) {
    // The last alert of a page was acknowledged: show the page before.
    state.fleetAlertsPage = page - 1;
    await loadFleetAlerts();
    return;
  }
  renderAlertTable('tabela-alertas-frota', 'alertas-frota-vazio', state.fleetAlerts, true);
  const more = answer.status === 200 && answer.body.proxima !== null;
  const first = (page - 1) * FLEET_ALERTS_PAGE + 1;
  byId('alertas-frota-paginas').hidden = page === 1 && !more;
  byId('alertas-frota-info').textContent = state.fleetAlerts.length === 0 ? '' : `alertas ${first} a ${first - 1 + state.fleetAlerts.length}${more ? ', há mais' : ''}`;
  button('alertas-frota-anterior').disabled = page <= 1;
  button('alertas-frota-seguinte').disabled = !more;
}

async function acknowledge(alert: Alert): Promise<void> {
  const answer = await api<Alert>(`/alertas/${alert.id}/reconhecimento`, { method: 'POST' });
  if (answer.status !== 200) {
    showError(plainError(answer));
    return;
  }
  announce(`Alerta reconhecido: ${kindLabel(alert.tipo)}.`);
  state.alerts = (state.alerts ?? []).map((a) => (a.id === alert.id ? answer.body : a));
  renderAlerts();
  if (state.view === 'frota') await loadFleetAlerts();
}

/** A live alert of the watched meter: added or updated, and news said aloud. */
export function alertArrived(alert: Alert): void {
  if (alert.matricula !== state.matricula) return;
  const known = (state.alerts ?? []).some((a) => a.id === alert.id);
  state.alerts = known ? (state.alerts ?? []).map((a) => (a.id === alert.id ? alert : a)) : [alert, ...(state.alerts ?? [])];
  renderAlerts();
  // The 1.5x rule is announced by its own card; the others are news only here.
  if (!known && alert.tipo !== 'consumo_elevado') announce(`Novo alerta: ${kindLabel(alert.tipo)}.`);
}
