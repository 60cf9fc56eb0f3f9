/** The JSON form of a profile's account holder and benefit: what the file store journals and PostgreSQL keeps (migration 019). */
import type { AccountHolder } from './profile-store.js';
import { BENEFITS, type BenefitPeriod } from '../domain/billing/invoice.js';
import { ISO_DAY } from '../protocol/timestamp.js';
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

/** A journalled benefit (`{tipo, inicio, fim}`), or undefined when malformed. */
export function parseBenefit(value: unknown): BenefitPeriod | undefined {
  const b = value as Record<string, unknown> | null;
  if (b === null || typeof b !== 'object' || !BENEFITS.includes(b.tipo as never) || typeof b.inicio !== 'string' || !ISO_DAY.test(b.inicio)) return undefined;
  if (b.fim !== null && (typeof b.fim !== 'string' || !ISO_DAY.test(b.fim) || b.fim < b.inicio)) return undefined;
  return { kind: b.tipo as BenefitPeriod['kind'], from: b.inicio, to: b.fim as string | null };
}

export const benefitJson = (benefit: BenefitPeriod): { tipo: string; inicio: string; fim: string | null } => ({ tipo: benefit.kind, inicio: benefit.from, fim: benefit.to });
