/**
 * The shape of every aggregate's rules: pure functions, no I/O. `decide` answers a command
 * with the events it causes (none when it was already done: commands carry their own ids
 * so a retry is harmless) or throws a `BusinessRuleViolation`.
 */
import type { SnapshotCodec } from './snapshot.js';

export interface DomainEvent<Type extends string = string, Data extends object = object> {
  type: Type;
  data: Data;
}

export interface Decider<State, Command, Event extends DomainEvent> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
  /** How its state is written to and read from a snapshot; without one, its streams are always folded from the start. */
  snapshot?: SnapshotCodec<State>;
  /** About how many bytes of memory a state takes (what a cache of states counts against its budget). */
  weigh?(state: State): number;
  /**
   * Whether `command` repeats one the state shows already applied (its operation id, its
   * order): deciding it changes nothing, and it is answered as applied. Such a command is
   * decided whatever revision its sender based it on (If-Match): a retry whose answer was
   * lost finds the stream moved on by its own first attempt, and must not be told 412.
   */
  isRepeat?(command: Command, state: State): boolean;
}

/** A command the rules refuse; `message` is the text the user reads. */
export class BusinessRuleViolation extends Error {
  override readonly name = 'BusinessRuleViolation';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Folds events into the state they describe. */
export function fold<State, Event extends DomainEvent>(
  decider: Pick<Decider<State, never, Event>, 'initialState' | 'evolve'>,
  events: Event[],
): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}
