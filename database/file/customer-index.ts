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

  hasMatricula(matricula: string): boolean {
    return this.byMatricula.has(matricula);
  }

  remove(customer: Customer): void {
    this.byUsername.delete(customer.username);
    this.byMatricula.delete(customer.matricula);
  }

  find(query: CustomerQuery): Customer[] {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    if (query.username === undefined && query.matricula === undefined) {
      const page: Customer[] = [];
      let skipped = 0;
      for (const customer of this.byUsername.values()) {
        if (page.length >= limit) break;
        if (skipped < offset) skipped++;
        else page.push(customer);
      }
      return page;
    }
    const candidate = query.username !== undefined ? this.byUsername.get(query.username) : this.byMatricula.get(query.matricula as string);
    const matches = candidate !== undefined && (query.matricula === undefined || candidate.matricula === query.matricula) ? [candidate] : [];
    return matches.slice(offset, offset + Math.min(limit, 1));
  }
}
