import * as z from 'zod';
import { instant } from './event-schema.js';
import { json, sortedEntries } from './snapshot.js';
import { WindowMap } from './window-map.js';
import { msOf } from './time.js';

/**
 * How long an operation's id must be remembered so that a repeat of it changes nothing —
 * said by whoever asks for the operation, and recorded with its event.
 *
 * - A request's operation (a deposit with an idempotency key): `until` its retention ends.
 *   A retry of the same key can only come before then.
 * - A process manager's step (a deal's payment, an accrual, a commission): until that
 *   process manager's redelivery `floor` — the checkpoint it would restart from, held back
 *   by any event it parked — has passed the event that `cause`d the step. Only events after
 *   the floor can be handled again, so only their steps can be repeated. `cause` and
 *   `floor` are places in the log (the commit position: every event of one append shares
 *   it, which only makes the memory err on the side of remembering).
 *
 * Events written before this was recorded carry none: they are remembered for a day after
 * they happened, the retention the specification asks for.
 */
export const operationMemory = z
  .union([
    // The step of a process manager first: most operations are (a deal's payment, accrual, commissions).
    z.strictObject({
      process: z.string().meta({ description: 'the process manager that took the step' }),
      cause: z.number().meta({ description: 'commit position of the event that caused the step' }),
      floor: z
        .number()
        .meta({ description: "the process manager's redelivery floor when it took the step (-1: none yet)" }),
    }),
    z.strictObject({ until: instant.meta({ description: 'a retry of the request can come until then' }) }),
  ])
  .meta({
    description:
      "How long the operation id must be recognised: a process manager's step until its redelivery floor passes the cause, a request until its retention ends. Absent in events written before it existed: a day after `at`.",
  });
export type OperationMemory = z.infer<typeof operationMemory>;

export const LEGACY_MEMORY_MS = 24 * 60 * 60 * 1000;

/** A process manager's steps on one stream, and the floor it last reported. */
export interface StepMemory {
  process: string;
  floor: number;
  ids: WindowMap<string, true>;
}

/** The operation ids a stream must still recognise: requests' until their retention ends, steps' until their floor passes. */
export interface OperationIds {
  requested: WindowMap<string, true>;
  /** One entry per process manager that ever acted on the stream (a handful). */
  steps: readonly StepMemory[];
}

export const noOperationIds: OperationIds = { requested: WindowMap.empty(), steps: [] };

/** The memory of one process manager's steps, if it ever acted here. */
export function stepsOf(ids: OperationIds, process: string): StepMemory | undefined {
  return ids.steps.find((step) => step.process === process);
}

/** A step caused below its process manager's floor: nothing can tell any more whether it was applied. */
export class StepBelowFloor extends Error {
  override readonly name = 'StepBelowFloor';
  constructor(operationId: string, process: string, cause: number, floor: number) {
    super(
      `operation ${operationId} of ${process} was caused at ${cause}, before that process manager's redelivery floor ${floor}: whether it was applied can no longer be told`,
    );
  }
}

export function knowsOperation(ids: OperationIds, operationId: string, memory: OperationMemory | undefined): boolean {
  if (ids.requested.has(operationId)) return true;
  for (const step of ids.steps) if (step.ids.has(operationId)) return true;
  if (memory && 'process' in memory) {
    const known = stepsOf(ids, memory.process);
    if (known && memory.cause < known.floor)
      throw new StepBelowFloor(operationId, memory.process, memory.cause, known.floor);
  }
  return false;
}

/** `ids` after an operation recorded at `at` (an ISO time), forgetting what no retry can repeat any more. */
export function rememberOperation(
  ids: OperationIds,
  operationId: string,
  memory: OperationMemory | undefined,
  at: string,
): OperationIds {
  const now = msOf(at);
  if (memory && 'process' in memory) {
    const known = stepsOf(ids, memory.process) ?? {
      process: memory.process,
      floor: -1,
      ids: WindowMap.empty<string, true>(),
    };
    const floor = Math.max(known.floor, memory.floor);
    const updated: StepMemory = {
      process: memory.process,
      floor,
      ids: known.ids.add(operationId, true, memory.cause).forgetBefore(floor),
    };
    const steps = [...ids.steps.filter((step) => step !== known), updated];
    return { requested: ids.requested.forgetBefore(now), steps };
  }
  const until = memory ? msOf(memory.until) : now + LEGACY_MEMORY_MS;
  return { ...ids, requested: ids.requested.add(operationId, true, until).forgetBefore(now) };
}

/** Requests' ids whose retention has ended by `at` are let go (on events that record no operation). */
export function forgetExpired(ids: OperationIds, at: string): OperationIds {
  const requested = ids.requested.forgetBefore(msOf(at));
  return requested === ids.requested ? ids : { ...ids, requested };
}

export function operationIdsSize(ids: OperationIds): number {
  return ids.steps.reduce((size, step) => size + step.ids.size, ids.requested.size);
}

/** What a snapshot stores of the ids (see domain/snapshot.ts). */
export function encodeOperationIds(ids: OperationIds): unknown {
  const steps = sortedEntries(ids.steps.map((step): [string, StepMemory] => [step.process, step])).map(
    ([process, step]) => [process, { floor: step.floor, ids: step.ids.toJSON() }],
  );
  return { requested: ids.requested.toJSON(), steps };
}

export function decodeOperationIds(value: unknown, path: string): OperationIds {
  const o = json.object(value, path);
  const steps = json.entries(o.steps, `${path}.steps`, (step, p) => {
    const s = json.object(step, p);
    return {
      floor: json.number(s.floor, `${p}.floor`),
      ids: WindowMap.fromJSON(json.windowMap(s.ids, `${p}.ids`, json.yes)),
    };
  });
  return {
    requested: WindowMap.fromJSON(json.windowMap(o.requested, `${path}.requested`, json.yes)),
    steps: steps.map(([process, step]) => ({ process, ...step })),
  };
}
