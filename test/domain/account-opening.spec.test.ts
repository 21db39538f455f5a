import { expect } from 'chai';
import { accountOpening } from '../../domain/billing/account-opening.js';
import type { UserRegistered } from '../../domain/identity/events.js';
import { defaultStep, workflowSpecification } from '../support/workflow-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const { at: now } = defaultStep;
const accountIdOf = (userId: string) => `acc(${userId})`;

describe('account opening (workflow)', () => {
  const workflow = accountOpening(accountIdOf);
  const { given } = workflowSpecification(workflow);
  const registered: UserRegistered = {
    type: 'UserRegistered',
    data: {
      userId: 'u1',
      email: 'ann@x.io',
      passwordHash: 'h',
      role: 'trader',
      at,
      firstName: 'Ann',
      lastName: 'Lee',
      phone: null,
    },
  };

  it('UserRegistered: the user’s account is opened, its id following from the user’s', () => {
    given([])
      .when(registered)
      .then([{ type: 'OpenAccount', accountId: accountIdOf('u1'), userId: 'u1', at: now }]);
    expect(workflow.instanceOf(registered)).to.equal('u1');
  });
});
