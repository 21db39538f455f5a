/**
 * Small units: no function of the application (domain/, command-handlers/, projections/,
 * read-api/, infra/) runs over MAX_LINES lines, unless the comment right above it says why,
 * with `long because: <reason>`. A long function is split into steps with names of their
 * own; what is long for a reason (a table that reads best whole, say) says so where it is.
 * test/support/long-functions.ts finds them with the compiler's own parser; run it on its
 * own (`node dist/test/support/long-functions.js 60`) to list them.
 */
import { expect } from 'chai';
import { longFunctions, longFunctionsInText, type LongFunction } from './support/long-functions.js';

const MAX_LINES = 60;

function describeLong(f: LongFunction): string {
  return `${f.file}:${f.line} ${f.name} is ${f.lines} lines`;
}

describe('small units: functions of at most 60 lines, or a reason', () => {
  const found = longFunctions(MAX_LINES);

  it('finds long functions of every kind, and the reason given right above one', () => {
    const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = [
      `function declared() {\n${body(MAX_LINES + 1)}\n}`,
      `function shortEnough() {\n${body(MAX_LINES)}\n}`,
      `class Holder {\n  method() {\n${body(MAX_LINES + 1)}\n  }\n}`,
      `/** What it does. */\n// long because: a table that reads best whole\nconst arrow = () => {\n${body(MAX_LINES + 1)}\n};`,
      `// a comment that gives no reason\nexport const handlers = { handle: async () => {\n${body(MAX_LINES + 1)}\n} };`,
    ].join('\n\n');
    const long = longFunctionsInText('fixture.ts', text, MAX_LINES);
    expect(long.map((f) => [f.name, f.lines, f.reason])).to.deep.equal([
      ['declared', MAX_LINES + 1, null],
      ['Holder.method', MAX_LINES + 1, null],
      ['arrow', MAX_LINES + 1, 'a table that reads best whole'],
      ['handle', MAX_LINES + 1, null],
    ]);
  });

  it(`has no function over ${MAX_LINES} lines without a "long because:" comment right above it`, () => {
    const unexplained = found.filter((f) => f.reason === null);
    expect(unexplained.map(describeLong), 'split these, or say why above each: // long because: …').to.deep.equal([]);
  });
});
