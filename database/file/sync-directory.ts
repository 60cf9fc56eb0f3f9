/** fsync of a directory, so that a file just created or renamed in it survives a crash. */
import { open } from 'node:fs/promises';

export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
