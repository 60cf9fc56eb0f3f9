/**
 * The meter's page (under the customer view): its supply and power state,
 * demand limit and last contact (/medidores/{matricula}), its recent events,
 * and, for a signed-in operator, its commands: sent after a confirmation,
 * cancelled while open, their state followed live.
 */
import { api, plainError } from './api.js';
import { announce, byId, input, kwh, quando, setRows, showError } from './dom.js';
import { state, type Command, type MeterEvent, type MeterInfo } from './state.js';

/** A command's effect shows in the meter's state a moment later (ms). */
const RELOAD_DELAY_MS = 800;
const SHOWN_COMMANDS = 10;
const SHOWN_EVENTS = 20;
/** A demand limit as typed: up to 6 digits and 3 decimals, comma or point. */
const KW_TYPED = /^[0-9]{1,6}([.,][0-9]{1,3})?$/;

export const COMMAND_LABELS: Record<Command['tipo'], string> = { leitura: 'Leitura agora', corte: 'Corte', religacao: 'Religação', limite_demanda: 'Limite de demanda', sincronizar_relogio: 'Sincronizar relógio' };
export const EVENT_LABELS: Record<string, string> = {
  falta_energia: 'Falta de energia (último suspiro)',
  retorno_energia: 'Energia restabelecida',
  violacao_tampa: 'Violação da tampa',
  corte_executado: 'Corte executado',
  religacao_executada: 'Religação executada',
  limite_excedido: 'Limite de demanda atingido',
  relogio_ajustado: 'Relógio ajustado',
  subtensao: 'Subtensão (abaixo de 90% da nominal)',
  sobretensao: 'Sobretensão (acima de 110% da nominal)',
};
const SERIOUS_EVENTS = new Set(['falta_energia', 'violacao_tampa', 'corte_executado', 'limite_excedido']);
const OPEN_COMMANDS = new Set(['pendente', 'enviado']);

export async function loadMeter(): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const operator = state.fleetAllowed;
  const [info, commands] = await Promise.all([
    api<MeterInfo>(`/medidores/${matricula}`),
    operator ? api<{ comandos: Command[] }>(`/medidores/${matricula}/comandos?limite=${SHOWN_COMMANDS}`) : undefined,
  ]);
  if (matricula !== state.matricula) return;
  if (info.status !== 200) {
    byId('secao-medidor').hidden = true;
    return;
  }
  state.meter.info = info.body;
  state.meter.events = info.body.ocorrencias_recentes;
  state.meter.commands = new Map((commands?.status === 200 ? commands.body.comandos : []).map((c) => [c.id, c]));
  renderMeter();
}

/** Reads the meter again a moment later, once for a burst. */
export function scheduleMeterReload(): void {
  if (state.meter.timer !== undefined) return;
  state.meter.timer = setTimeout(() => {
    state.meter.timer = undefined;
    void loadMeter();
  }, RELOAD_DELAY_MS);
}

function renderMeter(): void {
  const info = state.meter.info;
  if (info === undefined) return;
  byId('secao-medidor').hidden = false;
  const supply = byId('med-fornecimento');
  supply.textContent = info.fornecimento === 'cortado' ? 'Cortado' : 'Ligado';
  supply.dataset.estado = info.fornecimento;
  const power = byId('med-energia');
  power.textContent = info.sem_energia ? 'Sem energia' : 'Com energia';
  power.dataset.estado = info.sem_energia ? 'sem_energia' : 'com_energia';
  byId('med-limite').textContent = info.limite_demanda_kw === null ? 'sem limite' : `${kwh.format(Number(info.limite_demanda_kw))} kW`;
  byId('med-contato').textContent = info.ultimo_contato === null ? 'nunca' : quando.format(new Date(info.ultimo_contato));
  byId('med-endereco-linha').hidden = info.endereco === null;
  byId('med-endereco').textContent = info.endereco ?? '';
  // Commands change state: only a signed-in operator sends them, whatever AUTENTICACAO_API says of reading.
  const operator = state.session?.papel === 'operador';
  byId('comandos-operador').hidden = !operator;
  byId('comandos-entrar').hidden = operator || !state.fleetAllowed;
  byId('medidor-sem-chave').hidden = info.chave;
  for (const commandButton of document.querySelectorAll<HTMLButtonElement>('[data-comando]')) {
    const kind = commandButton.dataset.comando;
    commandButton.disabled = !info.chave && kind !== 'leitura' && kind !== 'sincronizar_relogio';
  }
  input('limite-kw').disabled = !info.chave;
  renderCommands();
  renderEvents();
}

function commandLabel(command: Command): string {
  if (command.tipo !== 'limite_demanda') return COMMAND_LABELS[command.tipo];
  const kw = command.parametros.kw;
  return kw === null || kw === undefined ? 'Remover limite de demanda' : `Limite de demanda: ${kwh.format(Number(kw))} kW`;
}

