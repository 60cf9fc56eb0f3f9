/** The JSON form of a profile's account holder: what the file store journals and PostgreSQL keeps (migration 019). */
import type { AccountHolder } from './profile-store.js';
import { taxpayerDigits } from '../domain/identity.js';

/** A journalled holder (`{nome, cpf_cnpj, endereco, numero_cliente?}`), or undefined when malformed. */
export function parseHolder(value: unknown): AccountHolder | undefined {
  const h = value as Record<string, unknown> | null;
  if (h === null || typeof h !== 'object' || typeof h.nome !== 'string' || typeof h.cpf_cnpj !== 'string' || typeof h.endereco !== 'string') return undefined;
  if (taxpayerDigits(h.cpf_cnpj) !== h.cpf_cnpj || (h.numero_cliente !== undefined && typeof h.numero_cliente !== 'string')) return undefined;
  return { name: h.nome, taxpayer: h.cpf_cnpj, address: h.endereco, ...(h.numero_cliente === undefined ? {} : { customerNumber: h.numero_cliente as string }) };
}

/** A holder as journalled and stored. */
export function holderJson(holder: AccountHolder): Record<string, string> {
  return { nome: holder.name, cpf_cnpj: holder.taxpayer, endereco: holder.address, ...(holder.customerNumber === undefined ? {} : { numero_cliente: holder.customerNumber }) };
}
