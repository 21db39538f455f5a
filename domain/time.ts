/**
 * Milliseconds since the epoch of an event's ISO time (what a stream remembers is dated, so
 * folding reads the time of nearly every event). Times written by `toISOString()` —
 * `YYYY-MM-DDTHH:mm:ss.sssZ` — are read digit by digit, faster than `Date.parse`
 * (docs/PERFORMANCE.md, "Why the code is as it is", "Event times read digit by digit");
 * anything else goes to `Date.parse`.
 */
export function msOf(iso: string): number {
  // An event's time is read by several of its folds in a row (and an append's events share it).
  if (iso === lastParsedIso) return lastParsedMs;
  lastParsedMs = parse(iso);
  lastParsedIso = iso;
  return lastParsedMs;
}

let lastParsedIso = '';
let lastParsedMs = Number.NaN;

function parse(iso: string): number {
  if (iso.length !== 24 || iso.charCodeAt(10) !== 84 /* T */ || iso.charCodeAt(23) !== 90 /* Z */)
    return Date.parse(iso);
  const year = digits(iso, 0, 4);
  const month = digits(iso, 5, 2);
  const day = digits(iso, 8, 2);
  const hours = digits(iso, 11, 2);
  const minutes = digits(iso, 14, 2);
  const seconds = digits(iso, 17, 2);
  const millis = digits(iso, 20, 3);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hours < 0 ||
    hours > 23 ||
    minutes < 0 ||
    minutes > 59 ||
    seconds < 0 ||
    seconds > 59 ||
    millis < 0
  )
    return Date.parse(iso);
  // Like Date.parse, a day past the month's end (Feb 30) rolls over into the next month.
  return Date.UTC(year, month - 1, day, hours, minutes, seconds, millis);
}

/** The number written with `length` decimal digits at `from`; -1 when one is not a digit. */
function digits(text: string, from: number, length: number): number {
  let value = 0;
  for (let i = from; i < from + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

let lastMs = Number.NaN;
let lastIso = '';

/** The ISO time of `ms`; the same instant asked twice in a row is formatted once. */
export function isoOf(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
