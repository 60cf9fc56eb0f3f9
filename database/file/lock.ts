/**
 * One process at a time owns a data directory: a lock file holds the
 * owner's PID. A lock left by a process that no longer runs (kill -9) is
 * taken over.
 */
import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { StoreError } from '../store.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirectoryLock {
  release(): Promise<void>;
}

/** Lock files held by this process: a PID match alone could be a dead predecessor's (PID 1 in a container). */
const heldHere = new Set<string>();

export async function lockDirectory(lockPath: string): Promise<DirectoryLock> {
  if (heldHere.has(lockPath)) throw new StoreError('LOCKED', `${lockPath} is already open in this process`);
  try {
    const handle = await open(lockPath, 'wx');
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
    // Our own PID in a lock we do not hold was left by a predecessor that had the same PID.
    if (Number.isInteger(owner) && owner !== process.pid && isRunning(owner)) {
      throw new StoreError('LOCKED', `${lockPath} belongs to running process ${owner}; stop it first or use another DATA_DIR`);
    }
    await writeFile(lockPath, `${process.pid}\n`);
  }
  heldHere.add(lockPath);
  return {
    async release() {
      heldHere.delete(lockPath);
      await unlink(lockPath).catch(() => undefined);
    },
  };
}
