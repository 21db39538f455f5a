/**
 * Events are kept forever, so an event type is not one shape but a history of shapes: each
 * version's schema, and a pure step (an *upcaster*) from each version to the next. What is
 * stored says which version it is (`schemaVersion` in its metadata; none: version 1); what
 * is read is turned into the current version step by step (v1 → v2 → v3) and checked, so a
 * decider, a projection or a process manager only ever sees the current shape.
 *
 * Why zod inside `domain/`: an event's shape is a business fact, and zod is a pure
 * validation library (no I/O, no globals it changes). Declaring the shape once, here, gives
 * the TypeScript types (`EventOf`), the checks on append and on read, the event catalogue
 * and the AsyncAPI document from one source, the way the HTTP schemas give the OpenAPI one.
 * Schemas hold no transforms: what is checked is exactly what is stored.
 */
import * as z from 'zod';
import type { DomainEvent } from './decider.js';

/** The schema of an event's data: a JSON object of exactly these fields. */
export type DataSchema = z.ZodType<object>;

/** One stored shape of an event type. */
export interface EventVersion {
  version: number;
  schema: DataSchema;
  /** How data of the version before becomes this version's (absent for version 1). Pure: data in, data out. */
  upcast?: (previous: never) => object;
  /** What changed from the version before, and why (for the catalogue and the AsyncAPI document). */
  change?: string;
}

/** An event type with every version of its data; the last version is what this build writes. */
export class EventType<Type extends string = string, Schema extends DataSchema = DataSchema> {
  private constructor(
    readonly type: Type,
    /** Oldest first. */
    readonly versions: readonly EventVersion[],
  ) {}

  /** Version 1 of an event type. */
  static first<Type extends string, Schema extends DataSchema>(type: Type, schema: Schema): EventType<Type, Schema> {
    return new EventType(type, [{ version: 1, schema }]);
  }

  /** The next version: what changed and why, its schema, and the pure step from the current version's data to it. */
  next<Next extends DataSchema>(
    change: string,
    schema: Next,
    upcast: (previous: z.output<Schema>) => z.output<Next>,
  ): EventType<Type, Next> {
    return new EventType(this.type, [...this.versions, { version: this.version + 1, schema, upcast, change }]);
  }

  /** The version this build writes. */
  get version(): number {
    return this.versions.length;
  }

  get schema(): Schema {
    // The last version's schema is `Schema` by construction (`first`/`next` are the only ways in).
    return this.versions[this.versions.length - 1]!.schema as Schema;
  }
}

/** The event an `EventType` describes, in its current version: `EventOf<typeof moneyDeposited>`. */
export type EventOf<T> = T extends EventType<infer Type, infer Schema> ? DomainEvent<Type, z.output<Schema>> : never;

/** What reading one stored event gave: its data as the current version, or why it cannot be read. */
export type ReadOutcome = { readable: true; data: object; upcast: boolean } | { readable: false; reason: string };

/**
 * Checks data against one version of an event type's schema: the fields that do not match
 * (`path: why`), or null when it matches. By default zod checks; infra may compile the same
 * schemas into something faster (infra/event-schemas/compiled-checks.ts).
 */
export type VersionCheck = (type: string, version: number, data: unknown) => string[] | null;

/** Every event type the system writes, by name: what checks appends and turns stored events into current ones. */
export class EventRegistry {
  private readonly types = new Map<string, EventType>();
  private readonly check: VersionCheck;

  constructor(types: Iterable<EventType>, check?: VersionCheck) {
    for (const type of types) {
      if (this.types.has(type.type)) throw new Error(`event type ${type.type} is declared twice`);
      this.types.set(type.type, type);
    }
    this.check =
      check ?? ((type, version, data) => zodProblems(this.types.get(type)!.versions[version - 1]!.schema, data));
  }

  /** The same event types, checked by `check` instead. */
  withChecks(check: VersionCheck): EventRegistry {
    return new EventRegistry(this.types.values(), check);
  }

  all(): EventType[] {
    return [...this.types.values()];
  }

  get(type: string): EventType | undefined {
    return this.types.get(type);
  }

  /** The version this build writes `type` at. */
  currentVersion(type: string): number | undefined {
    return this.types.get(type)?.version;
  }

  /** Why `data` is not a valid `type` event of the current version, or null when it is. */
  problemWith(type: string, data: unknown): string | null {
    const known = this.types.get(type);
    if (!known) return `${type} is not an event type of this system`;
    return this.problemsOf(type, known.version, data, () => `${type} version ${known.version}`);
  }

  /**
   * Stored data of `version` (none recorded: 1) as the current version: checked against its
   * own version's schema, upcast one version at a time, and checked against the current one.
   */
  read(type: string, version: unknown, data: unknown): ReadOutcome {
    const known = this.types.get(type);
    if (!known) return { readable: false, reason: `${type} is not an event type of this system` };
    const stored = version === undefined ? 1 : version;
    if (typeof stored !== 'number' || !Number.isInteger(stored) || stored < 1)
      return { readable: false, reason: `${type} has schema version ${JSON.stringify(version)}, not a version number` };
    if (stored > known.version)
      return {
        readable: false,
        reason: `${type} version ${stored} was written by a newer build (this one reads up to version ${known.version})`,
      };
    const asStored = this.problemsOf(type, stored, data, () => `${type} version ${stored}`);
    if (asStored) return { readable: false, reason: asStored };
    if (stored === known.version) return { readable: true, data: data as object, upcast: false };
    let current = data as object;
    for (const step of known.versions.slice(stored)) {
      try {
        // Each step takes the data of the version before, which was just checked or produced.
        current = (step.upcast as (previous: object) => object)(current);
      } catch (error) {
        return {
          readable: false,
          reason: `${type}: upcasting version ${step.version - 1} to ${step.version} failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }
    const upcast = this.problemsOf(
      type,
      known.version,
      current,
      () => `${type} version ${stored} upcast to version ${known.version}`,
    );
    return upcast ? { readable: false, reason: upcast } : { readable: true, data: current, upcast: true };
  }

  /** A short account of why `data` is not `version` of `type` (the first few fields), or null. `what` is only worded on failure: this runs for every event. */
  private problemsOf(type: string, version: number, data: unknown, what: () => string): string | null {
    const problems = this.check(type, version, data);
    return problems ? `${what()} does not match its schema: ${problems.slice(0, 3).join('; ')}` : null;
  }
}

function zodProblems(schema: DataSchema, data: unknown): string[] | null {
  const checked = schema.safeParse(data);
  if (checked.success) return null;
  return checked.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(data)'}: ${issue.message}`,
  );
}

// ---- Field schemas the events share ----------------------------------------------------
// Checks are kept to what zod does cheaply (types, integers, literals, exact fields): every
// event is checked on append and on each read, and a `.min()` or a format regex costs each
// field dearly (docs/PERFORMANCE.md, "Why the code is as it is", "Checking events").

/** Money: a whole number of cents (see money.ts). */
export const cents = z
  .int()
  .meta({ description: 'money, a whole number of cents (never a fraction: `1050` is 10.50)' });

/** A point in time: ISO 8601 in UTC, as `Date.toISOString` writes it (the format is documented, not checked: see above). */
export const instant = z
  .string()
  .meta({ format: 'date-time', description: 'ISO 8601 UTC time, e.g. `2026-11-21T10:00:00.000Z`' });

/** An id: text (uuids, name-based uuids, order ids naming their item). */
export const id = z.string();
