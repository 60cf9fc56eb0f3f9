// The dashboard: one meter's readings live over Server-Sent Events, its
// invoice and alert from the API's own routes, and the fleet summary.
// Plain browser JavaScript, no build step and nothing from outside this server.
'use strict';

const HISTORY_POINTS = 200;
const MAX_POINTS = 500;
const SVG = 'http://www.w3.org/2000/svg';
const numero = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 });
const dinheiro = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
const hora = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'medium' });

const estado = { matricula: undefined, token: '', leituras: [], eventos: undefined, alerta: false };
const $ = (id) => document.getElementById(id);

function cabecalhos() {
  return estado.token === '' ? {} : { Authorization: `Bearer ${estado.token}` };
}

async function api(caminho) {
  const resposta = await fetch(caminho, { headers: cabecalhos() });
  const corpo = await resposta.json();
  return { status: resposta.status, corpo };
}

function mostrarErro(texto) {
  const erro = $('erro');
  erro.textContent = texto ?? '';
  erro.hidden = texto === undefined;
}

// --- charts: a tiny SVG line and bar chart of our own --------------------

const MARGEM = { esquerda: 56, direita: 10, topo: 10, base: 28 };

function elemento(nome, atributos, texto) {
  const el = document.createElementNS(SVG, nome);
  for (const [chave, valor] of Object.entries(atributos)) el.setAttribute(chave, String(valor));
  if (texto !== undefined) el.textContent = texto;
  return el;
}

function escala(min, max, de, ate) {
  const largura = max - min || 1;
  return (v) => de + ((v - min) / largura) * (ate - de);
}

function eixos(svg, minY, maxY, x0, x1, y0, y1) {
  svg.append(elemento('line', { class: 'eixo', x1: x0, y1: y1, x2: x1, y2: y1 }));
  svg.append(elemento('line', { class: 'eixo', x1: x0, y1: y0, x2: x0, y2: y1 }));
  svg.append(elemento('text', { class: 'rotulo', x: x0 - 6, y: y0 + 10, 'text-anchor': 'end' }, numero.format(maxY)));
  svg.append(elemento('text', { class: 'rotulo', x: x0 - 6, y: y1, 'text-anchor': 'end' }, numero.format(minY)));
}

function limpar(svg, vazio) {
  svg.replaceChildren();
  if (vazio !== undefined) svg.append(elemento('text', { class: 'vazio', x: 300, y: 110, 'text-anchor': 'middle' }, vazio));
}

function desenharRegistro(leituras) {
  const svg = $('grafico-registro');
  if (leituras.length === 0) return limpar(svg, 'sem medições');
  limpar(svg);
  const [w, h] = [600, 220];
  const tempos = leituras.map((l) => l.t);
  const valores = leituras.map((l) => l.consumo);
  const [minY, maxY] = [Math.min(...valores), Math.max(...valores)];
  const x = escala(tempos[0], tempos[tempos.length - 1], MARGEM.esquerda, w - MARGEM.direita);
  const y = escala(minY, maxY, h - MARGEM.base, MARGEM.topo);
  eixos(svg, minY, maxY, MARGEM.esquerda, w - MARGEM.direita, MARGEM.topo, h - MARGEM.base);
  const pontos = leituras.map((l) => `${x(l.t).toFixed(1)},${y(l.consumo).toFixed(1)}`).join(' ');
  svg.append(elemento('polyline', { class: 'serie', points: pontos }));
  const ultima = leituras[leituras.length - 1];
  svg.append(elemento('circle', { class: 'ponto', cx: x(ultima.t), cy: y(ultima.consumo), r: 3.5 }));
  svg.append(elemento('text', { class: 'rotulo', x: MARGEM.esquerda, y: h - 8 }, hora.format(tempos[0])));
  svg.append(elemento('text', { class: 'rotulo', x: w - MARGEM.direita, y: h - 8, 'text-anchor': 'end' }, hora.format(tempos[tempos.length - 1])));
  svg.dataset.pontos = String(leituras.length);
}

function desenharConsumo(leituras, alerta) {
  const svg = $('grafico-consumo');
  const periodos = [];
  for (let i = 1; i < leituras.length; i++) periodos.push(leituras[i].consumo - leituras[i - 1].consumo);
  if (periodos.length === 0) return limpar(svg, 'são precisas duas medições');
  limpar(svg);
  const [w, h] = [600, 220];
  const maxY = Math.max(...periodos, 0);
  const y = escala(0, maxY, h - MARGEM.base, MARGEM.topo);
  eixos(svg, 0, maxY, MARGEM.esquerda, w - MARGEM.direita, MARGEM.topo, h - MARGEM.base);
  const passo = (w - MARGEM.esquerda - MARGEM.direita) / periodos.length;
  periodos.forEach((valor, i) => {
    const ultima = i === periodos.length - 1;
    svg.append(
      elemento('rect', {
        class: ultima && alerta ? 'barra alta' : 'barra',
        x: MARGEM.esquerda + i * passo + passo * 0.1,
        y: y(Math.max(valor, 0)),
        width: Math.max(passo * 0.8, 1),
        height: Math.max(h - MARGEM.base - y(Math.max(valor, 0)), 0),
      }),
    );
  });
  svg.dataset.barras = String(periodos.length);
}

function redesenhar() {
  desenharRegistro(estado.leituras);
  desenharConsumo(estado.leituras, estado.alerta);
}

// --- the meter's cards -----------------------------------------------------

