/**
 * Analytics: the open cycle's forecast and goals (/previsao), their record
 * and accuracy (the forecast job), and the savings recommendations.
 */
import type { Logger } from 'pino';
import type { BillingService } from '../../app/billing/billing.js';
import type { EmissionFactors } from '../../app/emission-factors.js';
import { ForecastJob } from '../../app/forecast/forecast-job.js';
import { Forecasting } from '../../app/forecast/forecasting.js';
import { Recommending } from '../../app/recommending.js';
import type { ForecastRecordStore } from '../../database/forecast-record-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { Store } from '../../database/store.js';
import type { Config } from '../config.js';
import type { ApiAccess } from '../http/api-access.js';
import type { MeterAnswers } from '../http/result-cache.js';
import type { Answer } from '../http/router.js';
import { previsaoRoutes } from '../routes/previsao.js';
import { recomendacoesRoute } from '../routes/recomendacoes.js';
import type { Capability } from './capability.js';

export interface AnalyticsDeps {
  readonly stores: { readonly store: Store; readonly profiles: ProfileStore; readonly forecasts: ForecastRecordStore };
  readonly billing: BillingService;
  readonly factors: EmissionFactors;
  readonly config: Pick<Config, 'legacyTimeZone' | 'forecastIntervalS'>;
  readonly access: ApiAccess;
  readonly logger: Logger;
  readonly answers: () => MeterAnswers<Answer>;
}

export interface AnalyticsCapability extends Capability {
  readonly forecasting: Forecasting;
  /** Records mid-cycle forecasts and settles closed cycles (PREVISOES_INTERVALO_S). */
  readonly forecastJob: ForecastJob;
}

export function analyticsCapability({ stores, billing, factors, config, access, logger, answers }: AnalyticsDeps): AnalyticsCapability {
  const { store, profiles, forecasts } = stores;
  const forecasting = new Forecasting(billing, factors, forecasts);
  const forecastJob = new ForecastJob({ store, profiles, records: forecasts, forecasting, timeZone: config.legacyTimeZone, intervalMs: config.forecastIntervalS * 1000, logger: logger.child({ component: 'previsoes' }) });
  return {
    forecasting,
    forecastJob,
    routes: [...previsaoRoutes(forecasting, access, answers()), recomendacoesRoute(new Recommending(billing, forecasting, store), access, answers())],
    start: () => forecastJob.start(),
    close: () => forecastJob.close(),
  };
}
