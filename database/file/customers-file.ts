/**
 * `clientes.txt` on disk: read whole at start-up (it is small); new
 * customers are appended and fdatasync'ed.
 */
import { open, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { formatCustomerLine, parseCustomerFile, type Customer } from '../../protocol/customer-format.js';

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
