/**
 * The fleet as this server has heard it since it started: when each meter's
 * last stored reading arrived, and stored readings per second. A few dozen
 * bytes per meter (the time in whole seconds is a small integer to V8).
 */

/** Seconds of history behind the readings-per-second figure. */
export const RATE_WINDOW_S = 10;
/** Silent meters listed by name in a summary (the count covers them all). */
export const SILENT_LISTED = 50;

export interface FleetSummary {
  readonly medidores_vistos: number;
  readonly medidores_silenciosos: number;
  readonly leituras_por_segundo: number;
  /** The silent meters heard from longest ago, first. */
  readonly silenciosos: ReadonlyArray<{ readonly matricula: string; readonly silencio_s: number }>;
  readonly silencio_apos_s: number;
}

export class FleetTracker {
  private readonly lastHeard = new Map<string, number>();
  /** Readings stored in each of the last RATE_WINDOW_S whole seconds, by second modulo the window. */
  private readonly perSecond = new Array<number>(RATE_WINDOW_S).fill(0);
  private readonly secondOf = new Array<number>(RATE_WINDOW_S).fill(-1);
  private readonly nowSeconds: () => number;

  constructor(nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {
    this.nowSeconds = nowSeconds;
  }

  /** Notes that readings of these meters were stored now. */
  heard(matriculas: Iterable<string>, readings: number): void {
    const now = this.nowSeconds();
    for (const matricula of matriculas) this.lastHeard.set(matricula, now);
    const slot = now % RATE_WINDOW_S;
    if (this.secondOf[slot] !== now) {
      this.secondOf[slot] = now;
      this.perSecond[slot] = 0;
    }
    this.perSecond[slot] = (this.perSecond[slot] as number) + readings;
  }

  /** The fleet now; a meter is silent when nothing of it was stored for more than `silentAfterS` seconds. */
  summary(silentAfterS: number): FleetSummary {
    const now = this.nowSeconds();
    let silentCount = 0;
    const listed: Array<{ matricula: string; silencio_s: number }> = [];
    for (const [matricula, heardAt] of this.lastHeard) {
      const silence = now - heardAt;
      if (silence <= silentAfterS) continue;
      silentCount++;
      // The map is in first-heard order, not silence order: keep the longest silences seen so far.
      if (listed.length < SILENT_LISTED) listed.push({ matricula, silencio_s: silence });
      else if (silence > (listed[listed.length - 1] as { silencio_s: number }).silencio_s) listed[listed.length - 1] = { matricula, silencio_s: silence };
      else continue;
      listed.sort((a, b) => b.silencio_s - a.silencio_s);
    }
    // Whole seconds before this one, so a second still filling does not drag the rate down.
    let total = 0;
    for (let i = 0; i < RATE_WINDOW_S; i++) {
      const second = this.secondOf[i] as number;
      if (second < now && second >= now - RATE_WINDOW_S) total += this.perSecond[i] as number;
    }
    return {
      medidores_vistos: this.lastHeard.size,
      medidores_silenciosos: silentCount,
      leituras_por_segundo: total / RATE_WINDOW_S,
      silenciosos: listed,
      silencio_apos_s: silentAfterS,
    };
  }
}
