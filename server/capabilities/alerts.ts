/**
 * Alerts: raised from readings (flagged), events, silence and goals, kept
 * and acknowledged (/alertas), published live, and sent to the operator's
 * webhook when WEBHOOK_URL is set.
 */
import type { Logger } from 'pino';
import { AlertCenter, alertJson } from '../../app/alert-center.js';
import type { Forecasting } from '../../app/forecast/forecasting.js';
import type { AlertStore } from '../../database/alert-store.js';
import type { EventStore } from '../../database/event-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { Config } from '../config.js';
import { alertMetrics } from '../component-metrics.js';
import type { ApiAccess } from '../http/api-access.js';
import { alertasRoutes } from '../routes/alertas.js';
import { eventJson } from '../routes/ocorrencias.js';
import { WebhookSender } from '../webhook.js';
import type { Capability } from './capability.js';
import type { FleetCapability } from './fleet.js';

export interface AlertsDeps {
  readonly stores: { readonly alerts: AlertStore; readonly events: EventStore; readonly profiles: ProfileStore };
  readonly config: Pick<Config, 'webhookUrl' | 'webhookSecret' | 'goalCheckIntervalS'>;
  readonly access: ApiAccess;
  readonly logger: Logger;
  readonly fleet: FleetCapability;
  /** The open cycle's forecasts the goal checks compare with each goal. */
  readonly forecasting: Forecasting;
}

export interface AlertsCapability extends Capability {
  readonly center: AlertCenter;
  /** The webhook, when WEBHOOK_URL is set. */
  readonly webhook: WebhookSender | undefined;
  /** Runs a goal pass now (forecast every customer with a goal; alert or clear), as the ALERTAS_META_INTERVALO_S timer does. */
  checkGoals(): Promise<void>;
}

export function alertsCapability({ stores, config, access, logger, fleet, forecasting }: AlertsDeps): AlertsCapability {
  const alertLogger = logger.child({ component: 'alertas' });
  const webhook = config.webhookUrl === '' ? undefined : new WebhookSender({ url: config.webhookUrl, secret: config.webhookSecret, logger: alertLogger });
  const center = new AlertCenter({
    alerts: stores.alerts,
    events: stores.events,
    eventPayload: eventJson,
    fleet: fleet.tracker,
    logger: alertLogger,
    webhook,
    publish: (alert) => fleet.live.meterNews(alert.matricula, 'alerta', alertJson(alert)),
  });
  const checkGoals = (): Promise<void> => center.checkGoals(stores.profiles, forecasting);
  let goalTimer: NodeJS.Timeout | undefined;
  return {
    center,
    webhook,
    checkGoals,
    routes: alertasRoutes(stores.alerts, access),
    metrics: [alertMetrics(center), ...(webhook === undefined ? [] : [(out: Parameters<WebhookSender['writeMetrics']>[0]) => webhook.writeMetrics(out)])],
    async start() {
      await center.start();
      goalTimer = setInterval(() => {
        checkGoals().catch((error: unknown) => alertLogger.error({ err: error }, 'goal check failed'));
      }, config.goalCheckIntervalS * 1000).unref();
    },
    stop() {
      clearInterval(goalTimer);
      center.stop();
      webhook?.close();
    },
  };
}
