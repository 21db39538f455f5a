/**
 * One reactor for every workflow (domain/workflow.ts): given a workflow and a router over
 * the command tables its commands go to, it is the handler a runner feeds (`EventHandler`).
 *
 * For each input: the state the workflow names is loaded (its stream folded by that stream's
 * own decider: the cached state, the snapshots), the workflow decides, and the commands are
 * sent through their tables — all at once, started in the order decided, so that commands for
 * one stream queue in that order. Each carries the input's correlation id and names the input
 * as its cause. The reactor writes nothing of its own: the commands' events are its whole
 * effect. Since every command a workflow decides is harmless when repeated, an input handled
 * again (redelivered after a restart or a lease taken over, a parked event retried) changes
 * nothing more; the step's `cause` and `floor` let an account forget a step once no
 * redelivery can bring it back (domain/operation-memory.ts).
 */
import { BusinessRuleViolation, type DomainEvent } from '../../../domain/decider.js';
import type { Workflow, WorkflowStep } from '../../../domain/workflow.js';
import type { CommandRouter } from '../command-handling/command-router.js';
import {
  loadStream,
  StreamStateMismatch,
  type CommandEnvironment,
  type StreamDecider,
} from '../command-handling/handle-command.js';
import type { EventMetadata, RecordedEvent } from '../event-store/event-store.js';
import type { EventHandler, HandlingContext } from './event-handler.js';

export interface ReactorEnvironment extends CommandEnvironment {
  now(): Date;
}

export interface ReactorOptions<State, Command extends { type: string }> {
  /** Where each command the workflow decides is sent: the table that declares its type. */
  route: CommandRouter<Command>;
  /**
   * How the workflow's state is read from the stream it names (`Workflow.stateStream`): folded
   * by that stream's own decider — whose `evolve` the workflow's is — so the stream-state cache
   * and the snapshots serve it. Absent: the workflow needs no state.
   */
  state?: {
    decider: StreamDecider<State>;
    /**
     * The state is the cached one when there is one. `when-nothing-decided`: a cached state that
     * gives no commands may be behind the input (a deal opened since it was cached), so it is
     * brought up to date and decided on again. `never` (the default): the cached state will do
     * (what the workflow looks for stays once it is there).
     */
    reread?: 'never' | 'when-nothing-decided';
  };
}

/** The handler that runs `workflow`: its inputs' types are its subscription, its instances its partitions. */
export function workflowReactor<
  Input extends DomainEvent,
  State,
  Command extends { type: string },
  Fact extends DomainEvent,
>(
  env: ReactorEnvironment,
  workflow: Workflow<Input, State, Command, Fact>,
  options: ReactorOptions<State, Command>,
): EventHandler {
  const steps = new WorkflowSteps(env, workflow, options);
  return {
    name: workflow.name,
    kind: 'process-manager',
    filter: { eventTypePrefixes: [...workflow.inputs] },
    collections: [],
    partitionKey: (event) => {
      const input = steps.inputOf(event);
      return (input && workflow.instanceOf(input)) ?? event.streamId;
    },
    async handle(recorded, _view, context) {
      const input = steps.inputOf(recorded);
      if (!input) return [];
      const step = stepOf(env, recorded, context);
      const commands = await steps.decision(input, step);
      const metadata = causedBy(recorded);
      await Promise.all(commands.map((command) => steps.send(command, step, metadata)));
      return [];
    },
  };
}

/** What the reactor does for one workflow: recognize its inputs, decide on one, send what was decided. */
class WorkflowSteps<Input extends DomainEvent, State, Command extends { type: string }, Fact extends DomainEvent> {
  readonly #inputs: ReadonlySet<string>;

  constructor(
    private readonly env: ReactorEnvironment,
    private readonly workflow: Workflow<Input, State, Command, Fact>,
    private readonly options: ReactorOptions<State, Command>,
  ) {
    this.#inputs = new Set(workflow.inputs);
  }

  /** `recorded` as an input of the workflow, or null when the workflow does not react to its type. */
  inputOf(recorded: RecordedEvent): Input | null {
    // The store has checked the event against its type's schema and upcast it to the current
    // version (versioned-event-store.ts), so an event of an input's type has that input's shape.
    const event = { type: recorded.type, data: recorded.data };
    return this.#isInput(event) ? event : null;
  }

  #isInput(event: DomainEvent): event is Input {
    return this.#inputs.has(event.type);
  }

  /** What the workflow decides on `input`, given the state of the stream it names (read again fresh if asked). */
  async decision(input: Input, step: WorkflowStep): Promise<Command[]> {
    const { env, workflow } = this;
    const stream = workflow.stateStream(input);
    if (stream === null) return workflow.decide(input, workflow.initialState(), step);
    const source = this.options.state;
    if (!source) throw new Error(`${workflow.name} decides on the state of ${stream}, but was given no decider for it`);
    const commands = workflow.decide(input, (await loadStream(env, source.decider, stream, 'cached')).state, step);
    if (commands.length > 0 || source.reread !== 'when-nothing-decided') return commands;
    return workflow.decide(input, (await loadStream(env, source.decider, stream, 'fresh')).state, step);
  }

  /** Sends a command; a refusal the workflow takes as an outcome of the process is no failure of the step. */
  async send(command: Command, step: WorkflowStep, metadata: EventMetadata): Promise<void> {
    try {
      await this.#sendWithPrecondition(command, step, metadata);
    } catch (error) {
      if (error instanceof BusinessRuleViolation && this.workflow.acceptsRefusal?.(error, command)) return;
      throw error;
    }
  }

  /** Sends a command; one refused for want of its stream goes again after the command that creates it, if the workflow names one. */
  async #sendWithPrecondition(command: Command, step: WorkflowStep, metadata: EventMetadata): Promise<void> {
    const { env, options } = this;
    try {
      await options.route.send(env, command, { metadata });
    } catch (error) {
      const first = error instanceof StreamStateMismatch ? this.workflow.precondition?.(command, step) : null;
      if (!first) throw error;
      await options.route.send(env, first, { metadata });
      await options.route.send(env, command, { metadata });
    }
  }
}

/** The delivery of `recorded`: the time is read, and an id drawn, only if the decision asks for them. */
function stepOf(env: ReactorEnvironment, recorded: RecordedEvent, context: HandlingContext): WorkflowStep {
  let at: string | undefined;
  let freshId: string | undefined;
  return {
    cause: Number(recorded.position.commit),
    floor: context.redeliveryFloor,
    get at() {
      at ??= env.now().toISOString();
      return at;
    },
    get freshId() {
      freshId ??= env.newId();
      return freshId;
    },
  };
}

/** Events carry on the request's correlation id; the event itself is the cause of what follows. */
function causedBy(event: RecordedEvent): EventMetadata {
  return { correlationId: event.metadata.correlationId ?? event.id, causationId: event.id };
}
