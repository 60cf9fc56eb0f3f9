/**
 * Auth and accounts: who may call the API (tokens, the operator's token
 * file, the operators' accounts and audit trail), sign-in
 * (/validacao-usuario, /sessao), and the customers' accounts
 * (/clientes, their goal and password).
 */
import type { Logger } from 'pino';
import { PasswordChecks } from '../../app/auth/login.js';
import type { AccessStore } from '../../database/access-store.js';
import type { AuditStore } from '../../database/audit-store.js';
import type { CredentialStore } from '../../database/credential-store.js';
import type { ProfileStore } from '../../database/profile-store.js';
import type { Store } from '../../database/store.js';
import type { Config } from '../config.js';
import { ACCESS_REFRESH_MS, loadApiAccess, type ApiAccess } from '../http/api-access.js';
import { clienteRoute, clientesRoute, metaRoute, senhaRoute } from '../routes/clientes.js';
import { operadoresRoutes } from '../routes/operadores.js';
import { sessaoRoute, validacaoUsuarioRoute } from '../routes/validacao-usuario.js';
import type { Capability } from './capability.js';

export interface AuthDeps {
  readonly stores: { readonly store: Store & CredentialStore; readonly profiles: ProfileStore; readonly accessStore: AccessStore; readonly audit: AuditStore };
  readonly config: Pick<Config, 'storage' | 'apiSecret' | 'apiAuthentication' | 'apiTokenLifetimeS' | 'apiAdminToken' | 'dataDir' | 'lookupsPerMinute'>;
  readonly logger: Logger;
}

export interface AuthCapability extends Capability {
  readonly access: ApiAccess;
  /** Password checks (scrypt off the event loop, lookups per minute limited). */
  readonly passwords: PasswordChecks;
  /** DATA_DIR's operator token file, when this start created it (main.ts tells the operator how to use it, once). */
  readonly createdOperatorTokenFile: string | undefined;
}

export async function authCapability({ stores, config, logger }: AuthDeps): Promise<AuthCapability> {
  const { store, profiles, accessStore, audit } = stores;
  const { access, createdOperatorTokenFile } = await loadApiAccess(config, accessStore);
  const passwords = new PasswordChecks(store, { lookupsPerMinute: config.lookupsPerMinute });
  let timer: NodeJS.Timeout | undefined;
  return {
    access,
    passwords,
    createdOperatorTokenFile,
    routes: [
      validacaoUsuarioRoute(store, access, passwords, config.apiAuthentication === 'obrigatoria'),
      sessaoRoute(access),
      clientesRoute(store, profiles, access, passwords),
      clienteRoute(store, profiles, access),
      metaRoute(store, profiles, access),
      senhaRoute(store, access, passwords),
      ...operadoresRoutes({ accounts: accessStore, audit, access, passwords }),
    ],
    start() {
      // Another server sharing the database may revoke tokens or disable an account: read them again now and then.
      if (config.storage === 'postgres') timer = setInterval(() => access.refresh().catch((error: unknown) => logger.warn({ err: error }, 'could not reload token generations')), ACCESS_REFRESH_MS).unref();
    },
    stop: () => clearInterval(timer),
    close: () => passwords.close(),
  };
}
