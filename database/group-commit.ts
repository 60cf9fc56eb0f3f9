/**
 * Group commit: items enqueued while one commit runs are committed together
 * in the next, so the cost of a durable write (fdatasync, a transaction) is
 * shared by everything that arrived meanwhile. One commit runs at a time,
 * in enqueue order.
 */

interface Batch<T, R> {
  readonly items: T[];
  readonly done: Promise<R>;
  resolve(result: R): void;
  reject(error: unknown): void;
}

function newBatch<T, R>(): Batch<T, R> {
  let resolve!: (result: R) => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failed batch nobody awaits must not become an unhandled rejection.
  done.catch(() => undefined);
  return { items: [], done, resolve, reject };
}

export interface GroupCommitOptions<T, R> {
  /** Makes a batch durable; its result goes to everyone waiting on the batch. */
  commit(items: readonly T[]): Promise<R>;
  /**
   * Called when a commit fails, with the items of the failed batch and of
   * the batch queued behind it, which fails too: it was accepted on the
   * assumption that the earlier one lands.
   */
  onFailure?(items: readonly T[], error: unknown): unknown;
}

export class GroupCommit<T, R> {
  private readonly options: GroupCommitOptions<T, R>;
  private queued: Batch<T, R> | undefined;
  private inFlight: Batch<T, R> | undefined;

  constructor(options: GroupCommitOptions<T, R>) {
    this.options = options;
  }

  /** Adds an item to the next commit. */
  enqueue(item: T): void {
    this.queued ??= newBatch();
    this.queued.items.push(item);
    if (this.inFlight === undefined) queueMicrotask(() => this.commitNext());
  }

  /**
   * Resolves once everything enqueued so far is committed, with the result
   * of the last batch that holds any of it; rejects if that batch failed.
   * Nothing pending: resolves with undefined.
   */
  flushed(): Promise<R | undefined> {
    return (this.queued ?? this.inFlight)?.done ?? Promise.resolve(undefined);
  }

  private commitNext(): void {
    if (this.inFlight !== undefined || this.queued === undefined) return;
    const batch = this.queued;
    this.queued = undefined;
    this.inFlight = batch;
    void this.run(batch).finally(() => {
      this.inFlight = undefined;
      this.commitNext();
    });
  }

  private async run(batch: Batch<T, R>): Promise<void> {
    let result: R;
    try {
      result = await this.options.commit(batch.items);
    } catch (error) {
      const failed = [batch, ...(this.queued === undefined ? [] : [this.queued])];
      this.queued = undefined;
      const items = failed.flatMap((b) => b.items);
      let reason = error;
      try {
        reason = (await this.options.onFailure?.(items, error)) ?? error;
      } catch (cleanupError) {
        reason = cleanupError;
      }
      for (const b of failed) b.reject(reason);
      return;
    }
    batch.resolve(result);
  }
}
