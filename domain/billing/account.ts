/**
 * A user's billing account. The balance never goes below zero: every debit is decided
 * against the state folded from the account's own stream and appended with that
 * stream's revision, so two debits can never both spend the same money.
 * Every operation carries an id chosen by whoever asks for it (a payment id, an
 * idempotency key…); an operation already on the account is not applied twice.
 */
import { BusinessRuleViolation, type Decider } from '../decider.js';
import { messages } from '../messages.js';
import type { Cents } from '../money.js';
import { accountSnapshot } from './account-snapshot.js';
import {
  forgetExpired,
  knowsOperation,
  noOperationIds,
  operationIdsSize,
  rememberOperation,
  type OperationIds,
  type OperationMemory,
} from '../operation-memory.js';
import type { AccountEvent, AccrualPurpose, CommissionSource, PaymentPurpose } from './events.js';

export interface AccountState {
  open: boolean;
  accountId: string | null;
  userId: string | null;
  balance: Cents;
  /** Ids of the operations a retry or a redelivery could still repeat: applying one again changes nothing. */
  operations: OperationIds;
}

/** Every money movement names its operation and how long that id must be remembered (absent: a day). */
interface Operation {
  operationId: string;
  amount: Cents;
  memory?: OperationMemory;
  at: string;
}

export type AccountCommand =
  | { type: 'OpenAccount'; accountId: string; userId: string; at: string }
  | ({ type: 'DepositMoney' } & Operation)
  | ({ type: 'WithdrawMoney' } & Operation)
  | ({ type: 'PayFromAccount'; purpose: PaymentPurpose } & Operation)
  | ({ type: 'ReceiveAccrual'; purpose: AccrualPurpose } & Operation)
  | ({ type: 'ReceiveCommission'; source: CommissionSource } & Operation);

/** An account command and the user whose account it is (its stream's key: the commands other than opening do not name it). */
export type AccountRequest = AccountCommand & { userId: string };

function initialState(): AccountState {
  return { open: false, accountId: null, userId: null, balance: 0, operations: noOperationIds };
}

function evolve(state: AccountState, event: AccountEvent): AccountState {
  if (event.type === 'AccountOpened') {
    return {
      ...state,
      open: true,
      accountId: event.data.accountId,
      userId: event.data.userId,
      operations: forgetExpired(state.operations, event.data.at),
    };
  }
  const operations = rememberOperation(state.operations, event.data.operationId, event.data.memory, event.data.at);
  return event.type === 'PaymentDeclined'
    ? { ...state, operations }
    : { ...state, balance: event.data.balance, operations };
}

function decide(command: AccountCommand, state: AccountState): AccountEvent[] {
  if (command.type === 'OpenAccount') {
    if (state.open)
      return state.userId === command.userId ? [] : refuse('account_already_open', messages.accountAlreadyOpen);
    return [{ type: 'AccountOpened', data: { accountId: command.accountId, userId: command.userId, at: command.at } }];
  }
  if (!state.open) return refuse('account_not_open', messages.accountNotOpen);
  if (command.amount <= 0 || !Number.isSafeInteger(command.amount)) {
    throw new RangeError(`an operation amount is a positive whole number of cents, got ${command.amount}`);
  }
  if (knowsOperation(state.operations, command.operationId, command.memory)) return [];
  const who = {
    accountId: state.accountId!,
    userId: state.userId!,
    operationId: command.operationId,
    amount: command.amount,
    ...memoryOf(command),
    at: command.at,
  };
  switch (command.type) {
    case 'DepositMoney':
      return [{ type: 'MoneyDeposited', data: { ...who, balance: state.balance + command.amount } }];
    case 'WithdrawMoney':
      if (command.amount > state.balance) return refuse('not_enough_money', messages.notEnoughMoney);
      return [{ type: 'MoneyWithdrawn', data: { ...who, balance: state.balance - command.amount } }];
    case 'PayFromAccount':
      // Not being able to pay is an outcome the deal reacts to, not an error.
      if (command.amount > state.balance) {
        return [{ type: 'PaymentDeclined', data: { ...who, reason: 'insufficient_funds', purpose: command.purpose } }];
      }
      return [
        { type: 'PaymentMade', data: { ...who, balance: state.balance - command.amount, purpose: command.purpose } },
      ];
    case 'ReceiveAccrual':
      return [
        {
          type: 'AccrualReceived',
          data: { ...who, balance: state.balance + command.amount, purpose: command.purpose },
        },
      ];
    case 'ReceiveCommission':
      return [
        {
          type: 'CommissionReceived',
          data: { ...who, balance: state.balance + command.amount, source: command.source },
        },
      ];
  }
}

/** The memory goes into the event only when given, so an event states exactly what its command said. */
function memoryOf(command: Operation): { memory?: OperationMemory } {
  return command.memory ? { memory: command.memory } : {};
}

function refuse(code: string, message: string): never {
  throw new BusinessRuleViolation(code, message);
}

export const account: Decider<AccountState, AccountCommand, AccountEvent> = {
  initialState,
  evolve,
  decide,
  snapshot: accountSnapshot,
  // An estimate of the bytes the folded state holds (docs/PERFORMANCE.md, "Why the code is as it is", "Stream-state weights").
  weigh: (state) => 400 + 110 * operationIdsSize(state.operations),
  // An operation the account still remembers: its retry (a keyed request whose answer was lost) changes nothing.
  isRepeat: (command, state) =>
    command.type !== 'OpenAccount' &&
    state.open &&
    knowsOperation(state.operations, command.operationId, command.memory),
};
