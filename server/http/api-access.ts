/**
 * Who may do what through the API (README "Trust model"): tokens issued by
 * /validacao-usuario and the operator's token (RFC 6750 Bearer tokens: 401
 * without a valid one, 403 for the wrong role or a matricula the token does
 * not belong to).
 *
 * - Reading: with AUTENTICACAO_API=aberta anyone reads (as the original);
 *   with `obrigatoria` a customer reads its own meter, the operator all.
 * - Changing state, in every mode: the operator changes anything; a
 *   customer, with its own token, only its own data (goal, password,
 *   acknowledging its meter's alerts); nobody without a credential.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signToken, verifyToken } from '../../protocol/api-token.js';
import type { Request } from '../../protocol/http/request-parser.js';
import type { Customer } from '../../database/store.js';
import type { AccessStore, OperatorAccount } from '../../database/access-store.js';
import { ConfigError, OPERATOR_TOKEN_PATTERN, SECRET_HEX_PATTERN, type Config } from '../config.js';
import { HttpError } from './http-error.js';

/** Where the API key is kept when API_SEGREDO is not set. */
export const API_SECRET_FILE = 'segredo-api';
const SECRET_BYTES = 32;
const REALM = 'consumo-inteligente';

export interface IssuedToken {
  readonly token: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/** Who a request acts for, once authenticated: the operator (a named account, or the bootstrap token's, without a name) or a customer. */
export type Principal = { readonly papel: 'operador'; readonly nome?: string | undefined } | { readonly papel: 'cliente'; readonly matricula: string };

/** How the audit log and `pedido_por` name a principal: `operador` (the bootstrap token), `operador:<nome>`, `cliente:<matricula>`. */
export function actorOf(principal: Principal): string {
  if (principal.papel === 'cliente') return `cliente:${principal.matricula}`;
  return principal.nome === undefined ? 'operador' : `operador:${principal.nome}`;
}

/** How often a server reloads the token generations and operator accounts others may have changed (servers sharing a database). */
export const ACCESS_REFRESH_MS = 5000;

export class ApiAccess {
  readonly required: boolean;
  private readonly key: Buffer;
  private readonly lifetimeS: number;
  private readonly nowSeconds: () => number;
  private readonly adminToken: Buffer;
  private readonly store: AccessStore | undefined;
  /** Token generations above 0, and operator accounts, as the store last said (refresh()). */
  private generationOf: ReadonlyMap<string, number> = new Map();
  private accounts = new Map<string, OperatorAccount>();

  constructor(options: { key: Buffer; required: boolean; lifetimeS: number; adminToken: string; nowSeconds?: () => number; store?: AccessStore | undefined }) {
    if (options.adminToken.length < MIN_OPERATOR_TOKEN_CHARS) throw new Error('the operator token is too short');
    this.key = options.key;
    this.required = options.required;
    this.lifetimeS = options.lifetimeS;
    this.adminToken = Buffer.from(options.adminToken, 'latin1');
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.store = options.store;
  }

  /** Reads the token generations and operator accounts (at start, and every ACCESS_REFRESH_MS for changes made by other servers). */
  async refresh(): Promise<void> {
    if (this.store === undefined) return;
    const [generations, accounts] = await Promise.all([this.store.generations(), this.store.operators()]);
    this.generationOf = generations;
    this.accounts = new Map(accounts.map((account) => [account.nome, account]));
  }

  /** A customer's token: role `cliente`, for its own matricula only. */
  async issue(customer: Customer): Promise<IssuedToken> {
    const iat = this.nowSeconds();
    const exp = iat + this.lifetimeS;
    const ger = this.generationOf.get(`cliente:${customer.matricula}`) ?? 0;
    return { token: await signToken({ sub: customer.matricula, papel: 'cliente', username: customer.username, iat, exp, ger }, this.key), expiresAt: exp };
  }

  /** A named operator's token: role `operador`, naming the account. */
  async issueOperator(nome: string): Promise<IssuedToken> {
    const iat = this.nowSeconds();
    const exp = iat + this.lifetimeS;
    const ger = this.generationOf.get(`operador:${nome}`) ?? 0;
    return { token: await signToken({ sub: nome, papel: 'operador', iat, exp, ger }, this.key), expiresAt: exp };
  }

  /**
   * Makes every token of the principal issued so far invalid (a password
   * change, a disabled account, a sign-out): its generation goes up, durably,
   * before this resolves; other servers see it within ACCESS_REFRESH_MS.
   */
  async revoke(principal: Principal): Promise<void> {
    if (this.store === undefined) return;
    const key = actorOf(principal);
    const generation = await this.store.bumpGeneration(key);
    this.generationOf = new Map([...this.generationOf, [key, generation]]);
  }