function mostrarUltima() {
  const ultima = estado.leituras[estado.leituras.length - 1];
  $('ultima-consumo').textContent = ultima === undefined ? '—' : `${numero.format(ultima.consumo)} kWh`;
  $('ultima-data').textContent = ultima === undefined ? 'nenhuma medição ainda' : hora.format(ultima.t);
}

async function atualizarFaturaEAlerta() {
  const matricula = estado.matricula;
  const [fatura, alerta] = await Promise.all([
    api(`/gerar-fatura?matricula=${matricula}`),
    api(`/alerta-consumo?matricula=${matricula}`),
  ]);
  if (matricula !== estado.matricula) return;
  if (fatura.status === 200) {
    $('fatura-valor').textContent = dinheiro.format(fatura.corpo.valor_pagamento);
    $('fatura-detalhe').textContent = `${numero.format(fatura.corpo.consumo)} kWh de ${hora.format(new Date(fatura.corpo.periodo.inicio))} a ${hora.format(new Date(fatura.corpo.periodo.fim))}`;
  } else {
    $('fatura-valor').textContent = '—';
    $('fatura-detalhe').textContent = fatura.corpo.erro?.mensagem ?? '';
  }
  const cartao = $('alerta');
  if (alerta.status === 200) {
    estado.alerta = alerta.corpo.alerta === true;
    cartao.dataset.alerta = estado.alerta ? 'sim' : 'nao';
    $('alerta-estado').textContent = estado.alerta ? 'ALERTA' : 'normal';
    $('alerta-detalhe').textContent = `último período ${numero.format(alerta.corpo.consumo_ultimo_periodo)} kWh; limite ${numero.format(alerta.corpo.limite)} kWh (1,5 × média de ${numero.format(alerta.corpo.media_periodos_anteriores)})`;
  } else {
    estado.alerta = false;
    cartao.dataset.alerta = 'desconhecido';
    $('alerta-estado').textContent = '—';
    $('alerta-detalhe').textContent = alerta.corpo.erro?.mensagem ?? '';
  }
  redesenhar();
}

function novaLeitura(leitura) {
  const ultima = estado.leituras[estado.leituras.length - 1];
  if (ultima !== undefined && leitura.t <= ultima.t) return;
  estado.leituras.push(leitura);
  if (estado.leituras.length > MAX_POINTS) estado.leituras.shift();
  mostrarUltima();
  redesenhar();
}

// --- fleet -------------------------------------------------------------------

function mostrarFrota(frota) {
  $('frota-vistos').textContent = numero.format(frota.medidores_vistos);
  $('frota-taxa').textContent = numero.format(frota.leituras_por_segundo);
  $('frota-silenciosos').textContent = numero.format(frota.medidores_silenciosos);
  $('frota-criterio').textContent = `silencioso: nada recebido há mais de ${frota.silencio_apos_s} s (desde que o servidor iniciou)`;
  $('frota-lista').replaceChildren(...frota.silenciosos.map((m) => Object.assign(document.createElement('li'), { textContent: `${m.matricula} · ${m.silencio_s} s` })));
}

// --- live events -------------------------------------------------------------

function conectar() {
  estado.eventos?.close();
  const parametros = new URLSearchParams();
  if (estado.matricula !== undefined) parametros.set('matricula', estado.matricula);
  if (estado.token !== '') parametros.set('access_token', estado.token);
  const fonte = new EventSource(`/eventos?${parametros}`);
  estado.eventos = fonte;
  const conexao = $('conexao');
  fonte.addEventListener('open', () => {
    conexao.dataset.estado = 'conectado';
    conexao.textContent = estado.matricula === undefined ? 'ao vivo: frota' : `ao vivo: ${estado.matricula}`;
  });
  fonte.addEventListener('error', () => {
    conexao.dataset.estado = 'desconectado';
    conexao.textContent = 'reconectando…';
  });
  fonte.addEventListener('medicao', (evento) => {
    const dados = JSON.parse(evento.data);
    if (dados.matricula !== estado.matricula) return;
    novaLeitura({ t: new Date(dados.data_hora), consumo: dados.consumo });
    void atualizarFaturaEAlerta();
  });
  fonte.addEventListener('frota', (evento) => mostrarFrota(JSON.parse(evento.data)));
}

async function acompanhar(matricula) {
  estado.matricula = matricula;
  estado.leituras = [];
  mostrarErro(undefined);
  const historico = await api(`/medicoes?matricula=${matricula}&limite=${HISTORY_POINTS}`);
  if (historico.status !== 200) {
    mostrarErro(historico.corpo.erro?.mensagem ?? `erro ${historico.status}`);
    return;
  }
  estado.leituras = historico.corpo.medicoes.map((m) => ({ t: new Date(m.data_hora), consumo: m.consumo })).reverse();
  mostrarUltima();
  redesenhar();
  conectar();
  await atualizarFaturaEAlerta();
}

document.addEventListener('DOMContentLoaded', () => {
  $('escolha').addEventListener('submit', (evento) => {
    evento.preventDefault();
    estado.token = $('token').value.trim();
    const matricula = $('matricula').value.trim();
    history.replaceState(null, '', `?matricula=${encodeURIComponent(matricula)}`);
    void acompanhar(matricula);
  });
  redesenhar();
  const inicial = new URLSearchParams(location.search).get('matricula');
  if (inicial !== null) {
    $('matricula').value = inicial;
    void acompanhar(inicial);
  } else {
    conectar();
  }
});
