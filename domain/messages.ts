/** The texts users read when a business rule refuses a command: written once, here (exact where the specification quotes them). */
import type { FailureReason } from './billing/events.js';
export const messages = {
  notFound: 'Not found',
  operationDenied: 'Operation denied',
  notEnoughMoney: 'Not enough money on the account',
  accountNotOpen: 'The billing account does not exist',
  accountAlreadyOpen: 'The billing account already exists',
  emailTaken: (email: string) => `user with email "${email}" already exists`,
  userAlreadyRegistered: 'The user is already registered',
  wrongCredentials: 'email or password is incorrect',
  wrongPassword: 'the password is incorrect',
  accountNotEmpty: 'the account cannot be deleted while its balance is not zero: withdraw the money first',
  openOrders: 'the account cannot be deleted while it has open orders: cancel them or wait until they are settled',
  brokerCannotLeave: 'the broker account cannot be deleted: appoint another broker first',
  paymentDeclinedNotEnoughMoney: 'not enough money',
  itemDoesNotExist: 'trading item does not exist',
  noItemsForSale: 'no trading items for sale',
  cannotCancel: 'cannot cancel order',
  orderExpired: 'the order was submitted too long ago to be placed now; see your orders for what became of it',
  dealNotPaid: 'the deal has not been paid yet',
  brokerInOffice:
    'the marketplace keeps exactly one broker: appoint another broker instead (users grant <email> broker)',
  brokerCannotBeAdmin: 'the broker cannot be an admin too: appoint another broker first',
  adminCannotBeBroker: 'an admin cannot be the broker: revoke the admin role first',
  cannotBlockYourself: 'an admin cannot block themselves',
} as const;

/** A failure reason's code (events carry the code), in the words users read: in letters and on a failed order. */
export const failureReasonWords: Readonly<Record<FailureReason, string>> = {
  insufficient_funds: messages.paymentDeclinedNotEnoughMoney,
};
