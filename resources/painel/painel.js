// The dashboard. Customer view: consumption bars of a range from /consumo,
// the latest reading, the alert with a log that stays, CSV export, the
// meter's supply state and events; live over /eventos (which replays what a
// reconnect missed). Operator view: the fleet table from /frota/medidores,
// and on a meter's page its commands (sent with confirmation, their state
// live). Sign-in through /validacao-usuario; the token
// lives in sessionStorage and is never shown. Plain browser modules, no
// build step, nothing from outside this server.

import { drawBars } from './grafico.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CHART_HEIGHT = 260;
/** Live readings are batched into one reload of the range at most this often (ms). */
const RELOAD_DELAY_MS = 800;
const FLEET_PAGE = 50;
const BILLING_REFRESH_MS = 30_000;
const FLEET_REFRESH_MS = 5000;
const MAX_LOGGED_ALERTS = 50;
const STORAGE_KEY = 'consumo.sessao';

const kwh = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 });
const reais = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
const quando = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'medium' });
const diaHora = new Intl.DateTimeFormat('pt-BR', { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });
const soDia = new Intl.DateTimeFormat('pt-BR', { weekday: 'short', day: '2-digit', month: '2-digit', year: 'numeric' });
const soMes = new Intl.DateTimeFormat('pt-BR', { month: 'long', year: 'numeric' });
const FUSO = Intl.DateTimeFormat().resolvedOptions().timeZone;

const $ = (id) => document.getElementById(id);

const state = {
  session: loadSession(),
  fleetAllowed: false,
  view: 'consumo',
  matricula: undefined,
  range: '24h',
  custom: undefined,
  data: undefined,
  geometry: undefined,
  selected: undefined,
  alert: undefined,
  events: undefined,
  lastEventId: undefined,
  reloadTimer: undefined,
  billingFor: undefined,
  billingAt: 0,
  fleet: { page: 1, sortBy: 'matricula', order: 'asc', search: '', only: '', timer: undefined, summary: undefined },
  meter: { info: undefined, commands: new Map(), events: [], timer: undefined },
};

const COMMAND_LABELS = { leitura: 'Leitura agora', corte: 'Corte', religacao: 'Religação', limite_demanda: 'Limite de demanda', sincronizar_relogio: 'Sincronizar relógio' };
const EVENT_LABELS = {
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
const SHOWN_COMMANDS = 10;
const SHOWN_EVENTS = 20;
/** A demand limit as typed: up to 6 digits and 3 decimals, comma or point. */
const KW_TYPED = /^[0-9]{1,6}([.,][0-9]{1,3})?$/;

// --- session -----------------------------------------------------------------

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') ?? undefined;
  } catch {
    return undefined;
  }
}

function saveSession(session) {
  state.session = session;
  if (session === undefined) sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

/** The claims of a JSON Web Token (read to know whose it is; the server checks it). */
function claimsOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

function headers() {
  return state.session === undefined ? {} : { Authorization: `Bearer ${state.session.token}` };
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers(), ...(options.headers ?? {}) } });
  let body;
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return { status: response.status, body, headers: response.headers };
}

/** What an error answer means, in plain words. */
function plainError(answer) {
  const code = answer.body?.erro?.codigo;
  if (answer.status === 401) return state.session === undefined ? 'Entre para ver estes dados.' : 'Sua sessão expirou ou não vale mais: entre de novo.';
  if (answer.status === 403) return 'Este acesso não permite ver estes dados.';
  if (answer.status === 429) return `Muitas requisições. Tente de novo em ${answer.headers?.get('Retry-After') ?? 'alguns'} segundos.`;
  if (answer.status === 503) return 'O servidor está temporariamente indisponível. Tente de novo em instantes.';
  if (code === 'dados_invalidos') return `Dados inválidos: ${(answer.body.erro.detalhes ?? []).map((d) => `${d.campo} ${d.problema}`).join('; ')}`;
  return answer.body?.erro?.mensagem ?? `Erro ${answer.status}.`;
}

function showError(text) {
  $('erro').textContent = text ?? '';
  $('erro').hidden = text === undefined;
}

function announce(text) {
  // Cleared first, so the same words are announced again.
  $('anuncio').textContent = '';
  setTimeout(() => ($('anuncio').textContent = text), 50);
}

function renderSession() {
  const session = state.session;
  $('sessao-quem').hidden = session === undefined;
  $('sair').hidden = session === undefined;
  $('abrir-entrar').hidden = session !== undefined;
  if (session !== undefined) {
    $('sessao-quem').textContent = session.papel === 'operador' ? (session.nome === undefined ? 'Operador' : `Operador · ${session.nome}`) : `${session.username} · ${session.matricula}`;
    $('entrar').hidden = true;
  }
  const customer = session?.papel === 'cliente';
  $('meta-form').hidden = session === undefined;
  $('meta-entrar').hidden = session !== undefined;
  $('matricula').readOnly = customer;
  if (customer) $('matricula').value = session.matricula;
}

async function signIn(event) {
  event.preventDefault();
  const username = $('usuario').value.trim();
  const senha = $('senha').value;
  const erro = $('entrar-erro');
  erro.hidden = true;
  if (username === '' || senha === '') {
    erro.textContent = 'Preencha o usuário e a senha.';
    erro.hidden = false;
    return;
  }
  const answer = await api('/validacao-usuario', { method: 'POST', body: JSON.stringify({ username, senha }), headers: { 'Content-Type': 'application/json' } });
  $('senha').value = '';
  if (answer.status !== 200 || typeof answer.body.token !== 'string') {
    erro.textContent =
      answer.status === 401 ? 'Usuário ou senha incorretos.' : answer.status === 429 ? `Muitas tentativas. Tente de novo em ${answer.headers.get('Retry-After') ?? 'alguns'} segundos.` : plainError(answer);
    erro.hidden = false;
    return;
  }
  saveSession({ token: answer.body.token, papel: claimsOf(answer.body.token).papel ?? 'cliente', username: answer.body.username, matricula: answer.body.matricula });
  await afterSessionChange(answer.body.matricula);
}

async function signInOperator(event) {
  event.preventDefault();
  let token = $('token-operador').value.trim();
  $('token-operador').value = '';
  const nome = $('nome-operador').value.trim();
  const senha = $('senha-operador').value;
  $('senha-operador').value = '';
  // A named account signs in with its password; the configuration's token is taken as it is.
  if (token === '' && nome !== '' && senha !== '') {
    const signedIn = await api('/sessao/operador', { method: 'POST', body: JSON.stringify({ nome, senha }), headers: { 'Content-Type': 'application/json' } });
    if (signedIn.status !== 200) {
      const erro = $('entrar-erro');
      erro.textContent = signedIn.status === 429 ? `Muitas tentativas. Tente de novo em ${signedIn.headers.get('Retry-After') ?? 'alguns'} segundos.` : 'Nome ou senha de operador incorretos.';
      erro.hidden = false;
      return;
    }
    token = signedIn.body.token;
  }
  const erro = $('entrar-erro');
  // /sessao checks the token in every mode (the fleet's routes are open to anyone with AUTENTICACAO_API=aberta).
  const answer = await fetch('/sessao', { headers: { Authorization: `Bearer ${token}` } });
  const who = answer.status === 200 ? await answer.json() : {};
  if (who.papel !== 'operador') {
    erro.textContent = 'Token de operador recusado.';
    erro.hidden = false;
    return;
  }
  saveSession({ token, papel: 'operador', nome: who.nome });
  await afterSessionChange(undefined);
}

