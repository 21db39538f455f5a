/**
 * Given / when / then for workflows: given these events (folded into the workflow's state
 * with its own evolve), when this event, then these commands. The step — the time, the
 * input's place in the log, the redelivery floor, a fresh id — is `defaultStep` unless said.
 */
import { expect } from 'chai';
import { fold, type DomainEvent } from '../../domain/decider.js';
import type { Workflow, WorkflowStep } from '../../domain/workflow.js';

export const defaultStep: WorkflowStep = {
  at: '2026-11-21T12:00:00.000Z',
  cause: 120,
  floor: 100,
  freshId: 'fresh-1',
};

export function workflowSpecification<Input extends DomainEvent, State, Command, Fact extends DomainEvent>(
  workflow: Workflow<Input, State, Command, Fact>,
) {
  return {
    given(history: Fact[]) {
      return {
        when(input: Input, step: Partial<WorkflowStep> = {}) {
          const decide = () => workflow.decide(input, fold(workflow, history), { ...defaultStep, ...step });
          return {
            // biome-ignore lint/suspicious/noThenProperty: given/when/then is the specification's wording; the object is called, never awaited.
            then(expected: Command[]): void {
              expect(decide()).to.deep.equal(expected);
            },
          };
        },
      };
    },
  };
}
