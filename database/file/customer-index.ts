import type { Customer, CustomerQuery } from '../store.js';

/** Customers by username and by matricula, both unique, in registration order. */
export class CustomerIndex {
  private readonly byUsername = new Map<string, Customer>();
  private readonly byMatricula = new Map<string, Customer>();

  get size(): number {
    return this.byUsername.size;
  }

  /** Adds a customer unless its username or matricula is taken; says whether it did. */
  add(customer: Customer): boolean {
    if (this.byUsername.has(customer.username) || this.byMatricula.has(customer.matricula)) return false;
    this.byUsername.set(customer.username, customer);
    this.byMatricula.set(customer.matricula, customer);
    return true;
  }

  remove(customer: Customer): void {
    this.byUsername.delete(customer.username);
    this.byMatricula.delete(customer.matricula);
  }

  find(query: CustomerQuery): Customer[] {
    const candidate =
      query.username !== undefined ? this.byUsername.get(query.username) : query.matricula !== undefined ? this.byMatricula.get(query.matricula) : undefined;
    if (candidate === undefined) return query.username === undefined && query.matricula === undefined ? [...this.byUsername.values()] : [];
    return query.matricula === undefined || candidate.matricula === query.matricula ? [candidate] : [];
  }
}