async function afterSessionChange(matricula) {
  renderSession();
  await checkFleetAccess();
  if (matricula !== undefined) {
    $('matricula').value = matricula;
    await watch(matricula);
  } else if (state.fleetAllowed) {
    location.hash = '#frota';
  } else if (state.matricula !== undefined) {
    await watch(state.matricula);
  }
  route();
}

// --- ranges ------------------------------------------------------------------

const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** The range a choice means now: /consumo's inicio, fim and grouping, and the chart's span. */
function rangeOf(choice) {
  const now = Date.now();
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  if (choice === '24h') {
    const from = new Date(now - DAY);
    from.setMinutes(0, 0, 0);
    return { agrupar: 'hora', inicio: from.toISOString(), fim: new Date(now).toISOString(), title: 'Consumo por hora nas últimas 24 h (kWh)' };
  }
  if (choice === '7d' || choice === '30d') {
    const days = choice === '7d' ? 7 : 30;
    const from = new Date(today);
    from.setDate(from.getDate() - (days - 1));
    return { agrupar: 'dia', inicio: isoDate(from), fim: new Date(now).toISOString(), title: `Consumo por dia nos últimos ${days} dias (kWh)` };
  }
  if (choice === '12m') {
    const from = new Date(today.getFullYear(), today.getMonth() - 11, 1);
    return { agrupar: 'mes', inicio: isoDate(from), fim: new Date(now).toISOString(), title: 'Consumo por mês nos últimos 12 meses (kWh)' };
  }
  const { inicio, fim } = state.custom;
  const end = new Date(`${fim}T00:00`);
  end.setDate(end.getDate() + 1);
  const days = (end - new Date(`${inicio}T00:00`)) / DAY;
  const agrupar = days <= 3 ? 'hora' : days <= 93 ? 'dia' : 'mes';
  const unit = { hora: 'hora', dia: 'dia', mes: 'mês' }[agrupar];
  return { agrupar, inicio, fim: isoDate(end), title: `Consumo por ${unit} de ${inicio.split('-').reverse().join('/')} a ${fim.split('-').reverse().join('/')} (kWh)` };
}

function periodLabel(period, agrupar) {
  if (agrupar === 'hora') return `${diaHora.format(period.start)}–${String(new Date(period.end).getHours()).padStart(2, '0')}h`;
  if (agrupar === 'dia') return soDia.format(period.start);
  return soMes.format(period.start);
}

// --- customer view -------------------------------------------------------------

