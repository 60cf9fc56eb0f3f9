/**
 * Who may read what through the API: tokens issued by /validacao-usuario
 * and, with AUTENTICACAO_API=obrigatoria, checked on the other routes
 * (RFC 6750 Bearer tokens: 401 without a valid one, 403 for a matricula
 * the token does not belong to).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signToken, verifyToken } from '../protocol/api-token.js';
import type { Request } from '../protocol/http/request-parser.js';
import type { Customer } from '../database/store.js';
import { ConfigError, SECRET_HEX_PATTERN, type Config } from './config.js';
import { HttpError } from './http/http-error.js';

/** Where the API key is kept when API_SEGREDO is not set. */
export const API_SECRET_FILE = 'segredo-api';
const SECRET_BYTES = 32;
const REALM = 'consumo-inteligente';

export interface IssuedToken {
  readonly token: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/** Who a request acts for, once authenticated. */
export type Principal = { readonly papel: 'operador' } | { readonly papel: 'cliente'; readonly matricula: string };

export class ApiAccess {
  readonly required: boolean;
  private readonly key: Buffer;
  private readonly lifetimeS: number;
  private readonly nowSeconds: () => number;

  private readonly adminToken: Buffer | undefined;

  constructor(options: { key: Buffer; required: boolean; lifetimeS: number; adminToken?: string; nowSeconds?: () => number }) {
    this.key = options.key;
    this.required = options.required;
    this.lifetimeS = options.lifetimeS;
    this.adminToken = options.adminToken === undefined || options.adminToken === '' ? undefined : Buffer.from(options.adminToken, 'latin1');
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  /** A customer's token: role `cliente`, for its own matricula only. */
  async issue(customer: Customer): Promise<IssuedToken> {
    const iat = this.nowSeconds();
    const exp = iat + this.lifetimeS;
    return { token: await signToken({ sub: customer.matricula, papel: 'cliente', username: customer.username, iat, exp }, this.key), expiresAt: exp };
  }

  /**
   * Who the request acts for: the operator (API_TOKEN_ADMIN, or a token of
   * role `operador`) or a customer (a token of role `cliente`). With the API
   * open, a request acts for anyone (undefined) unless it sends the
   * operator's token; with tokens required, one without a valid token gets 401.
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
    const result = await verifyToken(token, this.key, this.nowSeconds());
    if ('problem' in result) {
      const message = result.problem === 'EXPIRED' ? 'O token expirou; obtenha outro em /validacao-usuario.' : result.problem === 'NOT_YET_VALID' ? 'O token ainda não é válido.' : 'Token inválido.';
      throw new HttpError('token_invalido', message, {
        headers: [['WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="${result.problem === 'EXPIRED' ? 'expired' : 'invalid'}"`]],
      });
    }
    const { claims } = result;
    return claims.papel === 'operador' ? { papel: 'operador' } : { papel: 'cliente', matricula: claims.sub };
  }

  /**
   * Operator routes (customer registry, the whole fleet): open when tokens
   * are not required; otherwise 401 without credentials, 403 for a
   * customer's token (valid, but the wrong role), and 403 when no operator
   * token is configured at all.
   */
  async authenticateOperator(request: Request, queryToken?: string): Promise<void> {
    if (!this.required) return;
    if (this.adminToken === undefined) throw new HttpError('acesso_negado', 'Com AUTENTICACAO_API=obrigatoria, as rotas de operador exigem API_TOKEN_ADMIN configurado no servidor.');
    const principal = await this.authenticate(request, queryToken);
    if (principal?.papel !== 'operador') throw new HttpError('acesso_negado', 'Esta rota é só para o operador (API_TOKEN_ADMIN).');
  }

  /** 403 unless the principal (from `authenticate`) may read `matricula`: the operator reads any, a customer its own. */
  authorize(principal: Principal | undefined, matricula: string): void {
    if (principal?.papel === 'cliente' && principal.matricula !== matricula) {
      throw new HttpError('acesso_negado', `Este token não dá acesso à matrícula ${matricula}.`);
    }
  }

  private isAdminToken(token: string): boolean {
    if (this.adminToken === undefined) return false;
    const given = Buffer.from(token, 'latin1');
    return given.length === this.adminToken.length && timingSafeEqual(given, this.adminToken);
  }
}

/** 401 for a request without the credential it needs (RFC 6750 §3: with a Bearer challenge). */
function unauthenticated(message: string): HttpError {
  return new HttpError('nao_autenticado', message, { headers: [['WWW-Authenticate', `Bearer realm="${REALM}"`]] });
}

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1: scheme in any case, one or more spaces). */
function bearerToken(request: Request): string | undefined {
  const authorization = request.head.headers.get('authorization');
  return authorization === undefined ? undefined : /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization)?.[1];
}

/**
 * The key that signs tokens: API_SEGREDO, else the one kept in
 * DATA_DIR/segredo-api (created on first start, readable by its owner only),
 * so tokens outlive restarts. An open API with no key configured gets a
 * fresh one per start and writes nothing.
 */
export async function loadApiAccess(config: Pick<Config, 'apiSecret' | 'apiAuthentication' | 'apiTokenLifetimeS' | 'apiAdminToken' | 'dataDir'>): Promise<ApiAccess> {
  const required = config.apiAuthentication === 'obrigatoria';
  const options = { required, lifetimeS: config.apiTokenLifetimeS, adminToken: config.apiAdminToken };
  if (config.apiSecret !== '') return new ApiAccess({ ...options, key: Buffer.from(config.apiSecret, 'hex') });
  if (!required) return new ApiAccess({ ...options, key: randomBytes(SECRET_BYTES) });
  const path = join(config.dataDir, API_SECRET_FILE);
  try {
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(path, `${randomBytes(SECRET_BYTES).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError('API_SEGREDO', `not set, and ${path} cannot be created: ${(error as Error).message}`);
  }
  const hex = (await readFile(path, 'latin1')).trim();
  if (!SECRET_HEX_PATTERN.test(hex)) throw new ConfigError('API_SEGREDO', `not set, and ${path} does not hold 32 to 64 bytes in hex`);
  return new ApiAccess({ ...options, key: Buffer.from(hex, 'hex') });
}
