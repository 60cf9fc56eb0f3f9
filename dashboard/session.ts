/**
 * Sign-in: a customer with user and password (/validacao-usuario), an
 * operator with a named account (/sessao/operador) or the configuration's
 * token (checked by /sessao); signing out revokes the token on the server.
 */
import { api, claimsOf, plainError, saveSession } from './api.js';
import { byId, input } from './dom.js';
import { navigate, state } from './state.js';

/** Who is signed in, and what that shows (the goal form; a customer's own matricula, fixed). */
export function renderSession(): void {
  const session = state.session;
  byId('sessao-quem').hidden = session === undefined;
  byId('sair').hidden = session === undefined;
  byId('abrir-entrar').hidden = session !== undefined;
  if (session !== undefined) {
    byId('sessao-quem').textContent = session.papel === 'operador' ? (session.nome === undefined ? 'Operador' : `Operador · ${session.nome}`) : `${session.username ?? ''} · ${session.matricula ?? ''}`;
    byId('entrar').hidden = true;
  }
  const customer = session?.papel === 'cliente';
  byId('meta-form').hidden = session === undefined;
  byId('meta-entrar').hidden = session !== undefined;
  input('matricula').readOnly = customer;
  if (customer) input('matricula').value = session.matricula ?? '';
}

function refuse(text: string): void {
  const erro = byId('entrar-erro');
  erro.textContent = text;
  erro.hidden = false;
}

const retryAfter = (headers: Headers): string => `Muitas tentativas. Tente de novo em ${headers.get('Retry-After') ?? 'alguns'} segundos.`;

export async function signIn(event: Event): Promise<void> {
  event.preventDefault();
  const username = input('usuario').value.trim();
  const senha = input('senha').value;
  byId('entrar-erro').hidden = true;
  if (username === '' || senha === '') {
    refuse('Preencha o usuário e a senha.');
    return;
  }
  const answer = await api<{ token: string; username: string; matricula: string }>('/validacao-usuario', { method: 'POST', body: JSON.stringify({ username, senha }), headers: { 'Content-Type': 'application/json' } });
  input('senha').value = '';
  if (answer.status !== 200 || typeof answer.body.token !== 'string') {
    refuse(answer.status === 401 ? 'Usuário ou senha incorretos.' : answer.status === 429 ? retryAfter(answer.headers) : plainError(answer));
    return;
  }
  saveSession({ token: answer.body.token, papel: claimsOf(answer.body.token).papel ?? 'cliente', username: answer.body.username, matricula: answer.body.matricula });
  await navigate.afterSessionChange(answer.body.matricula);
}

export async function signInOperator(event: Event): Promise<void> {
  event.preventDefault();
  let token = input('token-operador').value.trim();
  input('token-operador').value = '';
  const nome = input('nome-operador').value.trim();
  const senha = input('senha-operador').value;
  input('senha-operador').value = '';
  // A named account signs in with its password; the configuration's token is taken as it is.
  if (token === '' && nome !== '' && senha !== '') {
    const signedIn = await api<{ token: string }>('/sessao/operador', { method: 'POST', body: JSON.stringify({ nome, senha }), headers: { 'Content-Type': 'application/json' } });
    if (signedIn.status !== 200) {
      refuse(signedIn.status === 429 ? retryAfter(signedIn.headers) : 'Nome ou senha de operador incorretos.');
      return;
    }
    token = signedIn.body.token;
  }
  // /sessao checks the token in every mode (the fleet's routes are open to anyone with AUTENTICACAO_API=aberta).
  const answer = await fetch('/sessao', { headers: { Authorization: `Bearer ${token}` } });
  const who = (answer.status === 200 ? await answer.json() : {}) as { papel?: string; nome?: string };
  if (who.papel !== 'operador') {
    refuse('Token de operador recusado.');
    return;
  }
  saveSession(who.nome === undefined ? { token, papel: 'operador' } : { token, papel: 'operador', nome: who.nome });
  await navigate.afterSessionChange(undefined);
}

/** Signing out revokes the session's token on the server (a customer's, or a named operator's), not only here. */
export async function signOut(): Promise<void> {
  const session = state.session;
  if (session !== undefined && !(session.papel === 'operador' && session.nome === undefined)) {
    await fetch('/sessao/encerrar', { method: 'POST', headers: { Authorization: `Bearer ${session.token}` } }).catch(() => undefined);
  }
  saveSession(undefined);
  state.matricula = undefined;
  location.reload();
}
