/**
 * The shape of every process manager's rules, as Emmett's workflows (after "the workflow
 * pattern"): pure functions, no I/O. `decide` answers an event with the commands it calls
 * for, given a state that `evolve` folds from events, starting from `initialState()`.
 * Specifications read: given these events, when this event, then these commands.
 *
 * A workflow keeps no stream of its own: what it needs to know is already in an aggregate's
 * stream (a deal's terms are in its item's market), so its state is that stream's, folded
 * with that aggregate's own `evolve`, and `stateStream` names the stream for each input. The
 * commands it decides are sent through the command tables; what they cause comes back as
 * events, some of them inputs again. The generic reactor that does this is in
 * infra/eventsourcing/subscriptions/workflow-reactor.ts.
 *
 * Every command a workflow sends must be harmless when repeated (an event may be delivered
 * again): its ids follow from the input (a deal's payment id from the deal id), and the
 * aggregates change nothing for an operation they have already applied.
 */
import type { BusinessRuleViolation, DomainEvent } from './decider.js';

/** What the reactor tells a workflow about the delivery of an input, besides the event. */
export interface WorkflowStep {
  /** The time of the decision (ISO): the clock is an input. */
  readonly at: string;
  /** Where the input lies in the log (its commit position): the cause of the steps it takes. */
  readonly cause: number;
  /** The reactor's redelivery floor: no input at or before it can be delivered again (-1: none yet). */
  readonly floor: number;
  /** A new id, for a command that needs one of its own (the deal a placement may open). */
  readonly freshId: string;
}

export interface Workflow<Input extends DomainEvent, State, Command, Fact extends DomainEvent = Input> {
  /** The process's name: its subscription's, and the one its steps are remembered under (domain/operation-memory.ts). */
  readonly name: string;
  /** The types of the events it reacts to. */
  readonly inputs: readonly Input['type'][];
  /** The instance an input belongs to (a deal, an order): one instance's inputs are decided in order, different ones independently; null: the input's stream. */
  instanceOf(input: Input): string | null;
  initialState(): State;
  evolve(state: State, fact: Fact): State;
  /** The stream whose events make the state `input` is decided on; null when the initial state will do. */
  stateStream(input: Input): string | null;
  decide(input: Input, state: State, step: WorkflowStep): Command[];
  /**
   * A command refused because the stream it needs does not exist yet: the command that
   * creates that stream, sent first before the command is sent again (absent, or null: the
   * refusal stands).
   */
  precondition?(command: Command, step: WorkflowStep): Command | null;
  /** Whether a command the rules refuse is an outcome of the process rather than a failure of its step (absent: never). */
  acceptsRefusal?(refusal: BusinessRuleViolation, command: Command): boolean;
}

/** A workflow that needs no state: each input alone says what to do. */
export const stateless = {
  initialState: (): null => null,
  evolve: (state: null): null => state,
  stateStream: (): null => null,
};
