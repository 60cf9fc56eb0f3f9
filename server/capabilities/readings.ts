/**
 * Readings: the meters' datagrams taken, judged, stored and acknowledged
 * (UDP ingest), and what is read from them: the original's four routes
 * (/medicoes/ultima-medicao, /gerar-fatura, /alerta-consumo and, with
 * auth, /validacao-usuario in auth.ts), /medicoes, /consumo and /qualidade.
 */
import type { Logger } from 'pino';
import { PriceEstimates } from '../../app/billing/price-estimates.js';
import type { EmissionFactors } from '../../app/emission-factors.js';
import type { BillingRulesStore } from '../../database/billing-rules-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { AppendResult, Store } from '../../database/store.js';
import type { TariffStore } from '../../database/tariff-store.js';
import type { Reading } from '../../protocol/meter-protocol.js';
import type { Config } from '../config.js';
import type { ApiAccess } from '../http/api-access.js';
import type { Route } from '../http/router.js';
import { alertaConsumoRoute } from '../routes/alerta-consumo.js';
import { consumoRoute } from '../routes/consumo.js';
import { gerarFaturaRoute } from '../routes/gerar-fatura.js';
import { medicoesRoute } from '../routes/medicoes.js';
import { qualidadeRoute } from '../routes/qualidade.js';
import { ultimaMedicaoRoute } from '../routes/ultima-medicao.js';
import { UdpIngest, type MeterAddress } from '../udp/ingest.js';
import type { MeterAuthenticator } from '../udp/meter-authentication.js';
import type { Capability } from './capability.js';

export interface ReadingRoutesDeps {
  readonly stores: { readonly store: Store; readonly tariffs: TariffStore; readonly billingRules: BillingRulesStore; readonly profiles: ProfileStore };
  readonly config: Pick<Config, 'tariff' | 'legacyTimeZone' | 'distributor'>;
  readonly access: ApiAccess;
  readonly factors: EmissionFactors;
}

/** The routes that read readings (the request-path benches serve them alone). */
export function readingRoutes({ stores, config, access, factors }: ReadingRoutesDeps): Route[] {
  const { store, tariffs, billingRules, profiles } = stores;
  const prices = new PriceEstimates({ tariffs, rules: billingRules, profiles }, config.distributor, config.legacyTimeZone);
  return [
    ultimaMedicaoRoute(store, access),
    gerarFaturaRoute(store, config.tariff, factors, config.legacyTimeZone, access),
    alertaConsumoRoute(store, access),
    medicoesRoute(store, config.legacyTimeZone, access),
    consumoRoute(store, config.legacyTimeZone, config.tariff, factors, access, prices),
    qualidadeRoute(store, config.legacyTimeZone, access),
  ];
}

export interface ReadingsDeps extends ReadingRoutesDeps {
  readonly config: ReadingRoutesDeps['config'] & Pick<Config, 'udpReceiveBuffer' | 'udpMaxPending' | 'readingMaxAgeDays'>;
  readonly authenticator: MeterAuthenticator;
  readonly logger: Logger;
  /** Told of every batch once durable and acknowledged; must not throw. */
  readonly onStored: (readings: readonly Reading[], result: AppendResult) => void;
  /** Takes a datagram of answers and events; returns how many of its lines were neither (counted as malformed). */
  readonly onControl: (message: Buffer, from: MeterAddress) => number;
}

export interface ReadingsCapability extends Capability {
  /** The UDP socket the meters send to (and commands and acknowledgements leave from). */
  readonly ingest: UdpIngest;
}

export function readingsCapability(deps: ReadingsDeps): ReadingsCapability {
  const { stores, config, authenticator, logger, onStored, onControl } = deps;
  const ingest: UdpIngest = new UdpIngest({
    store: stores.store,
    logger: logger.child({ component: 'udp' }),
    legacyTimeZone: config.legacyTimeZone,
    receiveBufferBytes: config.udpReceiveBuffer,
    maxPendingReadings: config.udpMaxPending,
    maxAgeDays: config.readingMaxAgeDays,
    authenticator,
    onStored,
    onControl: (message, from) => {
      ingest.counters.malformed += onControl(message, from);
    },
  });
  return {
    ingest,
    routes: readingRoutes(deps),
    metrics: [(out) => ingest.writeMetrics(out)],
    // Stored and acknowledged: the readings taken before it stopped listening.
    close: () => ingest.close(),
  };
}
