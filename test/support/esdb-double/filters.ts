/**
 * Server-side filters for `$all` reads and subscriptions (the server's EventFilter): on the
 * stream name or the event type, by prefixes, or by a regular expression when one is given
 * (regex wins over prefixes, and matches anywhere in the text, like .NET's Regex.IsMatch).
 */
import { streamsPb, type FilterOptions } from './pb.js';
import type { RecordedEvent } from './store.js';

const { FilterCase, WindowCase } = streamsPb.ReadReq.Options.FilterOptions;

/** The server's ReadBatchSize: the search window when the client asks for `count`. */
export const READ_BATCH_SIZE = 32;

export interface EventFilter {
  matches(event: RecordedEvent): boolean;
  /** How many events a filtered page may examine. */
  maxSearchWindow: number;
  /** Subscriptions checkpoint every multiplier × window events examined. */
  checkpointIntervalMultiplier: number;
  describe: string;
}

export function toEventFilter(options: FilterOptions): EventFilter {
  const onStream = options.getFilterCase() === FilterCase.STREAM_IDENTIFIER;
  const expression = onStream ? options.getStreamIdentifier() : options.getEventType();
  if (expression === undefined) throw new Error('filter expression missing');

  const regex = expression.getRegex();
  const prefixes = expression.getPrefixList();
  const pattern = regex !== '' ? new RegExp(regex) : undefined;
  const test = (text: string): boolean =>
    pattern !== undefined ? pattern.test(text) : prefixes.some((prefix) => text.startsWith(prefix));

  const maxSearchWindow = options.getWindowCase() === WindowCase.MAX ? options.getMax() : READ_BATCH_SIZE;
  if (maxSearchWindow <= 0) throw new Error('invalid search window');
  return {
    matches: (event) => test(onStream ? event.streamId : event.type),
    maxSearchWindow,
    checkpointIntervalMultiplier: options.getCheckpointintervalmultiplier(),
    describe: `${onStream ? 'stream' : 'event type'} ${regex !== '' ? `/${regex}/` : `prefixes [${prefixes.join(', ')}]`}`,
  };
}
