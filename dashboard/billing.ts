/**
 * The customer's bills and what comes next: the open cycle's preview and
 * the issued invoices (/faturas, PDFs), the forecast against the goal and
 * the recommendations (/previsao, /recomendacoes), setting the goal, the
 * Tarifa Branca comparison and the meter's reports.
 */
import { api, download, plainError } from './api.js';
import { announce, byId, cell, FUSO, input, isoDate, kwh, reais, setRows, showError, soDia } from './dom.js';
import { state } from './state.js';

interface Preview {
  readonly ciclo: { readonly inicio: string };
  readonly consumo_kwh: number;
  readonly total: number;
  readonly cip: number;
  readonly tributos: readonly { readonly valor: number }[];
  /** `valor` with taxes (what the total adds up), `valor_sem_tributos` without. */
  readonly itens: readonly { readonly descricao: string; readonly quantidade: number; readonly valor_sem_tributos: number; readonly valor: number }[];
}

interface InvoiceSummary {
  readonly numero: string;
  readonly ciclo: string;
  readonly consumo_kwh: number;
  readonly total: number;
  readonly vencimento: string;
  readonly estado: string;
}

interface Forecast {
  readonly ciclo: { readonly fim: string };
  readonly consumo_previsto_kwh: number;
  readonly faixa_kwh: { readonly min: number; readonly max: number };
  readonly valor_previsto: number | null;
  readonly valor_fixo: number;
  readonly co2e_kg: number;
  readonly meta: { readonly kwh_mes?: number; readonly valor_mes?: number; readonly acima_da_meta: boolean | null } | null;
}

interface Recommendation {
  readonly titulo: string;
  readonly economia_mensal_reais: number;
  readonly economia_mensal_kwh: number;
}

interface WhiteTariff {
  readonly ciclos_comparados: number;
  readonly total_convencional: number;
  readonly total_branca: number;
  readonly recomendacao: string;
}

/** A cycle's month as people write it (MM/AAAA). */
const cycleLabel = (month: string): string => month.split('-').reverse().join('/');

/** Billing is not configured on this server: said once, and none of its routes asked. */
export function showBillingOff(): void {
  const notice = byId('fatura-aviso');
  notice.textContent = 'O faturamento ainda não está configurado neste servidor: os valores em R$ usam a tarifa fixa (TARIFA).';
  notice.hidden = false;
  byId('fatura-conteudo').hidden = true;
}

export async function loadBilling(): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const [preview, invoices] = await Promise.all([api<Preview>(`/faturas/previa?matricula=${matricula}`), api<{ faturas: InvoiceSummary[] }>(`/faturas?matricula=${matricula}&limite=12`)]);
  if (matricula !== state.matricula) return;
  const notice = byId('fatura-aviso');
  if (preview.body.erro?.codigo === 'faturamento_nao_configurado') {
    notice.textContent = 'O faturamento ainda não está configurado neste servidor.';
    notice.hidden = false;
    byId('fatura-conteudo').hidden = true;
    return;
  }
  notice.hidden = true;
  byId('fatura-conteudo').hidden = false;
  if (preview.status === 200) {
    const p = preview.body;
    byId('previa-resumo').textContent =
      `De ${soDia.format(new Date(p.ciclo.inicio))} até a última medição: ${kwh.format(p.consumo_kwh)} kWh; ` +
      `total estimado ${reais.format(p.total)} (tributos incluídos nos itens: ${reais.format(p.tributos.reduce((sum, t) => sum + t.valor, 0))}; CIP ${reais.format(p.cip)}).`;
    setRows(
      'previa-itens',
      p.itens.map((item) => {
        const tr = document.createElement('tr');
        tr.append(cell(item.descricao), cell(`${kwh.format(item.quantidade)} kWh`), cell(reais.format(item.valor_sem_tributos)), cell(reais.format(item.valor)));
        return tr;
      }),
    );
  } else {
    byId('previa-resumo').textContent = plainError(preview);
    setRows('previa-itens', []);
  }
  const list = invoices.status === 200 ? invoices.body.faturas : [];
  byId('faturas-vazio').hidden = list.length > 0;
  setRows(
    'faturas-lista',
    list.map((f) => {
      const tr = document.createElement('tr');
      const pdf = Object.assign(document.createElement('button'), { type: 'button', textContent: 'baixar' });
      pdf.setAttribute('aria-label', `Baixar o PDF da fatura ${f.numero}`);
      pdf.addEventListener('click', () => void download(`/faturas/${f.numero}?formato=pdf`, `fatura-${f.numero}.pdf`));
      tr.append(cell(f.numero), cell(cycleLabel(f.ciclo)), cell(`${kwh.format(f.consumo_kwh)} kWh`), cell(reais.format(f.total)), cell(soDia.format(new Date(`${f.vencimento}T12:00`))), cell(f.estado));
      const td = document.createElement('td');
      td.append(pdf);
      tr.append(td);
      return tr;
    }),
  );
}

