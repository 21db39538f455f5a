import { expect } from 'chai';
import { formatDuration, ProgressReporter, type ProgressOptions } from '../infra/cli/progress.js';

/** A stand-in for stderr: records what is written; `isTTY` decides the output style. */
class FakeStream {
  readonly writes: string[] = [];
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.writes.push(chunk);
    return true;
  }
  get text(): string {
    return this.writes.join('');
  }
}

/** A clock the test moves by hand (starts at a realistic epoch time, like Date.now). */
class FakeClock {
  constructor(public ms = 1_700_000_000_000) {}
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

function reporter(options: Partial<ProgressOptions> & { tty?: boolean } = {}) {
  const clock = new FakeClock();
  const stream = new FakeStream(options.tty ?? false);
  const progress = new ProgressReporter({
    label: 'orders',
    total: 1000,
    now: clock.now,
    ...options,
    stream: stream as unknown as NodeJS.WriteStream,
  });
  return { progress, clock, stream };
}

const ESC_ERASE_LINE = '\u001b[K';

describe('rebuild progress', () => {
  describe('ProgressReporter.describe', () => {
    it('shows the label, a bar, the percentage, events, events/s and the ETA', () => {
      const { progress, clock } = reporter();
      clock.advance(10_000);
      // A quarter of the way in 10 s: 30 s to go; 5,000 events in 10 s: 500 events/s.
      expect(progress.describe(250, 5000)).to.equal(
        `orders [${'#'.repeat(8)}${'.'.repeat(22)}]  25.0% 5,000 events 500 events/s ETA 0:30`,
      );
    });

    it('pads the percentage to a fixed width so the line does not jump', () => {
      const { progress, clock } = reporter();
      clock.advance(1000);
      expect(progress.describe(5, 1)).to.include(']   0.5% ');
      expect(progress.describe(999, 1)).to.include(']  99.9% ');
      expect(progress.describe(1000, 1)).to.include('] 100.0% ');
    });

    it('rounds events/s and groups thousands', () => {
      const { progress, clock } = reporter({ total: 10_000_000 });
      clock.advance(3000);
      expect(progress.describe(5_000_000, 1_234_567)).to.include(' 1,234,567 events 411,522 events/s ');
    });

    it('shows an unknown ETA (--:--) before any progress', () => {
      const { progress, clock } = reporter();
      clock.advance(5000);
      const line = progress.describe(0, 0);
      expect(line).to.include(`[${'.'.repeat(30)}]`);
      expect(line).to.include('   0.0% 0 events 0 events/s ETA --:--');
    });

    it('shows 100% and ETA 0:00 when done reaches or passes the total', () => {
      const { progress, clock } = reporter();
      clock.advance(2000);
      for (const done of [1000, 1500]) {
        const line = progress.describe(done, 700);
        expect(line).to.include(`[${'#'.repeat(30)}] 100.0%`);
        expect(line).to.match(/ETA 0:00$/);
      }
    });

    it('counts an empty log (total 0) as complete', () => {
      const { progress } = reporter({ total: 0 });
      expect(progress.describe(0, 0)).to.include('100.0%');
      expect(progress.describe(0, 0)).to.match(/ETA 0:00$/);
    });

    it('estimates hours-long rebuilds in h:mm:ss', () => {
      const { progress, clock } = reporter({ total: 100 });
      clock.advance(60_000);
      // 1% per minute: 99 minutes to go.
      expect(progress.describe(1, 10)).to.match(/ETA 1:39:00$/);
    });

    it('does not divide by zero when no time has passed', () => {
      const { progress } = reporter();
      const line = progress.describe(500, 3);
      expect(line).to.include('50.0%');
      expect(line).to.not.match(/NaN|Infinity/);
    });
  });

  describe('formatDuration', () => {
    const cases: Array<[number, string]> = [
      [0, '0:00'],
      [0.4, '0:00'],
      [5, '0:05'],
      [59.4, '0:59'],
      [59.6, '1:00'],
      [61, '1:01'],
      [600, '10:00'],
      [3599, '59:59'],
      [3600, '1:00:00'],
      [3661, '1:01:01'],
      [36_000 + 62, '10:01:02'],
      [100 * 3600, '100:00:00'],
    ];
    for (const [seconds, text] of cases) {
      it(`formats ${seconds} s as ${text}`, () => expect(formatDuration(seconds)).to.equal(text));
    }

    it('shows --:-- for an unknown duration (NaN or infinite)', () => {
      expect(formatDuration(Number.NaN)).to.equal('--:--');
      expect(formatDuration(Number.POSITIVE_INFINITY)).to.equal('--:--');
      expect(formatDuration(Number.NEGATIVE_INFINITY)).to.equal('--:--');
    });
  });

  describe('on a terminal (TTY)', () => {
    it('redraws one line in place on every update', () => {
      const { progress, clock, stream } = reporter({ tty: true });
      clock.advance(100);
      progress.update(100, 10);
      clock.advance(100);
      progress.update(200, 20);
      expect(stream.writes).to.have.length(2);
      for (const write of stream.writes) {
        expect(write.startsWith('\r')).to.equal(true);
        expect(write.endsWith(ESC_ERASE_LINE)).to.equal(true);
        expect(write).to.not.include('\n');
      }
      expect(stream.writes[1]).to.equal(`\r${progress.describe(200, 20)}${ESC_ERASE_LINE}`);
    });

    it('replaces the bar with a summary line and ends it with a newline', () => {
      const { progress, clock, stream } = reporter({ tty: true });
      progress.update(10, 1);
      clock.advance(2000);
      progress.finish(1234);
      expect(stream.writes.at(-1)).to.equal(`\rorders: done, 1,234 events in 2.0 s (617 events/s)${ESC_ERASE_LINE}\n`);
    });
  });

  describe('in a log or CI (not a TTY)', () => {
    it('writes plain lines, no control characters', () => {
      const { progress, clock, stream } = reporter({ tty: false });
      progress.update(100, 10);
      clock.advance(5000);
      progress.update(600, 60);
      progress.finish(60);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every terminal escape sequence; that none is written is what this checks.
      expect(stream.text).to.not.match(/[\r\u001b]/);
      expect(stream.writes.every((w) => w.endsWith('\n'))).to.equal(true);
    });

    it('prints the first update at once, then at most one line per plainEveryMs', () => {
      const { progress, clock, stream } = reporter({ tty: false, plainEveryMs: 2000 });
      progress.update(100, 10);
      expect(stream.writes).to.deep.equal([`${progress.describe(100, 10)}\n`]);
      clock.advance(1999);
      progress.update(200, 20);
      expect(stream.writes).to.have.length(1);
      clock.advance(1);
      progress.update(300, 30);
      expect(stream.writes).to.have.length(2);
      expect(stream.writes[1]).to.equal(`${progress.describe(300, 30)}\n`);
    });

    it('prints every update when plainEveryMs is 0', () => {
      const { progress, stream } = reporter({ tty: false, plainEveryMs: 0 });
      for (let i = 1; i <= 5; i++) progress.update(i * 100, i);
      expect(stream.writes).to.have.length(5);
    });

    it('always prints the summary, even right after an update', () => {
      const { progress, clock, stream } = reporter({ tty: false });
      progress.update(1000, 1000);
      clock.advance(500);
      progress.finish(1000);
      expect(stream.writes).to.have.length(2);
      expect(stream.writes[1]).to.equal('orders: done, 1,000 events in 0.5 s (2,000 events/s)\n');
    });

    it('reports an instant rebuild without dividing by zero', () => {
      const { progress, stream } = reporter({ tty: false });
      progress.finish(0);
      expect(stream.text).to.equal('orders: done, 0 events in 0.0 s (0 events/s)\n');
    });
  });
});
