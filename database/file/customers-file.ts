/**
 * `clientes.txt`: one customer per line, `username;matricula`, the original
 * system's format. Read whole at start-up (it is small); new customers are
 * appended and fdatasync'ed.
 */
import { open, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { isMatricula } from '../../protocol/meter-protocol.js';
import type { Customer } from '../store.js';

/** A username: 1 to 100 characters, none of them `;` or a control character. */
const USERNAME_PATTERN = /^[^;\x00-\x1f\x7f]{1,100}$/;

export function isUsername(text: string): boolean {
  return USERNAME_PATTERN.test(text);
}

export function formatCustomerLine(customer: Customer): string {
  return `${customer.username};${customer.matricula}\n`;
}

/** Parses `username;matricula` (surrounding whitespace and a CR are tolerated, as hand-edited files have them). */
export function parseCustomerLine(line: string): Customer | undefined {
  const fields = line.split(';');
  if (fields.length !== 2) return undefined;
  const username = (fields[0] as string).trim();
  const matricula = (fields[1] as string).trim();
  if (!isUsername(username) || !isMatricula(matricula)) return undefined;
  return { username, matricula };
}

export interface CustomerFileContent {
  readonly customers: Customer[];
  /** 1-based numbers of lines that are neither blank nor a customer. */
  readonly badLines: number[];
}

export function parseCustomerFile(text: string): CustomerFileContent {
  const customers: Customer[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim().length === 0) return;
    const customer = parseCustomerLine(line);
    if (customer === undefined) badLines.push(index + 1);
    else customers.push(customer);
  });
  return { customers, badLines };
}

export async function readCustomerFile(path: string, logger: Logger): Promise<Customer[]> {
  const { customers, badLines } = parseCustomerFile(await readFile(path, 'utf8'));
  if (badLines.length > 0) logger.warn({ path, lines: badLines.slice(0, 20), count: badLines.length }, 'skipping malformed customer lines');
  return customers;
}

/** Appends customers to the file and makes them durable. */
export async function appendCustomers(path: string, customers: readonly Customer[]): Promise<void> {
  if (customers.length === 0) return;
  const handle = await open(path, 'a+');
  try {
    // A file edited by hand may lack its final newline; never glue two customers together.
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.writeFile(prefix + customers.map(formatCustomerLine).join(''), 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
