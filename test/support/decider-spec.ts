/**
 * Given / when / then for deciders: given these past events, when this command, then
 * these new events (or this refusal). The state is folded with the decider's own evolve.
 */
import { expect } from 'chai';
import { BusinessRuleViolation, fold, type Decider, type DomainEvent } from '../../domain/decider.js';

export function specification<State, Command, Event extends DomainEvent>(decider: Decider<State, Command, Event>) {
  return {
    given(history: Event[]) {
      return {
        when(command: Command) {
          const decide = () => decider.decide(command, fold(decider, history));
          return {
            // biome-ignore lint/suspicious/noThenProperty: given/when/then is the specification's wording; the object is called, never awaited.
            then(expected: Event[]): void {
              expect(decide()).to.deep.equal(expected);
            },
            thenRefused(code: string, message?: string): void {
              let error: unknown;
              try {
                decide();
              } catch (e) {
                error = e;
              }
              expect(error, 'expected the command to be refused').to.be.instanceOf(BusinessRuleViolation);
              expect((error as BusinessRuleViolation).code).to.equal(code);
              if (message !== undefined) expect((error as BusinessRuleViolation).message).to.equal(message);
            },
          };
        },
      };
    },
  };
}
