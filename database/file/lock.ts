/**
 * One process at a time owns a data directory.
 *
 * The lock itself is a Unix socket bound in Linux's abstract namespace under
 * a name derived from the directory's real path: binding is atomic in the
 * kernel (of two processes binding at the same moment exactly one wins), and
 * the kernel releases it when its process dies, even by kill -9, so there
 * is no stale lock to take over and no race in taking one over. (A lock file
 * taken over by "read the PID, see it dead, write mine" let two servers
 * started together both run.) The `.lock` file beside the data only tells
 * people which PID owns the directory; it is never followed through a
 * symlink and is readable by the owner only.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, readFile, realpath, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { basename, dirname, join } from 'node:path';
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

/** The abstract socket name that stands for a directory (the leading NUL puts it outside the file system). */
function lockName(directory: string): string {
  return `\0consumo-inteligente/${createHash('sha256').update(directory).digest('hex').slice(0, 40)}`;
}

function bind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen(name, () => {
      // The lock must not keep a process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

/** Locks the directory holding `lockPath` (whose file name is the PID file's); throws StoreError LOCKED when another process holds it. */
export async function lockDirectory(lockPath: string): Promise<DirectoryLock> {
  const directory = await realpath(dirname(lockPath));
  const server = await bind(lockName(directory));
  const pidPath = join(directory, basename(lockPath));
  if (server === undefined) {
    // The PID file may not be written yet, or still name a dead predecessor: name a PID only when it runs.
    const owner = Number.parseInt(await readFile(pidPath, 'latin1').catch(() => ''), 10);
    const who = Number.isInteger(owner) && owner !== process.pid && isRunning(owner) ? `running process ${owner}` : 'another running process';
    throw new StoreError('LOCKED', `${directory} belongs to ${who}; stop it first or use another DATA_DIR`);
  }
  try {
    // O_NOFOLLOW: a symlink planted as .lock must not make us write elsewhere.
    const handle = await open(pidPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
  } catch (error) {
    server.close();
    throw new StoreError('UNAVAILABLE', `cannot write ${pidPath}: ${(error as Error).message}`, { cause: error });
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await unlink(pidPath).catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
