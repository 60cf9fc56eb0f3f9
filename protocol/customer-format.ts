/**
 * The customers file format, `username;matricula` per line: the original
 * system's `dados_clientes.txt` and our `clientes.txt`. Pure: shared by the
 * store, the importer and the meter launcher (`--clientes`).
 */
import { isMatricula } from './meter-protocol.js';

export interface Customer {
  readonly username: string;
  /** 1 to 20 ASCII digits; leading zeros are significant. */
  readonly matricula: string;
}

/** A username: 1 to 100 characters (Unicode code points, as PostgreSQL's length counts), none of them `;` or a control character. */
const USERNAME_PATTERN = /^[^;\x00-\x1f\x7f]{1,100}$/u;
const LONE_SURROGATE = /\p{Surrogate}/u;

export function isUsername(text: string): boolean {
  // A lone surrogate is no character: it could not be written as UTF-8.
  return USERNAME_PATTERN.test(text) && !LONE_SURROGATE.test(text);
}

/**
 * A username as it is kept and looked up: without surrounding whitespace
 * (the customers file is read trimmed, so "joana " would come back as
 * "joana" after a restart) and in Unicode NFC (a composed "é" and "e" plus
 * a combining accent are one name).
 */
export function normalizeUsername(text: string): string {
  return text.trim().normalize('NFC');
}

export function formatCustomerLine(customer: Customer): string {
  return `${customer.username};${customer.matricula}\n`;
}

/** Parses `username;matricula` (surrounding whitespace and a CR are tolerated, as hand-edited files have them). */
export function parseCustomerLine(line: string): Customer | undefined {
  const fields = line.split(';');
  if (fields.length !== 2) return undefined;
  const username = normalizeUsername(fields[0] as string);
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
