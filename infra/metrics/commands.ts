/**
 * Counts every command by type and outcome, seen from the one entry point all commands go
 * through (`handleCommand`'s observer): the handlers themselves know nothing of metrics.
 */
import {
  StreamStateMismatch,
  TooMuchContention,
  type CommandObserver,
} from '../eventsourcing/command-handling/handle-command.js';
import { BusinessRuleViolation } from '../../domain/decider.js';
import { WrongExpectedVersion } from '../eventsourcing/event-store/event-store.js';
import { streamCategory } from './event-store.js';
import type { CommandOutcome, Metrics } from './metrics.js';

/** Command types are names in the code (`DepositMoney`); anything else is not a label. */
const COMMAND_TYPE = /^[A-Z][A-Za-z]{0,63}$/;

export function outcomeOf(error: unknown): CommandOutcome {
  // A stream in the wrong state (no such account, already registered) is a refusal like a rule's.
  if (error instanceof BusinessRuleViolation || error instanceof StreamStateMismatch) return 'rejected';
  if (error instanceof WrongExpectedVersion || error instanceof TooMuchContention) return 'conflict';
  return 'error';
}

export function commandRecorder(metrics: Pick<Metrics, 'commands' | 'conflicts'>): CommandObserver {
  return (command, outcome) => {
    const type = COMMAND_TYPE.test(command.type) ? command.type : 'other';
    outcome.then(
      () => metrics.commands.inc({ command: type, outcome: 'ok' }),
      (error: unknown) => {
        metrics.commands.inc({ command: type, outcome: outcomeOf(error) });
        // The store's own refusals are counted by the event store's decorator (and retried);
        // one reaching the caller is the client's If-Match that no longer holds.
        if (error instanceof WrongExpectedVersion)
          metrics.conflicts.inc({ category: streamCategory(command.streamId), check: 'if-match' });
      },
    );
  };
}
