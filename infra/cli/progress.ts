/**
 * Progress of a long replay: a redrawn bar with events/s and ETA on a terminal, a plain
 * line every few seconds otherwise (logs and CI keep readable output).
 */
export interface ProgressOptions {
  label: string;
  /** Where the work ends, on the same scale as `update`'s `done` (positions in `$all`). */
  total: number;
  stream?: NodeJS.WriteStream;
  now?: () => number;
  plainEveryMs?: number;
}

export class ProgressReporter {
  private readonly stream: NodeJS.WriteStream;
  private readonly now: () => number;
  private readonly started: number;
  private lastPlain = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  update(done: number, events: number): void {
    const line = this.describe(done, events);
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\u001b[K`);
    } else if (this.now() - this.lastPlain >= (this.options.plainEveryMs ?? 2000)) {
      this.lastPlain = this.now();
      this.stream.write(`${line}\n`);
    }
  }

  finish(events: number): void {
    const seconds = Math.max(0.001, (this.now() - this.started) / 1000);
    const summary = `${this.options.label}: done, ${events.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s (${Math.round(events / seconds).toLocaleString('en-US')} events/s)`;
    this.stream.write(this.stream.isTTY ? `\r${summary}\u001b[K\n` : `${summary}\n`);
  }

  describe(done: number, events: number): string {
    const fraction = this.options.total > 0 ? Math.min(1, done / this.options.total) : 1;
    const seconds = Math.max(0.001, (this.now() - this.started) / 1000);
    const rate = events / seconds;
    const eta = fraction > 0 ? (seconds / fraction) * (1 - fraction) : Number.NaN;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    return `${this.options.label} ${bar} ${(fraction * 100).toFixed(1).padStart(5)}% ${events.toLocaleString('en-US')} events ${Math.round(rate).toLocaleString('en-US')} events/s ETA ${formatDuration(eta)}`;
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
