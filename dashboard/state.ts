/**
 * What the dashboard holds while it is open: the session, the view, the
 * meter watched and what was read for it, the fleet table's choices. The
 * shapes are the API's answers (resources/openapi.json), as far as the
 * dashboard reads them.
 */
import type { Geometry, Bar } from './chart.js';

export interface Session {
  readonly token: string;
  readonly papel: 'cliente' | 'operador';
  readonly username?: string;
  readonly matricula?: string;
  /** A named operator's account (absent for the configuration's token). */
  readonly nome?: string;
}

export interface ErrorBody {
  readonly erro?: { readonly codigo: string; readonly mensagem: string; readonly detalhes?: readonly { readonly campo: string; readonly problema: string }[] };
}

export type Grouping = 'hora' | 'dia' | 'mes';

export interface Consumption {
  readonly matricula: string;
  readonly inicio: string;
  readonly fim: string;
  readonly agrupar: Grouping;
  readonly consumo_total: number;
  readonly valor_total: number;
  readonly tarifa: number;
  readonly lacunas: number;
  readonly periodos: readonly { readonly inicio: string; readonly fim: string; readonly consumo: number | null; readonly valor: number | null; readonly leituras: number; readonly completo: boolean }[];
  readonly precificacao?: { readonly origem: 'faturamento' | 'tarifa_fixa'; readonly distribuidora?: string; readonly faturamento_configurado?: boolean };
}

/** The electrical quantities a meter may send with a reading. */
export const QUANTITY_UNITS = { tensao_v: 'V', corrente_a: 'A', potencia_kw: 'kW', fator_potencia: '', frequencia_hz: 'Hz' } as const;
export type Quantity = keyof typeof QUANTITY_UNITS;

export type Reading = { readonly matricula?: string; readonly data_hora: string; readonly consumo: number; readonly qualidade?: readonly string[] | undefined } & { readonly [name in Quantity]?: number };

export interface Alert {
  readonly id: string;
  readonly matricula: string;
  readonly tipo: string;
  readonly estado: 'ativo' | 'reconhecido' | 'encerrado';
  readonly criado_em: string;
  readonly detalhe: string;
  readonly reconhecido_por: string | null;
}

export interface Command {
  readonly id: string;
  readonly matricula: string;
  readonly tipo: 'leitura' | 'corte' | 'religacao' | 'limite_demanda' | 'sincronizar_relogio';
  readonly estado: string;
  readonly criado_em: string;
  readonly tentativas: number;
  readonly parametros: { readonly kw?: string | null };
  readonly resultado?: string | null;
  readonly motivo?: string | null;
}

export interface MeterEvent {
  readonly matricula: string;
  readonly tipo: string;
  readonly data_hora: string;
  readonly detalhe: string;
}

export interface MeterInfo {
  readonly fornecimento: 'ligado' | 'cortado';
  readonly sem_energia: boolean;
  readonly limite_demanda_kw: string | null;
  readonly ultimo_contato: string | null;
  readonly endereco: string | null;
  readonly chave: boolean;
  readonly ocorrencias_recentes: readonly MeterEvent[];
}

export interface FleetSummary {
  readonly leituras_por_segundo: number;
}

/** A period of the chart, with what its tooltip and table say. */
export interface PeriodShown extends Bar {
  readonly cost: number | null;
  readonly readings: number;
}

/** The range a choice of the customer view means now. */
export interface Range {
  readonly agrupar: Grouping;
  readonly inicio: string;
  readonly fim: string;
  readonly title: string;
}

export const state = {
  session: undefined as Session | undefined,
  /** Whether this session may read the fleet (the operator, or anyone with AUTENTICACAO_API=aberta). */
  fleetAllowed: false,
  view: 'consumo' as 'consumo' | 'frota',
  matricula: undefined as string | undefined,
  range: '24h' as string,
  custom: undefined as { inicio: string; fim: string } | undefined,
  data: undefined as (Consumption & { range: Range }) | undefined,
  periods: undefined as readonly PeriodShown[] | undefined,
  geometry: undefined as Geometry | undefined,
  selected: undefined as number | undefined,
  /** Whether the 1.5x rule fired at the last look (undefined: not looked yet). */
  alert: undefined as boolean | undefined,
  alerts: undefined as readonly Alert[] | undefined,
  fleetAlerts: [] as readonly Alert[],
  fleetAlertsPage: 1,
  events: undefined as EventSource | undefined,
  eventsKey: undefined as string | undefined,
  lastEventId: undefined as string | undefined,
  reloadTimer: undefined as ReturnType<typeof setTimeout> | undefined,
  billingFor: undefined as string | undefined,
  billingAt: 0,
  fleet: { page: 1, sortBy: 'matricula', order: 'asc' as 'asc' | 'desc', search: '', only: '', timer: undefined as ReturnType<typeof setInterval> | undefined, summary: undefined as FleetSummary | undefined },
  meter: { info: undefined as MeterInfo | undefined, commands: new Map<string, Command>(), events: [] as readonly MeterEvent[], timer: undefined as ReturnType<typeof setTimeout> | undefined },
};

/**
 * What a view does that belongs to navigation (navigation.ts sets these at
 * start): a view links to a meter or finishes a sign-in without importing
 * the module that imports it.
 */
export const navigate = {
  openMeter: (_matricula: string): void => {},
  afterSessionChange: async (_matricula: string | undefined): Promise<void> => {},
};
