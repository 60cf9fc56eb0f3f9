/**
 * Logs a recurring problem at a bounded rate: the first occurrence at once,
 * then at most one line per interval carrying how many occurred meanwhile.
 */
import type { Logger } from 'pino';

export class ThrottledWarning {
  private readonly logger: Logger;
  private readonly message: string;
  private readonly intervalMs: number;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(logger: Logger, message: string, intervalMs = 10_000) {
    this.logger = logger;
    this.message = message;
    this.intervalMs = intervalMs;
  }

  warn(details: Record<string, unknown>, now = Date.now()): void {
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ ...details, suppressedSinceLastLog: this.suppressed }, this.message);
    this.lastLoggedAt = now;
    this.suppressed = 0;
  }
}
