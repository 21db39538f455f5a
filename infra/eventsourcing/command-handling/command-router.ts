/**
 * How a command finds its table: each declared table names its command types
 * (`declareCommands`), so a router over several tables sends a command through the one that
 * declares its type — the stream and the expected state are that table's. A process manager's
 * commands go to several aggregates (a deal's to accounts and a market); its router is made of
 * their tables, and a type declared by two of them is a mistake caught when it is made.
 */
import type { DomainEvent } from '../../../domain/decider.js';
import type { CommandEnvironment, CommandResult } from './handle-command.js';
import type { CommandOptions, CommandTable } from './command-table.js';

/** What a router needs of a table: the types it declares, and sending one of its commands. */
interface Routable<Command> {
  readonly commands: object;
  handle(
    env: CommandEnvironment,
    command: Command,
    options?: CommandOptions,
  ): Promise<CommandResult<unknown, DomainEvent>>;
}

export interface CommandRouter<Command extends { type: string }> {
  /** The command types it routes. */
  readonly types: readonly Command['type'][];
  /** Sends the command through the table that declares its type (see `CommandTable.handle`). */
  send(
    env: CommandEnvironment,
    command: Command,
    options?: CommandOptions,
  ): Promise<CommandResult<unknown, DomainEvent>>;
}

/** The commands a table takes. */
export type CommandOf<Table> = Table extends CommandTable<infer _State, infer Command, infer _Event> ? Command : never;

/** A router over these tables; throws if two of them declare the same command type. */
export function routeCommands<Tables extends readonly CommandTable<unknown, never, DomainEvent>[]>(
  ...tables: Tables
): CommandRouter<CommandOf<Tables[number]>> {
  type Command = CommandOf<Tables[number]>;
  const byType = new Map<string, Routable<Command>>();
  for (const table of tables) {
    for (const type of Object.keys(table.commands)) {
      if (byType.has(type)) throw new Error(`command type ${type} is declared by two tables`);
      byType.set(type, table);
    }
  }
  return {
    types: [...byType.keys()],
    // Async, so that an undeclared type is a rejection like any other; the table is still
    // called at once, so commands sent one after the other queue in that order.
    async send(env, command, options) {
      const table = byType.get(command.type);
      if (!table) throw new Error(`no table declares the command type ${command.type}`);
      return table.handle(env, command, options);
    },
  };
}
