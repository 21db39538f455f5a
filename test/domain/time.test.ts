/**
 * domain/time.ts reads and writes the ISO times of events by hand for speed: it must
 * agree with `Date.parse` and `toISOString` on every input, the odd ones included.
 */
import { expect } from 'chai';
import { isoOf, msOf } from '../../domain/time.js';

/** A deterministic stream of numbers in [0, 1), so a failure names its case. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('event times (domain/time.ts)', () => {
  it('reads every time toISOString writes as Date.parse does, across four centuries', () => {
    const next = random(7);
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor((next() * 400 - 200) * 365.25 * 24 * 3_600_000) + Date.UTC(2000, 0, 1);
      const iso = new Date(ms).toISOString();
      expect(msOf(iso), iso).to.equal(ms);
      expect(msOf(iso), iso).to.equal(Date.parse(iso));
    }
  });

  it('gives what Date.parse gives for times it does not read itself, valid or not', () => {
    const odd = [
      '2026-02-30T10:00:00.000Z', // past the month's end: rolls over like Date.parse
      '2026-13-01T10:00:00.000Z',
      '2026-12-07T24:00:00.000Z',
      '2026-12-07T10:60:00.000Z',
      '2026-12-07T10:00:00.000+01:00',
      '2026-12-07T10:00:00Z',
      '2026-12-07',
      '+012026-12-07T10:00:00.000Z',
      '2026-12-07T1a:00:00.000Z',
      '2026-12-07X10:00:00.000Z',
      'not a time at all, 24 ch',
      '',
    ];
    for (const text of odd) expect(msOf(text), text).to.deep.equal(Date.parse(text));
  });

  it('answers each time by its own text when the same texts come in turn', () => {
    const a = '2026-12-07T10:00:00.000Z';
    const b = '2026-12-07T10:00:00.001Z';
    expect([msOf(a), msOf(a), msOf(b), msOf(a), msOf('bad'), msOf(b)]).to.deep.equal([
      Date.parse(a),
      Date.parse(a),
      Date.parse(b),
      Date.parse(a),
      Number.NaN,
      Date.parse(b),
    ]);
  });

  it('writes times as toISOString does, the same instant asked twice included', () => {
    const next = random(11);
    for (let i = 0; i < 2_000; i++) {
      const ms = Math.floor(next() * 4e12);
      expect(isoOf(ms)).to.equal(new Date(ms).toISOString());
      expect(isoOf(ms)).to.equal(new Date(ms).toISOString());
      expect(msOf(isoOf(ms))).to.equal(ms);
    }
  });
});
