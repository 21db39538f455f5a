/**
 * Every command of this product, declared once per aggregate: the stream it targets and the
 * state it expects that stream in (`new`: must not exist yet; `existing`: must exist, else
 * `StreamStateMismatch`; `any`). The routes' handlers and the process managers send their
 * commands through these tables (`accountCommands.handle(env, command, { metadata })`), never
 * to a stream of their own choosing; a process manager's router is made of the tables its
 * commands go to (`routeCommands`).
 */
import { account, type AccountRequest } from '../domain/billing/account.js';
import { accountStream } from '../domain/billing/events.js';
import { access, type AccessCommand } from '../domain/identity/blocking.js';
import { accessStream, brokerStream } from '../domain/identity/admin-events.js';
import { brokerOffice, type BrokerOfficeCommand } from '../domain/identity/broker-appointment.js';
import { emailClaim, type EmailClaimCommand } from '../domain/identity/email-claim.js';
import { emailStream, userStream } from '../domain/identity/events.js';
import { user, type UserCommand } from '../domain/identity/user.js';
import { repairsStream } from '../domain/operations/events.js';
import { repairs, type RepairCommand } from '../domain/operations/repairs.js';
import { inbox, type InboxCommand } from '../domain/notifications/inbox.js';
import { inboxStream } from '../domain/notifications/events.js';
import { customerOrders, type CustomerOrdersCommand } from '../domain/ordering/customer-orders.js';
import { customerOrdersStream } from '../domain/ordering/events.js';
import { marketStream, traderOrdersStream } from '../domain/trading/events.js';
import { market, type MarketRequest } from '../domain/trading/market.js';
import { traderOrders, type TraderOrdersCommand } from '../domain/trading/trader-orders.js';
import { declareCommands } from '../infra/eventsourcing/command-handling/command-table.js';

/**
 * A user's account: opened by the account-opening process manager, or on the first settlement
 * that needs it. Its commands carry the user (`AccountRequest`, beside the decider in domain/).
 */
export const accountCommands = declareCommands<AccountRequest>()(account, {
  OpenAccount: { expects: 'any', stream: (c) => accountStream(c.userId) },
  DepositMoney: { expects: 'existing', stream: (c) => accountStream(c.userId) },
  WithdrawMoney: { expects: 'existing', stream: (c) => accountStream(c.userId) },
  PayFromAccount: { expects: 'existing', stream: (c) => accountStream(c.userId) },
  ReceiveAccrual: { expects: 'existing', stream: (c) => accountStream(c.userId) },
  ReceiveCommission: { expects: 'existing', stream: (c) => accountStream(c.userId) },
});

/** An item's market: listing it twice lists it once; every other command needs it listed. Its commands carry the item (`MarketRequest`). */
export const marketCommands = declareCommands<MarketRequest>()(market, {
  ListItem: { expects: 'any', stream: (c) => marketStream(c.itemId) },
  PlacePurchaseOrder: { expects: 'existing', stream: (c) => marketStream(c.itemId) },
  PlaceSellOrder: { expects: 'existing', stream: (c) => marketStream(c.itemId) },
  CancelOrder: { expects: 'existing', stream: (c) => marketStream(c.itemId) },
  MarkDealPaid: { expects: 'existing', stream: (c) => marketStream(c.itemId) },
  FailDeal: { expects: 'existing', stream: (c) => marketStream(c.itemId) },
  CompleteDeal: { expects: 'existing', stream: (c) => marketStream(c.itemId) },
});

/** A trader's own record of their placements (its revision is their orders' ETag). */
export const traderOrdersCommands = declareCommands<TraderOrdersCommand>()(traderOrders, {
  SubmitOrder: { expects: 'any', stream: (c) => traderOrdersStream(c.userId) },
  RejectOrder: { expects: 'existing', stream: (c) => traderOrdersStream(c.userId) },
});

/** A customer's plain orders, settled by the order-payment process manager. */
export const customerOrdersCommands = declareCommands<CustomerOrdersCommand>()(customerOrders, {
  CreateOrder: { expects: 'any', stream: (c) => customerOrdersStream(c.userId) },
  MarkOrderPaid: { expects: 'existing', stream: (c) => customerOrdersStream(c.userId) },
  MarkOrderUnpaid: { expects: 'existing', stream: (c) => customerOrdersStream(c.userId) },
});

/** A user command and its user (only registration names it in the user's own commands). */
export type UserRequest = UserCommand & { userId: string };

/** A user: registered once, after the email address is claimed for them. */
export const userCommands = declareCommands<UserRequest>()(user, {
  RegisterUser: { expects: 'new', stream: (c) => userStream(c.userId) },
  UpdateProfile: { expects: 'existing', stream: (c) => userStream(c.userId) },
  ChangePassword: { expects: 'existing', stream: (c) => userStream(c.userId) },
  RehashPassword: { expects: 'existing', stream: (c) => userStream(c.userId) },
  ChangeRole: { expects: 'existing', stream: (c) => userStream(c.userId) },
  LogOut: { expects: 'existing', stream: (c) => userStream(c.userId) },
  SignOutEverywhere: { expects: 'existing', stream: (c) => userStream(c.userId) },
  Forget: { expects: 'existing', stream: (c) => userStream(c.userId) },
});

/** An email claim command and the claim key naming its stream (a keyed hash of the address, made outside the domain). */
export type EmailClaimRequest = EmailClaimCommand & { claimKey: string };

/**
 * An email address: claimed when the stream is new (decided without reading it: the append
 * itself is refused when the address is taken); an abandoned claim is taken over where it
 * is, a released one claimed again where it is.
 */
export const emailClaimCommands = declareCommands<EmailClaimRequest>()(emailClaim, {
  ClaimEmail: { expects: 'new', stream: (c) => emailStream(c.claimKey) },
  TakeOverClaim: { expects: 'existing', stream: (c) => emailStream(c.claimKey) },
  ClaimReleased: { expects: 'existing', stream: (c) => emailStream(c.claimKey) },
  ReleaseClaim: { expects: 'existing', stream: (c) => emailStream(c.claimKey) },
});

/** The one broker: appointed in the one stream of appointments. */
export const brokerOfficeCommands = declareCommands<BrokerOfficeCommand>()(brokerOffice, {
  AppointBroker: { expects: 'any', stream: () => brokerStream() },
});

/** A user's access, blocked and unblocked by administrators (a stream beside the user's). */
export const accessCommands = declareCommands<AccessCommand>()(access, {
  BlockUser: { expects: 'any', stream: (c) => accessStream(c.userId) },
  UnblockUser: { expects: 'any', stream: (c) => accessStream(c.userId) },
});

/** The operator's repairs of a projection or process manager (`npm run cli -- parked skip`). */
export const repairCommands = declareCommands<RepairCommand>()(repairs, {
  SkipParkedEvent: { expects: 'any', stream: (c) => repairsStream(c.subscription) },
});

/** A user's inbox: the letters they marked read. */
export const inboxCommands = declareCommands<InboxCommand>()(inbox, {
  MarkNotificationRead: { expects: 'any', stream: (c) => inboxStream(c.userId) },
});