/** The open cycle's forecast against the goal, and the recommendations. */
export async function loadForecast(): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const [forecast, advice] = await Promise.all([api<Forecast>(`/previsao?matricula=${matricula}`), api<{ recomendacoes: Recommendation[] }>(`/recomendacoes?matricula=${matricula}`)]);
  if (matricula !== state.matricula) return;
  const goalLine = byId('previsao-meta');
  if (forecast.status === 200) {
    const f = forecast.body;
    const bill = f.valor_previsto === null ? 'sem valor em R$ (faturamento não configurado)' : `fatura de ${reais.format(f.valor_previsto)} (fixo ${reais.format(f.valor_fixo)})`;
    byId('previsao-resumo').textContent =
      `Até ${soDia.format(new Date(f.ciclo.fim))}: ${kwh.format(f.consumo_previsto_kwh)} kWh (entre ${kwh.format(f.faixa_kwh.min)} e ${kwh.format(f.faixa_kwh.max)}), ` +
      `${bill}, ${kwh.format(f.co2e_kg)} kg de CO2e.`;
    const goal = f.meta;
    goalLine.dataset.estado = goal === null || goal.acima_da_meta === null ? 'sem-meta' : goal.acima_da_meta ? 'acima' : 'dentro';
    if (goal === null) goalLine.textContent = 'Sem meta definida.';
    else {
      const target = goal.kwh_mes !== undefined ? `${kwh.format(goal.kwh_mes)} kWh` : reais.format(goal.valor_mes ?? 0);
      const verdict = goal.acima_da_meta === null ? 'Sem previsão em R$ para comparar (faturamento não configurado).' : goal.acima_da_meta ? 'A caminho de uma fatura acima da meta.' : 'Dentro da meta.';
      goalLine.textContent = `Meta: ${target}. ${verdict}`;
    }
  } else {
    byId('previsao-resumo').textContent = plainError(forecast);
    goalLine.textContent = '';
  }
  const list = advice.status === 200 ? advice.body.recomendacoes : [];
  byId('recomendacoes-vazio').hidden = list.length > 0;
  byId('recomendacoes').replaceChildren(
    ...list.map((r) => {
      const li = document.createElement('li');
      const saving = r.economia_mensal_reais > 0 ? ` Economia estimada: ${reais.format(r.economia_mensal_reais)} por mês${r.economia_mensal_kwh > 0 ? ` (${kwh.format(r.economia_mensal_kwh)} kWh)` : ''}.` : '';
      li.textContent = `${r.titulo}${saving}`;
      return li;
    }),
  );
}

export async function setGoal(event: Event): Promise<void> {
  event.preventDefault();
  const matricula = state.matricula;
  const text = input('meta-kwh').value.trim().replace(',', '.');
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

export async function removeGoal(): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const answer = await api(`/clientes/${matricula}/meta`, { method: 'DELETE' });
  if (answer.status !== 200) showError(plainError(answer));
  else announce('Meta removida.');
  await loadForecast();
}

/** The meter's report of today, this week or this month, as `format` (pdf or csv). */
export async function downloadReport(kind: string, format: string): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) {
    showError('Escolha uma matrícula primeiro.');
    return;
  }
  const start = new Date();
  if (kind === 'semanal') start.setDate(start.getDate() - 6);
  if (kind === 'mensal') start.setDate(1);
  const query = new URLSearchParams({ matricula, periodo: kind, inicio: isoDate(start), fuso: FUSO, formato: format });
  await download(`/relatorios?${query}`, `relatorio-${matricula}-${kind}-${isoDate(start)}.${format}`);
}

export async function compareWhite(): Promise<void> {
  const matricula = state.matricula;
  if (matricula === undefined) return;
  const shown = byId('simulacao');
  shown.textContent = 'Calculando…';
  const answer = await api<WhiteTariff>(`/simulacao-tarifa-branca?matricula=${matricula}&ciclos=12`);
  if (matricula !== state.matricula) return;
  if (answer.status !== 200) {
    shown.textContent = plainError(answer);
    return;
  }
  const b = answer.body;
  shown.textContent =
    b.ciclos_comparados === 0 ? b.recomendacao : `Convencional: ${reais.format(b.total_convencional)} · branca: ${reais.format(b.total_branca)} em ${b.ciclos_comparados} ciclos. ${b.recomendacao}`;
}