async function watch(matricula) {
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

async function reload() {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const range = rangeOf(state.range);
  const query = new URLSearchParams({ matricula, agrupar: range.agrupar, inicio: range.inicio, fim: range.fim, fuso: FUSO });
  const [consumo, ultima, alerta] = await Promise.all([api(`/consumo?${query}`), api(`/medicoes/ultima-medicao?matricula=${matricula}`), api(`/alerta-consumo?matricula=${matricula}`)]);
  if (matricula !== state.matricula) return;
  if (consumo.status !== 200) {
    showError(plainError(consumo));
    return;
  }
  showError(undefined);
  state.data = { ...consumo.body, range };
  $('exportar').disabled = false;
  $('grafico-titulo').textContent = range.title;
  renderLatest(ultima.status === 200 ? ultima.body : undefined);
  renderTotals();
  renderChart();
  renderTable();
  await renderAlert(alerta);
  // The preview reads the whole cycle: on live readings, at most every BILLING_REFRESH_MS. Billing's routes only when billing is configured.
  if (state.billingFor !== matricula || Date.now() - state.billingAt > BILLING_REFRESH_MS) {
    state.billingFor = matricula;
    state.billingAt = Date.now();
    const billing = consumo.body.precificacao?.faturamento_configurado === true;
    await Promise.all([billing ? loadBilling() : showBillingOff(), loadForecast(), loadAlerts()]);
  }
}

const QUANTITY_UNITS = { tensao_v: 'V', corrente_a: 'A', potencia_kw: 'kW', fator_potencia: '', frequencia_hz: 'Hz' };
const QUALITY_LABELS = { valida: 'válida', pico: 'pico', regressiva: 'registro regressivo', lacuna_antes: 'lacuna antes', consumo_zero_prolongado: 'consumo zero prolongado' };

/** The electrical quantities of the newest reading (from /medicoes/ultima-medicao or a live `medicao`), when the meter sends them. */
function renderQuantities(reading) {
  const present = reading !== undefined && Object.keys(QUANTITY_UNITS).some((name) => reading[name] !== undefined);
  $('secao-grandezas').hidden = !present;
  if (!present) return;
  for (const [name, unit] of Object.entries(QUANTITY_UNITS)) {
    const value = reading[name];
    $(`g-${name}`).textContent = value === undefined ? '—' : `${kwh.format(value)}${unit === '' ? '' : ` ${unit}`}`;
  }
  if (reading.qualidade !== undefined) $('g-qualidade').textContent = `Qualidade da última medição: ${reading.qualidade.map((flag) => QUALITY_LABELS[flag] ?? flag).join(', ')}.`;
}

function renderLatest(latest) {
  renderQuantities(latest);
  if (latest === undefined) delete $('ultima-data').dataset.instante;
  else $('ultima-data').dataset.instante = latest.data_hora;
  $('ultima-consumo').textContent = latest === undefined ? '—' : `${kwh.format(latest.consumo)} kWh`;
  $('ultima-data').textContent = latest === undefined ? 'nenhuma medição ainda' : quando.format(new Date(latest.data_hora));
}

function renderTotals() {
  const data = state.data;
  $('total-consumo').textContent = `${kwh.format(data.consumo_total)} kWh`;
  const gaps = data.lacunas === 0 ? 'sem lacunas' : data.lacunas === 1 ? '1 período sem medições' : `${data.lacunas} períodos sem medições`;
  const priced = data.precificacao?.origem === 'faturamento';
  $('total-detalhe').textContent = priced
    ? `${reais.format(data.valor_total)} estimados pelas tarifas de ${data.precificacao.distribuidora} (energia, bandeira e tributos; sem CIP) · ${gaps}`
    : `${reais.format(data.valor_total)} a ${reais.format(data.tarifa)}/kWh (tarifa fixa: faturamento não configurado) · ${gaps}`;
  $('custo-coluna').textContent = priced ? 'Custo estimado' : 'Custo (tarifa fixa)';
}

function periodsOf(data) {
  return data.periodos.map((p) => ({ start: Date.parse(p.inicio), end: Date.parse(p.fim), value: p.consumo, cost: p.valor, readings: p.leituras, complete: p.completo }));
}

function renderChart() {
  const data = state.data;
  if (data === undefined) return;
  const svg = $('grafico');
  const width = Math.max(Math.floor($('grafico-area').clientWidth), 200);
  const periods = periodsOf(data);
  state.geometry = drawBars(svg, {
    periods,
    from: Date.parse(data.inicio),
    to: Date.parse(data.fim),
    width,
    height: CHART_HEIGHT,
    format: (v) => kwh.format(v),
  });
  state.periods = periods;
  const withData = periods.filter((p) => p.value !== null);
  const peak = withData.reduce((best, p) => (best === undefined || p.value > best.value ? p : best), undefined);
  $('grafico-resumo').textContent =
    withData.length === 0
      ? 'Nenhuma medição neste intervalo.'
      : `${periods.length} períodos, ${withData.length} com medições; maior consumo ${kwh.format(peak.value)} kWh (${periodLabel(peak, data.agrupar)}).`;
  if (state.selected !== undefined) select(state.selected);
}

function renderTable() {
  const data = state.data;
  const rows = periodsOf(data).map((p) => {
    const tr = document.createElement('tr');
    for (const text of [periodLabel(p, data.agrupar), p.value === null ? 'sem medições' : `${kwh.format(p.value)} kWh${p.complete ? '' : ' (parcial)'}`, p.cost === null ? '—' : reais.format(p.cost), String(p.readings)]) {
      tr.append(Object.assign(document.createElement('td'), { textContent: text }));
    }
    return tr;
  });
  $('tabela-periodos').tBodies[0].replaceChildren(...rows);
}

/** Shows the tooltip of period `index` (pointer or keyboard). */
function select(index) {
  const tip = $('dica');
  const period = state.periods?.[index];
  for (const node of $('grafico').querySelectorAll('.selecionada')) node.classList.remove('selecionada');
  state.selected = period === undefined ? undefined : index;
  if (period === undefined) {
    tip.hidden = true;
    return;
  }
  $('grafico').querySelector(`[data-indice="${index}"]`)?.classList.add('selecionada');
  const label = periodLabel(period, state.data.agrupar);
  tip.replaceChildren();
  const lines =
    period.value === null
      ? [label, 'sem medições']
      : [label, `${kwh.format(period.value)} kWh · ${period.cost === null ? 'sem preço' : `${reais.format(period.cost)}${state.data.precificacao?.origem === 'faturamento' ? ' estimados' : ''}`}`, `${period.readings} leituras${period.complete ? '' : ' · parcial'}`];
  lines.forEach((line, i) => {
    if (i > 0) tip.append(document.createElement('br'));
    tip.append(i === 0 ? Object.assign(document.createElement('strong'), { textContent: line }) : document.createTextNode(line));
  });
  tip.hidden = false;
  const area = $('grafico-area').clientWidth;
  const center = (state.geometry.x(period.start) + state.geometry.x(period.end)) / 2;
  const half = tip.offsetWidth / 2;
  tip.style.left = `${Math.min(Math.max(center, half), area - half)}px`;
  tip.style.top = `${state.geometry.top + 4}px`;
}

async function renderAlert(answer) {
  const card = $('alerta');
  if (answer.status !== 200) {
    card.dataset.alerta = 'desconhecido';
    $('alerta-estado').textContent = '—';
    $('alerta-detalhe').textContent = answer.body?.erro?.codigo === 'medicoes_insuficientes' ? 'são precisas 5 medições para o alerta' : plainError(answer);
    return;
  }
  const body = answer.body;
  const firing = body.alerta === true;
  card.dataset.alerta = firing ? 'sim' : 'nao';
  $('alerta-estado').textContent = firing ? 'ALERTA' : 'normal';
  const factor = body.media_periodos_anteriores > 0 ? body.consumo_ultimo_periodo / body.media_periodos_anteriores : undefined;
  $('alerta-detalhe').textContent =
    `último período ${kwh.format(body.consumo_ultimo_periodo)} kWh` +
    (factor === undefined ? '' : ` (${kwh.format(Math.round(factor * 10) / 10)}× a média de ${kwh.format(body.media_periodos_anteriores)} kWh)`) +
    `; alerta a partir de ${kwh.format(body.limite)} kWh`;
  const wasFiring = state.alert === true;
  state.alert = firing;
  if (firing && !wasFiring) await logAlert(body, factor);
}

function alertLogKey() {
  return `consumo.alertas.${state.matricula}`;
}

function loggedAlerts() {
  try {
    return JSON.parse(sessionStorage.getItem(alertLogKey()) ?? '[]');
  } catch {
    return [];
  }
}

async function logAlert(body, factor) {
  const matricula = state.matricula;
  // The period that fired: between the two newest readings.
  const newest = await api(`/medicoes?matricula=${matricula}&limite=2`);
  if (matricula !== state.matricula) return;
  const [current, previous] = newest.status === 200 ? newest.body.medicoes : [];
  const entry = {
    disparado: new Date().toISOString(),
    inicio: previous?.data_hora,
    fim: current?.data_hora,
    consumo: body.consumo_ultimo_periodo,
    media: body.media_periodos_anteriores,
    fator: factor,
  };
  const log = loggedAlerts();
  // The same period is logged once, however often the page looks at it.
  if (log.some((e) => e.fim === entry.fim && e.fim !== undefined)) return renderAlertLog();
  log.unshift(entry);
  sessionStorage.setItem(alertLogKey(), JSON.stringify(log.slice(0, MAX_LOGGED_ALERTS)));
  renderAlertLog();
  announce(
    `Alerta de consumo na matrícula ${matricula}: o último período consumiu ${kwh.format(entry.consumo)} kWh` +
      (factor === undefined ? '.' : `, ${kwh.format(Math.round(factor * 10) / 10)} vezes a média dos três anteriores.`),
  );
}

function renderAlertLog() {
  const log = state.matricula === undefined ? [] : loggedAlerts();
  $('registro-alertas').replaceChildren(
    ...log.map((entry) => {
      const li = document.createElement('li');
      li.append(Object.assign(document.createElement('strong'), { textContent: 'ALERTA' }));
      const period = entry.inicio === undefined ? '' : ` · período ${diaHora.format(new Date(entry.inicio))} a ${diaHora.format(new Date(entry.fim))}`;
      const factor = entry.fator === undefined || entry.fator === null ? '' : ` · ${kwh.format(Math.round(entry.fator * 10) / 10)}× a média (${kwh.format(entry.media)} kWh)`;
      li.append(` disparado ${quando.format(new Date(entry.disparado))}${period} · ${kwh.format(entry.consumo)} kWh${factor}`);
      return li;
    }),
  );
  $('registro-vazio').hidden = log.length > 0;
}

// --- billing ---------------------------------------------------------------

const cycleLabel = (month) => {
  const [year, m] = month.split('-');
  return `${m}/${year}`;
};

/** Billing is not configured on this server: said once, and none of its routes asked. */
function showBillingOff() {
  const notice = $('fatura-aviso');
  notice.textContent = 'O faturamento ainda não está configurado neste servidor: os valores em R$ usam a tarifa fixa (TARIFA).';
  notice.hidden = false;
  $('fatura-conteudo').hidden = true;
}

async function loadBilling() {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const [preview, invoices] = await Promise.all([api(`/faturas/previa?matricula=${matricula}`), api(`/faturas?matricula=${matricula}&limite=12`)]);
  if (matricula !== state.matricula) return;
  const notice = $('fatura-aviso');
  if (preview.body?.erro?.codigo === 'faturamento_nao_configurado') {
    notice.textContent = 'O faturamento ainda não está configurado neste servidor.';
    notice.hidden = false;
    $('fatura-conteudo').hidden = true;
    return;
  }
  notice.hidden = true;
  $('fatura-conteudo').hidden = false;
  if (preview.status === 200) {
    const p = preview.body;
    $('previa-resumo').textContent =
      `De ${soDia.format(new Date(p.ciclo.inicio))} até a última medição: ${kwh.format(p.consumo_kwh)} kWh; ` +
      `total estimado ${reais.format(p.total)} (tributos ${reais.format(p.tributos.reduce((sum, t) => sum + t.valor, 0))}, CIP ${reais.format(p.cip)}).`;
    $('previa-itens').tBodies[0].replaceChildren(
      ...p.itens.map((item) => {
        const tr = document.createElement('tr');
        for (const text of [item.descricao, `${kwh.format(item.quantidade)} kWh`, reais.format(item.valor)]) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
        return tr;
      }),
    );
  } else {
    $('previa-resumo').textContent = plainError(preview);
    $('previa-itens').tBodies[0].replaceChildren();
  }
  const list = invoices.status === 200 ? invoices.body.faturas : [];
  $('faturas-vazio').hidden = list.length > 0;
  $('faturas-lista').tBodies[0].replaceChildren(
    ...list.map((f) => {
      const tr = document.createElement('tr');
      const pdf = Object.assign(document.createElement('button'), { type: 'button', textContent: 'baixar' });
      pdf.setAttribute('aria-label', `Baixar o PDF da fatura ${f.numero}`);
      pdf.addEventListener('click', () => void download(`/faturas/${f.numero}?formato=pdf`, `fatura-${f.numero}.pdf`));
      const cells = [f.numero, cycleLabel(f.ciclo), `${kwh.format(f.consumo_kwh)} kWh`, reais.format(f.total), soDia.format(new Date(`${f.vencimento}T12:00`)), f.estado];
      for (const text of cells) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
      const td = document.createElement('td');
      td.append(pdf);
      tr.append(td);
      return tr;
    }),
  );
}

/** The open cycle's forecast against the goal, and the recommendations. */
async function loadForecast() {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const [forecast, advice] = await Promise.all([api(`/previsao?matricula=${matricula}`), api(`/recomendacoes?matricula=${matricula}`)]);
  if (matricula !== state.matricula) return;
  if (forecast.status === 200) {
    const f = forecast.body;
    const bill = f.valor_previsto === null ? 'sem valor em R$ (faturamento não configurado)' : `fatura de ${reais.format(f.valor_previsto)} (fixo ${reais.format(f.valor_fixo)})`;
    $('previsao-resumo').textContent =
      `Até ${soDia.format(new Date(f.ciclo.fim))}: ${kwh.format(f.consumo_previsto_kwh)} kWh (entre ${kwh.format(f.faixa_kwh.min)} e ${kwh.format(f.faixa_kwh.max)}), ` +
      `${bill}, ${kwh.format(f.co2e_kg)} kg de CO2e.`;
    const goal = f.meta;
    $('previsao-meta').dataset.estado = goal === null || goal.acima_da_meta === null ? 'sem-meta' : goal.acima_da_meta ? 'acima' : 'dentro';
    $('previsao-meta').textContent =
      goal === null
        ? 'Sem meta definida.'
        : `Meta: ${goal.kwh_mes !== undefined ? `${kwh.format(goal.kwh_mes)} kWh` : reais.format(goal.valor_mes)}. ${goal.acima_da_meta === null ? 'Sem previsão em R$ para comparar (faturamento não configurado).' : goal.acima_da_meta ? 'A caminho de uma fatura acima da meta.' : 'Dentro da meta.'}`;
  } else {
    $('previsao-resumo').textContent = plainError(forecast);
    $('previsao-meta').textContent = '';
  }
  const list = advice.status === 200 ? advice.body.recomendacoes : [];
  $('recomendacoes-vazio').hidden = list.length > 0;
  $('recomendacoes').replaceChildren(
    ...list.map((r) => {
      const li = document.createElement('li');
      const saving = r.economia_mensal_reais > 0 ? ` Economia estimada: ${reais.format(r.economia_mensal_reais)} por mês${r.economia_mensal_kwh > 0 ? ` (${kwh.format(r.economia_mensal_kwh)} kWh)` : ''}.` : '';
      li.textContent = `${r.titulo}${saving}`;
      return li;
    }),
  );
}

async function setGoal(event) {
  event.preventDefault();
  const matricula = state.matricula;
  const text = $('meta-kwh').value.trim().replace(',', '.');
  if (matricula === undefined || !/^[0-9]{1,9}(\.[0-9]{1,3})?$/.test(text)) {
    showError('Informe a meta em kWh, como 250 ou 180,5.');
    return;
  }
  const answer = await api(`/clientes/${matricula}/meta`, { method: 'PUT', body: JSON.stringify({ kwh_mes: text }) });
  if (answer.status !== 200) {
    showError(plainError(answer));
    return;
  }
  announce(`Meta definida: ${kwh.format(Number(text))} kWh por mês.`);
  await loadForecast();
}

async function removeGoal() {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const answer = await api(`/clientes/${matricula}/meta`, { method: 'DELETE' });
  if (answer.status !== 200) showError(plainError(answer));
  else announce('Meta removida.');
  await loadForecast();
}

const ALERT_KIND_LABELS = {
  consumo_elevado: 'Consumo elevado (regra 1,5x)',
  meta_em_risco: 'Meta em risco',
  leitura_sinalizada: 'Medição sinalizada',
  falta_energia: 'Falta de energia',
  violacao_tampa: 'Violação da tampa',
  subtensao: 'Subtensão',
  sobretensao: 'Sobretensão',
  limite_excedido: 'Limite de demanda atingido',
};
const ALERT_STATE_LABELS = { ativo: 'ativo', reconhecido: 'reconhecido', encerrado: 'encerrado' };

async function loadAlerts() {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const answer = await api(`/alertas?matricula=${matricula}&limite=20`);
  if (matricula !== state.matricula) return;
  state.alerts = answer.status === 200 ? answer.body.alertas : [];
  renderAlerts();
}

function renderAlerts() {
  renderAlertTable('tabela-alertas', 'alertas-vazio', state.alerts ?? [], false);
}

/** Column names, shown beside each cell when a phone stacks a row (painel.css). */
const FLEET_COLUMNS = ['Matrícula', 'Cliente', 'Última leitura', 'Último contato', 'Alerta', 'Silencioso', 'Fornecimento'];
const ALERT_COLUMNS = ['Alerta', 'Estado', 'Desde', 'Detalhe'];

/** Alerts as table rows (with their matricula as a link when `withMatricula`), each active one with its Reconhecer button. */
function renderAlertTable(tableId, emptyId, list, withMatricula) {
  $(emptyId).hidden = list.length > 0;
  $(tableId).tBodies[0].replaceChildren(
    ...list.map((alert) => {
      const tr = document.createElement('tr');
      tr.dataset.estado = alert.estado;
      if (withMatricula) {
        const td = document.createElement('td');
        const link = Object.assign(document.createElement('a'), { href: `?matricula=${alert.matricula}#consumo`, textContent: alert.matricula });
        link.addEventListener('click', (event) => {
          event.preventDefault();
          openMeter(alert.matricula);
        });
        td.append(link);
        td.dataset.rotulo = 'Matrícula';
        tr.append(td);
      }
      const who = alert.reconhecido_por === null ? '' : ` (por ${alert.reconhecido_por})`;
      [ALERT_KIND_LABELS[alert.tipo] ?? alert.tipo, `${ALERT_STATE_LABELS[alert.estado]}${who}`, quando.format(new Date(alert.criado_em)), alert.detalhe].forEach((text, i) => {
        const td = Object.assign(document.createElement('td'), { textContent: text });
        td.dataset.rotulo = ALERT_COLUMNS[i];
        if (i === 3) td.className = 'detalhe-alerta';
        tr.append(td);
      });
      const td = document.createElement('td');
      // Acknowledging changes state: it needs a session (the meter's customer, or the operator).
      if (alert.estado === 'ativo' && state.session !== undefined) {
        const button = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Reconhecer', className: 'secundario' });
        button.setAttribute('aria-label', `Reconhecer o alerta ${ALERT_KIND_LABELS[alert.tipo] ?? alert.tipo}${withMatricula ? ` da matrícula ${alert.matricula}` : ''}`);
        button.addEventListener('click', () => void acknowledge(alert));
        td.append(button);
      }
      tr.append(td);
      return tr;
    }),
  );
}

/** Active alerts shown at a time above the fleet table: more go to the next page, so the table stays in sight. */
const FLEET_ALERTS_PAGE = 5;

/** The fleet's active alerts (operator), a page at a time. */
async function loadFleetAlerts() {
  const page = state.fleetAlertsPage ?? 1;
  const answer = await api(`/alertas?estado=ativo&limite=${FLEET_ALERTS_PAGE}&pagina=${page}`);
  state.fleetAlerts = answer.status === 200 ? answer.body.alertas : [];
  if (state.fleetAlerts.length === 0 && page > 1) {
    // The last alert of a page was acknowledged: show the page before.
    state.fleetAlertsPage = page - 1;
    await loadFleetAlerts();
    return;
  }
  renderAlertTable('tabela-alertas-frota', 'alertas-frota-vazio', state.fleetAlerts, true);
  const more = answer.status === 200 && answer.body.proxima !== null;
  $('alertas-frota-paginas').hidden = page === 1 && !more;
  $('alertas-frota-info').textContent = state.fleetAlerts.length === 0 ? '' : `alertas ${(page - 1) * FLEET_ALERTS_PAGE + 1} a ${(page - 1) * FLEET_ALERTS_PAGE + state.fleetAlerts.length}${more ? ', há mais' : ''}`;
  $('alertas-frota-anterior').disabled = page <= 1;
  $('alertas-frota-seguinte').disabled = !more;
}

async function downloadFleetReport(format) {
  const today = isoDate(new Date());
  await download(`/relatorios?${new URLSearchParams({ periodo: 'diario', inicio: today, fuso: FUSO, formato: format })}`, `relatorio-frota-${today}.${format}`);
}

async function acknowledge(alert) {
  const answer = await api(`/alertas/${alert.id}/reconhecimento`, { method: 'POST' });
  if (answer.status !== 200) {
    showError(plainError(answer));
    return;
  }
  announce(`Alerta reconhecido: ${ALERT_KIND_LABELS[alert.tipo] ?? alert.tipo}.`);
  state.alerts = (state.alerts ?? []).map((a) => (a.id === alert.id ? answer.body : a));
  renderAlerts();
  if (state.view === 'frota') await loadFleetAlerts();
}

async function downloadReport(kind, format) {
  const matricula = state.matricula;
  if (matricula === undefined) {
    showError('Escolha uma matrícula primeiro.');
    return;
  }
  const today = new Date();
  const start = new Date(today);
  if (kind === 'semanal') start.setDate(start.getDate() - 6);
  if (kind === 'mensal') start.setDate(1);
  const query = new URLSearchParams({ matricula, periodo: kind, inicio: isoDate(start), fuso: FUSO, formato: format });
  await download(`/relatorios?${query}`, `relatorio-${matricula}-${kind}-${isoDate(start)}.${format}`);
}

async function compareWhite() {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  $('simulacao').textContent = 'Calculando…';
  const answer = await api(`/simulacao-tarifa-branca?matricula=${matricula}&ciclos=12`);
  if (matricula !== state.matricula) return;
  if (answer.status !== 200) {
    $('simulacao').textContent = plainError(answer);
    return;
  }
  const b = answer.body;
  $('simulacao').textContent =
    b.ciclos_comparados === 0 ? b.recomendacao : `Convencional: ${reais.format(b.total_convencional)} · branca: ${reais.format(b.total_branca)} em ${b.ciclos_comparados} ciclos. ${b.recomendacao}`;
}

/** A file from the API (with the session's token), saved under `name`. */
async function download(path, name) {
  const response = await fetch(path, { headers: headers() });
  if (response.status !== 200) {
    showError(plainError({ status: response.status, body: await response.json().catch(() => ({})), headers: response.headers }));
    return;
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

async function exportCsv() {
  const data = state.data;
  if (data === undefined) return;
  const query = new URLSearchParams({ matricula: data.matricula, inicio: data.inicio, fim: data.fim, formato: 'csv' });
  await download(`/medicoes?${query}`, `medicoes-${data.matricula}-${data.inicio.slice(0, 10)}-a-${data.fim.slice(0, 10)}.csv`);
}

// --- live events ---------------------------------------------------------------

function setConnection(kind, text) {
  $('conexao').dataset.estado = kind;
  $('conexao').textContent = text;
  const stale = kind !== 'conectado' && state.data !== undefined;
  $('vista-consumo').dataset.desatualizado = stale ? 'sim' : 'nao';
  $('desatualizado').hidden = !stale;
}

function connect() {
  const params = new URLSearchParams();
  if (state.view === 'consumo' && state.matricula !== undefined) params.set('matricula', state.matricula);
  else if (!state.fleetAllowed) {
    state.events?.close();
    state.events = undefined;
    return setConnection('desconectado', 'sem acompanhamento ao vivo');
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
    setConnection('conectado', params.has('matricula') ? `ao vivo: ${state.matricula}` : 'ao vivo: frota');
  });
  source.addEventListener('error', () => {
    if (state.events !== source) return;
    if (source.readyState === EventSource.CLOSED) void explainClosed(url);
    else setConnection('reconectando', 'reconectando…');
  });
  source.addEventListener('medicao', (event) => {
    const reading = JSON.parse(event.data);
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
    state.fleet.summary = JSON.parse(event.data);
    renderFleetSummary();
  });
  source.addEventListener('comando', (event) => {
    const command = JSON.parse(event.data);
    if (command.matricula !== state.matricula || !state.fleetAllowed) return;
    const before = state.meter.commands.get(command.id);
    state.meter.commands.set(command.id, command);
    renderCommands();
    if (before?.estado !== command.estado && !OPEN_COMMANDS.has(command.estado)) announce(`${COMMAND_LABELS[command.tipo]}: ${command.estado}.`);
    if (command.estado === 'executado') scheduleMeterReload();
  });
  source.addEventListener('alerta', (event) => {
    const alert = JSON.parse(event.data);
    if (alert.matricula !== state.matricula) return;
    const known = (state.alerts ?? []).some((a) => a.id === alert.id);
    state.alerts = known ? state.alerts.map((a) => (a.id === alert.id ? alert : a)) : [alert, ...(state.alerts ?? [])];
    renderAlerts();
    // The 1.5x rule is announced by its own card; the others are news only here.
    if (!known && alert.tipo !== 'consumo_elevado') announce(`Novo alerta: ${ALERT_KIND_LABELS[alert.tipo] ?? alert.tipo}.`);
  });
  source.addEventListener('ocorrencia', (event) => {
    const reported = JSON.parse(event.data);
    if (reported.matricula !== state.matricula) return;
    const key = (e) => `${e.data_hora}|${e.tipo}`;
    if (!state.meter.events.some((e) => key(e) === key(reported))) state.meter.events = [reported, ...state.meter.events].sort((a, b) => Date.parse(b.data_hora) - Date.parse(a.data_hora));
    renderEvents();
    announce(`Ocorrência: ${EVENT_LABELS[reported.tipo]}.`);
    scheduleMeterReload();
  });
}

function renderLatestIfNewer(reading) {
  const shown = $('ultima-data').dataset.instante;
  if (shown !== undefined && Date.parse(shown) >= Date.parse(reading.data_hora)) return;
  if (Object.keys(QUANTITY_UNITS).some((name) => reading[name] !== undefined)) renderQuantities({ ...reading, qualidade: undefined });
  renderLatest(reading);
}

/** The stream closed for good (the server answered an error): say why, in words. */
async function explainClosed(url) {
  state.events = undefined;
  const response = await fetch(url).catch(() => undefined);
  let reason = 'o servidor não responde';
  if (response !== undefined) {
    const body = response.headers.get('content-type')?.includes('json') ? await response.json().catch(() => ({})) : {};
    reason = plainError({ status: response.status, body, headers: response.headers });
    response.body?.cancel().catch(() => {});
  }
  setConnection('desconectado', `desconectado: ${reason}`);
}

function scheduleReload() {
  if (state.reloadTimer !== undefined) return;
  state.reloadTimer = setTimeout(() => {
    state.reloadTimer = undefined;
    void reload();
  }, RELOAD_DELAY_MS);
}

// --- the meter: state, commands, events ------------------------------------------

async function loadMeter() {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const operator = state.fleetAllowed;
  const [info, commands] = await Promise.all([api(`/medidores/${matricula}`), operator ? api(`/medidores/${matricula}/comandos?limite=${SHOWN_COMMANDS}`) : undefined]);
  if (matricula !== state.matricula) return;
  if (info.status !== 200) {
    $('secao-medidor').hidden = true;
    return;
  }
  state.meter.info = info.body;
  state.meter.events = info.body.ocorrencias_recentes;
  state.meter.commands = new Map((commands?.status === 200 ? commands.body.comandos : []).map((c) => [c.id, c]));
  renderMeter();
}

/** A command's effect shows in the meter's state a moment later: read it again, once for a burst. */
function scheduleMeterReload() {
  if (state.meter.timer !== undefined) return;
  state.meter.timer = setTimeout(() => {
    state.meter.timer = undefined;
    void loadMeter();
  }, RELOAD_DELAY_MS);
}

function renderMeter() {
  const info = state.meter.info;
  $('secao-medidor').hidden = false;
  const supply = $('med-fornecimento');
  supply.textContent = info.fornecimento === 'cortado' ? 'Cortado' : 'Ligado';
  supply.dataset.estado = info.fornecimento;
  const power = $('med-energia');
  power.textContent = info.sem_energia ? 'Sem energia' : 'Com energia';
  power.dataset.estado = info.sem_energia ? 'sem_energia' : 'com_energia';
  $('med-limite').textContent = info.limite_demanda_kw === null ? 'sem limite' : `${kwh.format(Number(info.limite_demanda_kw))} kW`;
  $('med-contato').textContent = info.ultimo_contato === null ? 'nunca' : quando.format(new Date(info.ultimo_contato));
  $('med-endereco-linha').hidden = info.endereco === null;
  $('med-endereco').textContent = info.endereco ?? '';
  // Commands change state: only a signed-in operator sends them, whatever AUTENTICACAO_API says of reading.
  const operator = state.session?.papel === 'operador';
  $('comandos-operador').hidden = !operator;
  $('comandos-entrar').hidden = operator || !state.fleetAllowed;
  $('medidor-sem-chave').hidden = info.chave;
  for (const button of document.querySelectorAll('[data-comando]')) {
    const kind = button.dataset.comando;
    button.disabled = !info.chave && kind !== 'leitura' && kind !== 'sincronizar_relogio';
  }
  $('limite-kw').disabled = !info.chave;
  renderCommands();
  renderEvents();
}

function commandLabel(command) {
  if (command.tipo !== 'limite_demanda') return COMMAND_LABELS[command.tipo];
  return command.parametros.kw === null ? 'Remover limite de demanda' : `Limite de demanda: ${kwh.format(Number(command.parametros.kw))} kW`;
}

function renderCommands() {
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
  $('tabela-comandos').tBodies[0].replaceChildren(...rows);
  $('comandos-vazio').hidden = rows.length > 0;
}

function renderEvents() {
  const items = state.meter.events.slice(0, SHOWN_EVENTS).map((reported) => {
    const li = document.createElement('li');
    li.dataset.grave = SERIOUS_EVENTS.has(reported.tipo) ? 'sim' : 'nao';
    const time = Object.assign(document.createElement('time'), { dateTime: reported.data_hora, textContent: quando.format(new Date(reported.data_hora)) });
    li.append(time, EVENT_LABELS[reported.tipo] ?? reported.tipo, reported.detalhe === '' ? '' : ` — ${reported.detalhe}`);
    return li;
  });
  $('ocorrencias').replaceChildren(...items);
  $('ocorrencias-vazio').hidden = items.length > 0;
}

/** Asks the operator to confirm, in a dialog; resolves with the answer. */
function confirmCommand(text) {
  const dialog = $('confirmar');
  $('confirmar-texto').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirmar'), { once: true }));
}

async function sendCommand(kind) {
  const matricula = state.matricula;
  let body = { tipo: kind };
  let text = `${COMMAND_LABELS[kind]} no medidor ${matricula}?`;
  if (kind === 'corte') text = `Cortar o fornecimento do medidor ${matricula}? O registro para até uma religação.`;
  if (kind === 'religacao') text = `Religar o fornecimento do medidor ${matricula}?`;
  if (kind === 'remover_limite') {
    body = { tipo: 'limite_demanda', parametros: { kw: null } };
    text = `Remover o limite de demanda do medidor ${matricula}?`;
  } else if (kind === 'limite_demanda') {
    const typed = $('limite-kw').value.trim();
    if (!KW_TYPED.test(typed) || Number(typed.replace(',', '.')) <= 0) {
      showError('Informe o limite em kW, maior que zero, como 2,5.');
      $('limite-kw').focus();
      return;
    }
    const kw = typed.replace(',', '.');
    body = { tipo: 'limite_demanda', parametros: { kw } };
    text = `Limitar a demanda do medidor ${matricula} a ${kwh.format(Number(kw))} kW?`;
  }
  if (!(await confirmCommand(text))) return;
  // A key per confirmed request: a retry of the same request (a flaky network) is the same command.
  const answer = await api(`/medidores/${matricula}/comandos`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() }, body: JSON.stringify(body) });
  if (answer.status !== 202) {
    showError(plainError(answer));
    return;
  }
  showError(undefined);
  state.meter.commands.set(answer.body.id, answer.body);
  renderCommands();
  announce(`${commandLabel(answer.body)}: enviado ao medidor.`);
}

