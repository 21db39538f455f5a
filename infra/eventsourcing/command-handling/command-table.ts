/**
 * Commands declared once per aggregate, in the manner of Eventuous's command services
 * (`On<Command>().InState(...).GetStream(...)`): a table that says, for each command type
 * of a decider, the stream the command targets (a function of the command) and the state
 * that stream must be in (`new`, `existing` or `any`). Routes and process managers alike
 * send a command through its aggregate's table; the table runs it through `handleCommand`.
 *
 * The table names every command type of its decider (the compiler checks none is missing),
 * so a reader scans one place to see where each command goes.
 */
import type { Decider, DomainEvent } from '../../../domain/decider.js';
import type { EventMetadata } from '../event-store/event-store.js';
import {
  handleCommand,
  type CommandEnvironment,
  type CommandResult,
  type StreamExpectation,
} from './handle-command.js';

/** Where one command type goes: the stream it targets and the state it expects that stream in. */
export interface CommandDeclaration<Command> {
  expects: StreamExpectation;
  stream(command: Command): string;
}

/** One declaration for each command type. */
export type CommandDeclarations<Command extends { type: string }> = {
  readonly [Type in Command['type']]: CommandDeclaration<Extract<Command, { type: Type }>>;
};

/** What a sender adds to a command: the client's If-Match, the metadata the events carry. */
export interface CommandOptions {
  /** The stream revision the client based the command on (If-Match); -1 means "no stream". */
  expectedRevision?: number;
  metadata?: EventMetadata;
}

export interface CommandTable<State, Command extends { type: string }, Event extends DomainEvent> {
  readonly decider: Decider<State, Command, Event>;
  readonly commands: CommandDeclarations<Command>;
  /** The stream the command targets. */
  streamOf(command: Command): string;
  /** Decides the command on its stream, as declared (see `handleCommand`). */
  handle(env: CommandEnvironment, command: Command, options?: CommandOptions): Promise<CommandResult<State, Event>>;
}

/**
 * The table of a decider's commands. `Command` is what senders hand the table: the decider's
 * commands, with whatever a command needs to name its stream when the decider's own command
 * does not carry it (the decider ignores the extra fields). Written
 * `declareCommands<Command>()(decider, { ... })` so that the decider's state and event types
 * are inferred.
 */
export function declareCommands<Command extends { type: string }>() {
  return <State, Event extends DomainEvent>(
    decider: Decider<State, Command, Event>,
    commands: CommandDeclarations<Command>,
  ): CommandTable<State, Command, Event> => {
    const declarationOf = (command: Command): CommandDeclaration<Command> =>
      // The entry under a command's type is declared for commands of that type; the compiler
      // cannot follow that correlation through the mapped type, so it is stated here.
      commands[command.type as Command['type']] as CommandDeclaration<Command>;
    return {
      decider,
      commands,
      streamOf: (command) => declarationOf(command).stream(command),
      handle(env, command, options = {}) {
        const { expects, stream } = declarationOf(command);
        return handleCommand(env, {
          decider,
          streamId: stream(command),
          expects,
          command,
          expectedRevision: options.expectedRevision,
          metadata: options.metadata,
        });
      },
    };
  };
}