  /** Tells the access rules an account changed (created, disabled, its password set), on this server at once. */
  accountChanged(account: OperatorAccount): void {
    this.accounts.set(account.nome, account);
  }

  /**
   * Who a read acts for: the operator (API_TOKEN_ADMIN, or a token of role
   * `operador`) or a customer (a token of role `cliente`). With the API
   * open, a read acts for anyone (undefined) unless it sends the operator's
   * token; with tokens required, one without a valid token gets 401.
   * `queryToken`: an `access_token` query parameter (RFC 6750 §2.3), for clients that cannot send headers (EventSource).
   */
  async authenticate(request: Request, queryToken?: string): Promise<Principal | undefined> {
    const token = bearerToken(request) ?? queryToken;
    if (token === undefined) {
      if (!this.required) return undefined;
      throw unauthenticated('Envie o token de /validacao-usuario no cabeçalho Authorization: Bearer <token>.');
    }
    if (this.isAdminToken(token)) return { papel: 'operador' };
    if (!this.required) return undefined;
    return this.verified(token);
  }

  /**
   * Who a change of state acts for, in every mode: a valid credential or
   * 401. The operator may change anything; a customer only what belongs to
   * `matricula` (its own data), else 403; without `matricula` (a change
   * beyond any one customer's data) only the operator.
   */
  async authenticateChange(request: Request, matricula?: string): Promise<Principal> {
    const token = bearerToken(request);
    if (token === undefined) throw unauthenticated('Esta operação muda dados: envie o token de operador (ou, para os próprios dados, o do cliente) em Authorization: Bearer <token>.');
    const principal = this.isAdminToken(token) ? OPERATOR : await this.verified(token);
    if (principal.papel === 'operador') return principal;
    if (matricula === undefined) throw new HttpError('acesso_negado', 'Esta operação é só do operador.');
    this.authorize(principal, matricula);
    return principal;
  }

  /**
   * Operator reads (the customer registry, the whole fleet): open when
   * tokens are not required; otherwise 401 without credentials and 403 for
   * a customer's token (valid, but the wrong role).
   */
  async authenticateOperator(request: Request, queryToken?: string): Promise<void> {
    if (!this.required) return;
    const principal = await this.authenticate(request, queryToken);
    if (principal?.papel !== 'operador') throw new HttpError('acesso_negado', 'Esta rota é só para o operador.');
  }

  /** The principal a valid credential names, in every mode; 401 without one (what `GET /sessao` answers). */
  async whoIs(request: Request, queryToken?: string): Promise<Principal> {
    const token = bearerToken(request) ?? queryToken;
    if (token === undefined) throw unauthenticated('Envie um token em Authorization: Bearer <token>.');
    return this.isAdminToken(token) ? OPERATOR : this.verified(token);
  }

  /**
   * Whom a request's expensive work is counted for, never throwing: the
   * principal a valid token names (`operador`, `cliente:<matricula>`), else
   * the source address (`endereco:<address>`). Fair shares (FairGate) are per
   * this key: one customer is one share, whatever its addresses.
   */
  async principalKey(request: Request, address: string): Promise<string> {
    const token = bearerToken(request);
    if (token !== undefined) {
      if (this.isAdminToken(token)) return 'operador';
      const result = await verifyToken(token, this.key, this.nowSeconds());
      if (!('problem' in result)) return result.claims.papel === 'operador' ? `operador:${result.claims.sub}` : `cliente:${result.claims.sub}`;
    }
    return `endereco:${address}`;
  }

  /** 403 unless the principal (from `authenticate`) may read `matricula`: the operator reads any, a customer its own. */
  authorize(principal: Principal | undefined, matricula: string): void {
    if (principal?.papel === 'cliente' && principal.matricula !== matricula) {
      throw new HttpError('acesso_negado', `Este token não dá acesso à matrícula ${matricula}.`);
    }
  }

