/**
 * `clientes.txt` on disk: read line by line at start-up; new customers are
 * appended and fdatasync'ed. Never through a symlink; readable by the owner only.
 */
import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { formatCustomerLine, parseCustomerLine, type Customer } from '../../protocol/customer-format.js';
import { readTextLines } from './text-lines.js';

/** No customer line is longer (a 100-character username in UTF-8 and a matricula); a longer one is skipped unread. */
const MAX_CUSTOMER_LINE_BYTES = 1024;
/** Appending: write-only at the end, created 0600, never through a symlink. */
export const APPEND_FLAGS = fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW;
export const DATA_FILE_MODE = 0o600;

export async function readCustomerFile(path: string, logger: Logger): Promise<Customer[]> {
  const { lines, overlong } = await readTextLines(path, MAX_CUSTOMER_LINE_BYTES, 'utf8');
  const customers: Customer[] = [];
  const badLines = [...overlong];
  for (const { number, text } of lines) {
    if (text.trim().length === 0) continue;
    const customer = parseCustomerLine(text);
    if (customer === undefined) badLines.push(number);
    else customers.push(customer);
  }
  if (badLines.length > 0) logger.warn({ path, lines: badLines.sort((a, b) => a - b).slice(0, 20), count: badLines.length }, 'skipping malformed customer lines');
  return customers;
}

/** Appends customers to the file and makes them durable. */
export async function appendCustomers(path: string, customers: readonly Customer[]): Promise<void> {
  if (customers.length === 0) return;
  const handle = await open(path, APPEND_FLAGS, DATA_FILE_MODE);
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
