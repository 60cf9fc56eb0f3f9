/** A pass run at start and every interval, never two at once, awaited on close: the shape of the server's background jobs, which extend it. */
import type { Logger } from 'pino';

export abstract class PeriodicPass {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Passes finished (for /metricas and tests). */
  passes = 0;

  constructor(
    private readonly intervalMs: number,
    protected readonly logger: Logger,
    private readonly what: string,
  ) {}

  /** One pass as the clock says it is `now`; `stopped` turns true when the server is closing (stop early). */
  protected abstract pass(now: number, stopped: () => boolean): Promise<void>;

  start(): void {
    const tick = (): void => void this.runOnce().catch((error: unknown) => this.logger.warn({ err: error }, `${this.what} failed; retried at the next`));
    tick();
    this.timer = setInterval(tick, this.intervalMs).unref();
  }

  /** Runs a pass now (or joins the one running). */
  runOnce(now = Date.now()): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass(now, () => this.stopped)
      .then(() => void this.passes++)
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