  private async verified(token: string): Promise<Principal> {
    const result = await verifyToken(token, this.key, this.nowSeconds());
    if ('problem' in result) {
      const message = result.problem === 'EXPIRED' ? 'O token expirou; obtenha outro em /validacao-usuario.' : result.problem === 'NOT_YET_VALID' ? 'O token ainda não é válido.' : 'Token inválido.';
      throw new HttpError('token_invalido', message, {
        headers: [['WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="${result.problem === 'EXPIRED' ? 'expired' : 'invalid'}"`]],
      });
    }
    const { claims } = result;
    const principal: Principal = claims.papel === 'operador' ? { papel: 'operador', nome: claims.sub } : { papel: 'cliente', matricula: claims.sub };
    // A named operator's account must still be active; and no token of an older generation than its principal's counts.
    const disabled = principal.papel === 'operador' && this.accounts.get(principal.nome as string)?.active !== true;
    if (disabled || (claims.ger ?? 0) !== (this.generationOf.get(actorOf(principal)) ?? 0)) {
      throw new HttpError('token_invalido', disabled ? 'A conta de operador deste token não está ativa.' : 'O token foi revogado (senha trocada ou saída da sessão); obtenha outro.', {
        headers: [['WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="revoked"`]],
      });
    }
    return principal;
  }

  private isAdminToken(token: string): boolean {
    const given = Buffer.from(token, 'latin1');
    return given.length === this.adminToken.length && timingSafeEqual(given, this.adminToken);
  }
}

const OPERATOR: Principal = Object.freeze({ papel: 'operador' });

/** 401 for a request without the credential it needs (RFC 6750 §3: with a Bearer challenge). */
function unauthenticated(message: string): HttpError {
  return new HttpError('nao_autenticado', message, { headers: [['WWW-Authenticate', `Bearer realm="${REALM}"`]] });
}

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1: scheme in any case, one or more spaces). */
function bearerToken(request: Request): string | undefined {
  const authorization = request.head.headers.get('authorization');
  return authorization === undefined ? undefined : /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization)?.[1];
}

/** Where the operator's token is kept when API_TOKEN_ADMIN is not set. */
export const OPERATOR_TOKEN_FILE = 'token-operador';
/** The operator token's shortest accepted length (API_TOKEN_ADMIN's rule). */
const MIN_OPERATOR_TOKEN_CHARS = 32;
const OPERATOR_TOKEN_BYTES = 32;

/** The API's access rules, and where the operator's token was made when this start made it. */
export interface LoadedApiAccess {
  readonly access: ApiAccess;
  /** The file holding the operator's token, when this start created it (to tell the operator once). */
  readonly createdOperatorTokenFile: string | undefined;
}

/**
 * The key that signs tokens: API_SEGREDO, else the one kept in
 * DATA_DIR/segredo-api; the operator's token: API_TOKEN_ADMIN, else the one
 * kept in DATA_DIR/token-operador. Both are created on first start,
 * readable by their owner only, so tokens outlive restarts and a fresh
 * installation always has an operator (nobody else may change its state).
 */
export async function loadApiAccess(config: Pick<Config, 'apiSecret' | 'apiAuthentication' | 'apiTokenLifetimeS' | 'apiAdminToken' | 'dataDir'>, store?: AccessStore): Promise<LoadedApiAccess> {
  const required = config.apiAuthentication === 'obrigatoria';
  const keyHex = config.apiSecret !== '' ? config.apiSecret : (await keptSecret(config.dataDir, API_SECRET_FILE, 'API_SEGREDO', () => randomBytes(SECRET_BYTES).toString('hex'))).value;
  if (!SECRET_HEX_PATTERN.test(keyHex)) throw new ConfigError('API_SEGREDO', `not set, and ${join(config.dataDir, API_SECRET_FILE)} does not hold 32 to 64 bytes in hex`);
  let adminToken = config.apiAdminToken;
  let createdOperatorTokenFile: string | undefined;
  if (adminToken === '') {
    const kept = await keptSecret(config.dataDir, OPERATOR_TOKEN_FILE, 'API_TOKEN_ADMIN', () => randomBytes(OPERATOR_TOKEN_BYTES).toString('base64url'));
    adminToken = kept.value;
    if (!OPERATOR_TOKEN_PATTERN.test(adminToken)) throw new ConfigError('API_TOKEN_ADMIN', `not set, and ${join(config.dataDir, OPERATOR_TOKEN_FILE)} does not hold 32 to 256 characters of A-Z a-z 0-9 . _ ~ + / -`);
    if (kept.created) createdOperatorTokenFile = join(config.dataDir, OPERATOR_TOKEN_FILE);
  }
  const access = new ApiAccess({ required, lifetimeS: config.apiTokenLifetimeS, adminToken, key: Buffer.from(keyHex, 'hex'), store });
  await access.refresh();
  return { access, createdOperatorTokenFile };
}

/**
 * The secret kept in `dir/name`: created with `make()` when missing
 * (exclusively, owner-only, never through a symlink: O_EXCL), then read.
 * Several processes starting at once agree on the first one written.
 */
async function keptSecret(dir: string, name: string, setting: string, make: () => string): Promise<{ value: string; created: boolean }> {
  const path = join(dir, name);
  let created = false;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(path, `${make()}\n`, { flag: 'wx', mode: 0o600 });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(setting, `not set, and ${path} cannot be created: ${(error as Error).message}`);
  }
  try {
    return { value: (await readFile(path, 'latin1')).trim(), created };
  } catch (error) {
    throw new ConfigError(setting, `not set, and ${path} cannot be read: ${(error as Error).message}`);
  }
}