function renderCommands(): void {
  const commands = [...state.meter.commands.values()].sort((a, b) => Date.parse(b.criado_em) - Date.parse(a.criado_em)).slice(0, SHOWN_COMMANDS);
  const rows = commands.map((command) => {
    const tr = document.createElement('tr');
    const cells = [commandLabel(command), command.estado, quando.format(new Date(command.criado_em)), String(command.tentativas), command.resultado ?? command.motivo ?? '—'];
    cells.forEach((text, i) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (i === 1) td.dataset.estado = command.estado;
      tr.append(td);
    });
    const actions = document.createElement('td');
    if (OPEN_COMMANDS.has(command.estado)) {
      const cancel = Object.assign(document.createElement('button'), { type: 'button', className: 'secundario', textContent: 'Cancelar' });
      cancel.setAttribute('aria-label', `Cancelar ${commandLabel(command)}`);
      cancel.addEventListener('click', () => void cancelCommand(command));
      actions.append(cancel);
    }
    tr.append(actions);
    return tr;
  });
  setRows('tabela-comandos', rows);
  byId('comandos-vazio').hidden = rows.length > 0;
}

function renderEvents(): void {
  const items = state.meter.events.slice(0, SHOWN_EVENTS).map((reported) => {
    const li = document.createElement('li');
    li.dataset.grave = SERIOUS_EVENTS.has(reported.tipo) ? 'sim' : 'nao';
    const time = Object.assign(document.createElement('time'), { dateTime: reported.data_hora, textContent: quando.format(new Date(reported.data_hora)) });
    li.append(time, EVENT_LABELS[reported.tipo] ?? reported.tipo, reported.detalhe === '' ? '' : ` — ${reported.detalhe}`);
    return li;
  });
  byId('ocorrencias').replaceChildren(...items);
  byId('ocorrencias-vazio').hidden = items.length > 0;
}

/** Asks the operator to confirm, in a dialog; resolves with the answer. */
function confirmCommand(text: string): Promise<boolean> {
  const dialog = byId('confirmar', HTMLDialogElement);
  byId('confirmar-texto').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirmar'), { once: true }));
}

/** Sends a command button's command (`data-comando`) to the watched meter, once the operator confirms it. */
export async function sendCommand(kind: string): Promise<void> {
  const matricula = state.matricula ?? '';
  let body: { tipo: string; parametros?: { kw: string | null } } = { tipo: kind };
  let text = `${COMMAND_LABELS[kind as Command['tipo']] ?? kind} no medidor ${matricula}?`;
  if (kind === 'corte') text = `Cortar o fornecimento do medidor ${matricula}? O registro para até uma religação.`;
  if (kind === 'religacao') text = `Religar o fornecimento do medidor ${matricula}?`;
  if (kind === 'remover_limite') {
    body = { tipo: 'limite_demanda', parametros: { kw: null } };
    text = `Remover o limite de demanda do medidor ${matricula}?`;
  } else if (kind === 'limite_demanda') {
    const typed = input('limite-kw').value.trim();
    if (!KW_TYPED.test(typed) || Number(typed.replace(',', '.')) <= 0) {
      showError('Informe o limite em kW, maior que zero, como 2,5.');
      input('limite-kw').focus();
      return;
    }
    const kw = typed.replace(',', '.');
    body = { tipo: 'limite_demanda', parametros: { kw } };
    text = `Limitar a demanda do medidor ${matricula} a ${kwh.format(Number(kw))} kW?`;
  }
  if (!(await confirmCommand(text))) return;
  // A key per confirmed request: a retry of the same request (a flaky network) is the same command.
  const answer = await api<Command>(`/medidores/${matricula}/comandos`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() }, body: JSON.stringify(body) });
  if (answer.status !== 202) {
    showError(plainError(answer));
    return;
  }
  showError(undefined);
  state.meter.commands.set(answer.body.id, answer.body);
  renderCommands();
  announce(`${commandLabel(answer.body)}: enviado ao medidor.`);
}

async function cancelCommand(command: Command): Promise<void> {
  if (!(await confirmCommand(`Cancelar o comando “${commandLabel(command)}”?`))) return;
  const answer = await api<Command>(`/comandos/${command.id}`, { method: 'DELETE' });
  if (answer.status !== 200) {
    showError(plainError(answer));
    return;
  }
  state.meter.commands.set(answer.body.id, answer.body);
  renderCommands();
}

/** A live command of the watched meter (operator): its row updated, its end said aloud. */
export function commandArrived(command: Command): void {
  if (command.matricula !== state.matricula || !state.fleetAllowed) return;
  const before = state.meter.commands.get(command.id);
  state.meter.commands.set(command.id, command);
  renderCommands();
  if (before?.estado !== command.estado && !OPEN_COMMANDS.has(command.estado)) announce(`${COMMAND_LABELS[command.tipo]}: ${command.estado}.`);
  if (command.estado === 'executado') scheduleMeterReload();
}

/** A live event of the watched meter: listed once, said aloud, and the meter's state read again. */
export function eventArrived(reported: MeterEvent): void {
  if (reported.matricula !== state.matricula) return;
  const key = (e: MeterEvent): string => `${e.data_hora}|${e.tipo}`;
  if (!state.meter.events.some((e) => key(e) === key(reported))) state.meter.events = [reported, ...state.meter.events].sort((a, b) => Date.parse(b.data_hora) - Date.parse(a.data_hora));
  renderEvents();
  announce(`Ocorrência: ${EVENT_LABELS[reported.tipo] ?? reported.tipo}.`);
  scheduleMeterReload();
}
