/**
 * The API as the dashboard calls it: the session kept in sessionStorage
 * (its token is sent, never shown), JSON answers, files saved under a name,
 * and error answers said in plain words.
 */
import { showError } from './dom.js';
import { state, type ErrorBody, type Session } from './state.js';

const STORAGE_KEY = 'consumo.sessao';

export function loadSession(): Session | undefined {
  try {
    return (JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  state.session = session;
  if (session === undefined) sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

/** The claims of a JSON Web Token (read to know whose it is; the server checks it). */
export function claimsOf(token: string): { papel?: 'cliente' | 'operador' } {
  try {
    const payload = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload)) as { papel?: 'cliente' | 'operador' };
  } catch {
    return {};
  }
}

export function authorization(): Record<string, string> {
  return state.session === undefined ? {} : { Authorization: `Bearer ${state.session.token}` };
}

/** An answer: `body` is `T` when the status says success, an error body otherwise. */
export interface Answer<T> {
  readonly status: number;
  readonly body: T & ErrorBody;
  readonly headers: Headers;
}

export async function api<T>(path: string, options: RequestInit & { headers?: Record<string, string> } = {}): Promise<Answer<T>> {
  const response = await fetch(path, { ...options, headers: { ...authorization(), ...(options.headers ?? {}) } });
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return { status: response.status, body: body as T & ErrorBody, headers: response.headers };
}

/** What an error answer means, in plain words. */
export function plainError(answer: { readonly status: number; readonly body: ErrorBody; readonly headers: Headers }): string {
  const erro = answer.body.erro;
  if (answer.status === 401) return state.session === undefined ? 'Entre para ver estes dados.' : 'Sua sessão expirou ou não vale mais: entre de novo.';
  if (answer.status === 403) return 'Este acesso não permite ver estes dados.';
  if (answer.status === 429) return `Muitas requisições. Tente de novo em ${answer.headers.get('Retry-After') ?? 'alguns'} segundos.`;
  if (answer.status === 503) return 'O servidor está temporariamente indisponível. Tente de novo em instantes.';
  if (erro?.codigo === 'dados_invalidos') return `Dados inválidos: ${(erro.detalhes ?? []).map((d) => `${d.campo} ${d.problema}`).join('; ')}`;
  return erro?.mensagem ?? `Erro ${answer.status}.`;
}

/** A file from the API (with the session's token), saved under `name`. */
export async function download(path: string, name: string): Promise<void> {
  const response = await fetch(path, { headers: authorization() });
  if (response.status !== 200) {
    const body = (await response.json().catch(() => ({}))) as ErrorBody;
    showError(plainError({ status: response.status, body, headers: response.headers }));
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
