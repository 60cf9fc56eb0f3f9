/**
 * Fleet reports written on schedule (EMUSA's every 6 hours):
 * RELATORIOS_INTERVALO_H writes the day's fleet report as PDF and JSON to
 * DATA_DIR/relatorios/, each file written whole (temporary name, then
 * rename); files older than RELATORIOS_RETENCAO_DIAS (by the time in their
 * name) are deleted.
 */
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { stringifyJson } from '../../protocol/json.js';
import { DAY_MS, zoneOffset } from '../../protocol/timestamp.js';
import { renderFleetReportPdf, type FleetReportJson } from '../views/report-pdf.js';
import { reportSpan, type Reporting } from './reporting.js';
import { fleetReportJson } from '../views/reports.js';

export const REPORTS_DIR = 'relatorios';
/** The only names the archive writes, and the only ones it reads back: no path can be named. */
const FILE_NAME = /^frota-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\.(pdf|json)$/;

export interface ArchivedReport {
  readonly name: string;
  readonly size: number;
  /** When it was written, as its name says (not the file's mtime, which a copy or a restore renews). */
  readonly createdAt: number;
}

/** `frota-2026-11-30T12-00-00Z.pdf` was written at 2026-11-30T12:00:00Z. */
const writtenAt = (name: string): number => Date.parse(`${name.slice(6, 16)}T${name.slice(17, 25).replaceAll('-', ':')}Z`);

export class ReportArchive {
  constructor(readonly dir: string) {}

  async list(): Promise<ArchivedReport[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files: ArchivedReport[] = [];
    for (const name of names.filter((n) => FILE_NAME.test(n)).sort().reverse()) {
      // A name of the right shape but no real instant (frota-2026-13-45T…) is no report of ours.
      const createdAt = writtenAt(name);
      if (Number.isNaN(createdAt)) continue;
      const info = await stat(join(this.dir, name));
      files.push({ name, size: info.size, createdAt });
    }
    return files;
  }

  async read(name: string): Promise<{ name: string; bytes: Buffer } | undefined> {
    if (!FILE_NAME.test(name)) return undefined;
    try {
      return { name, bytes: await readFile(join(this.dir, name)) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async write(name: string, bytes: Buffer | string): Promise<void> {
    if (!FILE_NAME.test(name)) throw new RangeError(`not a report file name: ${name}`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temporary = join(this.dir, `.${name}.tmp`);
    await writeFile(temporary, bytes, { mode: 0o600 });
    await rename(temporary, join(this.dir, name));
  }

  /** Deletes the reports older than `maxAgeMs`; returns how many. */
  async prune(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const file of await this.list()) {
      if (now - file.createdAt <= maxAgeMs) continue;
      await unlink(join(this.dir, file.name));
      removed++;
    }
    return removed;
  }
}

export class ReportJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly options: { readonly reporting: Reporting; readonly archive: ReportArchive; readonly intervalMs: number; readonly retentionDays: number; readonly timeZone: string; readonly logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Writes the day's fleet report now (PDF and JSON), then prunes. */
  runOnce(now = Date.now()): Promise<void> {
    this.running ??= this.write(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async write(now: number): Promise<void> {
    const { reporting, archive, timeZone, logger } = this.options;
    try {
      const day = new Date(now + zoneOffset(now, timeZone)).toISOString().slice(0, 10);
      const json = fleetReportJson(await reporting.fleet(reportSpan('diario', day, timeZone)));
      const text = stringifyJson(json);
      const stamp = new Date(now).toISOString().slice(0, 19).replaceAll(':', '-') + 'Z';
      await archive.write(`frota-${stamp}.json`, text);
      await archive.write(`frota-${stamp}.pdf`, await renderFleetReportPdf(JSON.parse(text) as FleetReportJson));
      const pruned = await archive.prune(this.options.retentionDays * DAY_MS, now);
      logger.info({ relatorio: `frota-${stamp}`, removidos: pruned }, 'fleet report written');
    } catch (error) {
      logger.error({ err: error }, 'could not write the fleet report');
    }
  }
}