async function cancelCommand(command) {
  if (!(await confirmCommand(`Cancelar o comando “${commandLabel(command)}”?`))) return;
  const answer = await api(`/comandos/${command.id}`, { method: 'DELETE' });
  if (answer.status !== 200) {
    showError(plainError(answer));
    return;
  }
  state.meter.commands.set(answer.body.id, answer.body);
  renderCommands();
}

// --- operator view -------------------------------------------------------------

async function checkFleetAccess() {
  const answer = await fetch('/frota/medidores?limite=1', { headers: headers() }).catch(() => undefined);
  state.fleetAllowed = answer?.status === 200;
  $('aba-frota').hidden = !state.fleetAllowed;
}

const relative = (seconds) => (seconds < 60 ? `há ${seconds} s` : seconds < 3600 ? `há ${Math.floor(seconds / 60)} min` : seconds < 86_400 ? `há ${Math.floor(seconds / 3600)} h` : `há ${Math.floor(seconds / 86_400)} d`);

async function loadFleet() {
  const fleet = state.fleet;
  const query = new URLSearchParams({ pagina: String(fleet.page), limite: String(FLEET_PAGE), ordenar: fleet.sortBy, ordem: fleet.order });
  if (fleet.search !== '') query.set('busca', fleet.search);
  if (fleet.only !== '') query.set('somente', fleet.only);
  void loadFleetAlerts();
  const answer = await api(`/frota/medidores?${query}`);
  if (answer.status !== 200) {
    showError(plainError(answer));
    return;
  }
  showError(undefined);
  const body = answer.body;
  $('frota-total').textContent = kwh.format(body.total);
  $('frota-alertas').textContent = kwh.format(body.em_alerta);
  $('frota-silenciosos').textContent = kwh.format(body.silenciosos);
  $('frota-cortados').textContent = kwh.format(body.cortados);
  $('frota-sem-energia').textContent = kwh.format(body.sem_energia);
  $('frota-criterio').textContent = `Silencioso: nada recebido há mais de ${body.silencio_apos_s} s (um medidor que avisou falta de energia conta como sem energia, não silencioso).`;
  const rows = body.medidores.map((m) => {
    const tr = document.createElement('tr');
    const link = Object.assign(document.createElement('button'), { type: 'button', textContent: m.matricula });
    link.addEventListener('click', () => openMeter(m.matricula));
    const cells = [
      link,
      m.cliente ?? '—',
      `${kwh.format(m.ultima_leitura.consumo)} kWh · ${quando.format(new Date(m.ultima_leitura.data_hora))}`,
      relative(m.silencio_s),
      m.alerta === true ? 'ALERTA' : m.alerta === false ? 'normal' : '—',
      m.silencioso ? 'sim' : 'não',
      `${m.fornecimento}${m.sem_energia ? ' · sem energia' : ''}`,
    ];
    cells.forEach((cell, i) => {
      const td = document.createElement('td');
      td.dataset.rotulo = FLEET_COLUMNS[i];
      if (typeof cell === 'string') td.textContent = cell;
      else td.append(cell);
      if (i === 4 && m.alerta === true) td.className = 'em-alerta';
      if (i === 5 && m.silencioso) td.className = 'silencioso';
      if (i === 6 && (m.fornecimento === 'cortado' || m.sem_energia)) td.className = 'em-alerta';
      tr.append(td);
    });
    return tr;
  });
  $('tabela-frota').tBodies[0].replaceChildren(...rows);
  const pages = Math.max(1, Math.ceil(body.total / FLEET_PAGE));
  $('pagina-info').textContent = `página ${body.pagina} de ${pages} (${kwh.format(body.total)} ${body.total === 1 ? 'medidor' : 'medidores'})`;
  $('anterior').disabled = body.pagina <= 1;
  $('seguinte').disabled = body.proxima === null;
  for (const th of $('tabela-frota').tHead.rows[0].cells) {
    if (th.dataset.coluna === fleet.sortBy) th.setAttribute('aria-sort', fleet.order === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
}

function renderFleetSummary() {
  const summary = state.fleet.summary;
  if (summary !== undefined) $('frota-taxa').textContent = kwh.format(summary.leituras_por_segundo);
}

function openMeter(matricula) {
  $('matricula').value = matricula;
  state.matricula = undefined;
  location.hash = '#consumo';
  void watch(matricula);
}

// --- views -----------------------------------------------------------------------

function route() {
  const fleet = location.hash === '#frota' && state.fleetAllowed;
  state.view = fleet ? 'frota' : 'consumo';
  $('vista-frota').hidden = !fleet;
  $('vista-consumo').hidden = fleet;
  $('aba-frota').toggleAttribute('aria-current', fleet);
  if (fleet) $('aba-frota').setAttribute('aria-current', 'page');
  $('aba-consumo').toggleAttribute('aria-current', !fleet);
  if (!fleet) $('aba-consumo').setAttribute('aria-current', 'page');
  clearInterval(state.fleet.timer);
  if (fleet) {
    void loadFleet();
    state.fleet.timer = setInterval(() => void loadFleet(), FLEET_REFRESH_MS);
  }
  connect();
  if (!fleet) renderChart();
}

function bind() {
  $('meta-form').addEventListener('submit', (event) => void setGoal(event));
  $('meta-remover').addEventListener('click', () => void removeGoal());
  for (const button of document.querySelectorAll('[data-relatorio-frota]')) button.addEventListener('click', () => void downloadFleetReport(button.dataset.relatorioFrota));
  for (const button of document.querySelectorAll('[data-relatorio]')) {
    button.addEventListener('click', () => void downloadReport(button.dataset.relatorio, button.dataset.formato));
  }
  $('escolha').addEventListener('submit', (event) => {
    event.preventDefault();
    void watch($('matricula').value.trim());
  });
  for (const input of document.querySelectorAll('input[name="intervalo"]')) {
    input.addEventListener('change', () => {
      $('personalizado').hidden = input.value !== 'outro';
      if (input.value === 'outro') {
        if ($('inicio').value === '') {
          const today = new Date();
          $('fim').value = isoDate(today);
          today.setDate(today.getDate() - 2);
          $('inicio').value = isoDate(today);
        }
        return;
      }
      state.range = input.value;
      state.selected = undefined;
      if (state.matricula !== undefined) void watch(state.matricula);
    });
  }
  $('personalizado').addEventListener('submit', (event) => {
    event.preventDefault();
    const inicio = $('inicio').value;
    const fim = $('fim').value;
    if (inicio === '' || fim === '' || fim < inicio) return showError('Escolha um início e um fim, o fim no mesmo dia ou depois do início.');
    state.custom = { inicio, fim };
    state.range = 'outro';
    state.selected = undefined;
    if (state.matricula !== undefined) void watch(state.matricula);
  });
  const svg = $('grafico');
  svg.addEventListener('pointermove', (event) => {
    if (state.geometry === undefined) return;
    const box = svg.getBoundingClientRect();
    const index = state.geometry.periodAt(event.clientX - box.left);
    select(index === -1 ? undefined : index);
  });
  svg.addEventListener('pointerleave', () => select(undefined));
  $('exportar').addEventListener('click', () => void exportCsv());
  $('comparar').addEventListener('click', () => void compareWhite());
  $('abrir-entrar').addEventListener('click', () => {
    const box = $('entrar');
    box.hidden = !box.hidden;
    $('abrir-entrar').setAttribute('aria-expanded', String(!box.hidden));
    if (!box.hidden) $('usuario').focus();
  });
  $('entrar-form').addEventListener('submit', (event) => void signIn(event));
  $('operador-form').addEventListener('submit', (event) => void signInOperator(event));
  $('sair').addEventListener('click', async () => {
    // Signing out revokes the session's token on the server (a customer's, or a named operator's), not only here.
    const session = state.session;
    if (session !== undefined && !(session.papel === 'operador' && session.nome === undefined)) {
      await fetch('/sessao/encerrar', { method: 'POST', headers: { Authorization: `Bearer ${session.token}` } }).catch(() => undefined);
    }
    saveSession(undefined);
    state.matricula = undefined;
    location.reload();
  });
  for (const th of $('tabela-frota').tHead.querySelectorAll('th[data-coluna]')) {
    th.querySelector('button').addEventListener('click', () => {
      const fleet = state.fleet;
      fleet.order = fleet.sortBy === th.dataset.coluna && fleet.order === 'asc' ? 'desc' : 'asc';
      fleet.sortBy = th.dataset.coluna;
      fleet.page = 1;
      void loadFleet();
    });
  }
  let searchTimer;
  $('busca').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.fleet.search = $('busca').value.trim();
      state.fleet.page = 1;
      void loadFleet();
    }, 250);
  });
  $('frota-filtros').addEventListener('submit', (event) => event.preventDefault());
  $('somente').addEventListener('change', () => {
    state.fleet.only = $('somente').value;
    state.fleet.page = 1;
    void loadFleet();
  });
  $('anterior').addEventListener('click', () => {
    state.fleet.page = Math.max(1, state.fleet.page - 1);
    void loadFleet();
  });
  $('alertas-frota-anterior').addEventListener('click', () => {
    state.fleetAlertsPage = Math.max(1, (state.fleetAlertsPage ?? 1) - 1);
    void loadFleetAlerts();
  });
  $('alertas-frota-seguinte').addEventListener('click', () => {
    state.fleetAlertsPage = (state.fleetAlertsPage ?? 1) + 1;
    void loadFleetAlerts();
  });
  $('seguinte').addEventListener('click', () => {
    state.fleet.page++;
    void loadFleet();
  });
  for (const button of document.querySelectorAll('[data-comando]')) button.addEventListener('click', () => void sendCommand(button.dataset.comando));
  window.addEventListener('hashchange', route);
  new ResizeObserver(() => renderChart()).observe($('grafico-area'));
}

async function start() {
  bind();
  renderSession();
  renderAlertLog();
  await checkFleetAccess();
  const params = new URLSearchParams(location.search);
  const range = params.get('intervalo');
  if (range !== null && ['24h', '7d', '30d', '12m'].includes(range)) {
    state.range = range;
    $(`int-${range}`).checked = true;
  }
  const matricula = state.session?.papel === 'cliente' ? state.session.matricula : params.get('matricula');
  if (matricula !== null && matricula !== undefined) {
    $('matricula').value = matricula;
    await watch(matricula);
  }
  route();
}

void start();
