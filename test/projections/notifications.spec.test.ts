/** The notifications projection: letters, written to the name the recipient had when the letter was. */
import { notificationsProjection } from '../../projections/notifications.js';
import {
  letterCounts,
  letterIndex,
  notifications,
  orderUpdates,
  recipients,
  unreadCounts,
} from '../../projections/read-models/notifications.js';
import { describeProjection, documents, seqOf, type GivenEvent } from '../support/projection-spec.js';

function registered(userId: string, firstName: string, lastName: string): GivenEvent {
  return {
    stream: `user-${userId}`,
    type: 'UserRegistered',
    data: {
      userId,
      email: `${userId}@example.test`,
      passwordHash: 'hash',
      role: 'trader',
      firstName,
      lastName,
      phone: null,
      at: '2026-03-01T09:00:00.000Z',
    },
  };
}

const terms = {
  dealId: 'd1',
  itemId: 'i1',
  itemName: 'Lamp',
  purchaseOrderId: 'i1.o1',
  sellOrderId: 'i1.o2',
  buyerId: 'u1',
  sellerId: 'u2',
  brokerId: 'b',
  price: 1_000,
  buyerCommission: 50,
  sellerCommission: 20,
};

describeProjection(notificationsProjection, (spec) => {
  it('a completed deal writes to the seller and to the buyer; a failed one to the buyer, by their name of the time', () =>
    spec
      .given(
        registered('u1', 'Ann', 'Lee'),
        registered('u2', 'Bob', 'Ray'),
        { stream: 'market-i1', type: 'DealCompleted', data: { ...terms, at: '2026-03-01T10:00:00.000Z' } },
        {
          stream: 'user-u1',
          type: 'UserProfileUpdated',
          data: { userId: 'u1', firstName: 'Anne', lastName: 'Lee', phone: null, at: '2026-03-01T11:00:00.000Z' },
        },
        {
          stream: 'market-i1',
          type: 'DealFailed',
          data: {
            itemId: 'i1',
            itemName: 'Lamp',
            dealId: 'd2',
            purchaseOrderId: 'i1.o3',
            sellOrderId: 'i1.o4',
            buyerId: 'u1',
            price: 2_500,
            reason: 'insufficient_funds',
            at: '2026-03-01T12:00:00.000Z',
          },
        },
      )
      .then(
        documents(recipients, [
          { id: 'u1', firstName: 'Anne', lastName: 'Lee' },
          { id: 'u2', firstName: 'Bob', lastName: 'Ray' },
        ]),
        documents(letterCounts, [
          { id: 'u1', letters: 2 },
          { id: 'u2', letters: 1 },
        ]),
        documents(letterIndex, [
          { id: 'u1:0', letterId: 'e3:buyer' },
          { id: 'u1:1', letterId: 'e5:buyer' },
          { id: 'u2:0', letterId: 'e3:seller' },
        ]),
        documents(notifications, [
          {
            id: 'e3:seller',
            userId: 'u2',
            message:
              'Dear, Bob Ray! You have successfully sold item "Lamp" for 10.00$ (commission 0.20$) on the marketplace.',
            createdAt: '2026-03-01T10:00:00.000Z',
            seq: seqOf(2),
          },
          {
            id: 'e3:buyer',
            userId: 'u1',
            message:
              'Dear, Ann Lee! You have successfully bought item "Lamp" for 10.00$ (commission 0.50$) on the marketplace.',
            createdAt: '2026-03-01T10:00:00.000Z',
            seq: seqOf(2),
          },
          {
            id: 'e5:buyer',
            userId: 'u1',
            message:
              'Dear, Anne Lee! Your purchase of item "Lamp" for 25.00$ was not completed due to: not enough money.',
            createdAt: '2026-03-01T12:00:00.000Z',
            seq: seqOf(4),
          },
        ]),
        documents(unreadCounts, [
          { id: 'u1', unread: 2 },
          { id: 'u2', unread: 1 },
        ]),
        documents(orderUpdates, [
          {
            id: 'e3:i1.o1',
            userId: 'u1',
            orderId: 'i1.o1',
            side: 'purchase',
            itemId: 'i1',
            status: 'approved',
            dealId: 'd1',
            price: 1_000,
            reason: null,
            at: '2026-03-01T10:00:00.000Z',
            seq: seqOf(2),
          },
          {
            id: 'e3:i1.o2',
            userId: 'u2',
            orderId: 'i1.o2',
            side: 'sell',
            itemId: 'i1',
            status: 'approved',
            dealId: 'd1',
            price: 1_000,
            reason: null,
            at: '2026-03-01T10:00:00.000Z',
            seq: seqOf(2),
          },
          {
            id: 'e5:i1.o3',
            userId: 'u1',
            orderId: 'i1.o3',
            side: 'purchase',
            itemId: 'i1',
            status: 'paymentFailed',
            dealId: 'd2',
            price: 2_500,
            reason: 'insufficient_funds',
            at: '2026-03-01T12:00:00.000Z',
            seq: seqOf(4),
          },
        ]),
      ));

  it("a plain order's outcome is written to its customer", () =>
    spec
      .given(
        registered('u1', 'Ann', 'Lee'),
        {
          stream: 'customer-orders-u1',
          type: 'OrderCreated',
          data: { userId: 'u1', orderId: 'o1', price: 700, at: '2026-03-01T10:00:00.000Z' },
        },
        {
          stream: 'customer-orders-u1',
          type: 'OrderSucceeded',
          data: { userId: 'u1', orderId: 'o1', price: 700, at: '2026-03-01T10:01:00.000Z' },
        },
        {
          stream: 'customer-orders-u1',
          type: 'OrderFailed',
          data: {
            userId: 'u1',
            orderId: 'o2',
            price: 9_900,
            reason: 'insufficient_funds',
            at: '2026-03-01T10:02:00.000Z',
          },
        },
      )
      .then(
        documents(recipients, [{ id: 'u1', firstName: 'Ann', lastName: 'Lee' }]),
        documents(letterCounts, [{ id: 'u1', letters: 2 }]),
        documents(letterIndex, [
          { id: 'u1:0', letterId: 'e3:customer' },
          { id: 'u1:1', letterId: 'e4:customer' },
        ]),
        documents(notifications, [
          {
            id: 'e3:customer',
            userId: 'u1',
            message: 'Dear, Ann Lee! Your order for 7.00$ has been successfully processed.',
            createdAt: '2026-03-01T10:01:00.000Z',
            seq: seqOf(2),
          },
          {
            id: 'e4:customer',
            userId: 'u1',
            message: 'Dear, Ann Lee! Your order for 99.00$ was not fulfilled due to: not enough money.',
            createdAt: '2026-03-01T10:02:00.000Z',
            seq: seqOf(3),
          },
        ]),
        documents(unreadCounts, [{ id: 'u1', unread: 2 }]),
      ));

  it("a letter its user marks read is read and no longer counted; anyone else's mark, or a second one, changes nothing", () =>
    spec
      .given(
        registered('u1', 'Ann', 'Lee'),
        {
          stream: 'customer-orders-u1',
          type: 'OrderSucceeded',
          data: { userId: 'u1', orderId: 'o1', price: 700, at: '2026-03-01T10:01:00.000Z' },
        },
        read('u2', 'e2:customer', '2026-03-01T10:02:00.000Z'),
        read('u1', 'e2:customer', '2026-03-01T10:03:00.000Z'),
        read('u1', 'e2:customer', '2026-03-01T10:04:00.000Z'),
        read('u1', 'nothing:customer', '2026-03-01T10:05:00.000Z'),
      )
      .then(
        documents(recipients, [{ id: 'u1', firstName: 'Ann', lastName: 'Lee' }]),
        documents(notifications, [
          {
            id: 'e2:customer',
            userId: 'u1',
            message: 'Dear, Ann Lee! Your order for 7.00$ has been successfully processed.',
            createdAt: '2026-03-01T10:01:00.000Z',
            seq: seqOf(1),
            readAt: '2026-03-01T10:03:00.000Z',
          },
        ]),
        documents(unreadCounts, [{ id: 'u1', unread: 0 }]),
        documents(letterCounts, [{ id: 'u1', letters: 1 }]),
        documents(letterIndex, [{ id: 'u1:0', letterId: 'e2:customer' }]),
      ));

  it('a deal opened is each side’s order matched; a cancel is the owner’s order canceled', () =>
    spec
      .given(
        { stream: 'market-i1', type: 'DealOpened', data: { ...terms, at: '2026-03-01T10:00:00.000Z' } },
        {
          stream: 'market-i1',
          type: 'OrderCanceled',
          data: { itemId: 'i1', orderId: 'i1.o9', side: 'sell', ownerId: 'u2', at: '2026-03-01T10:01:00.000Z' },
        },
      )
      .then(
        documents(orderUpdates, [
          {
            id: 'e1:i1.o1',
            userId: 'u1',
            orderId: 'i1.o1',
            side: 'purchase',
            itemId: 'i1',
            status: 'paymentPending',
            dealId: 'd1',
            price: 1_000,
            reason: null,
            at: '2026-03-01T10:00:00.000Z',
            seq: seqOf(0),
          },
          {
            id: 'e1:i1.o2',
            userId: 'u2',
            orderId: 'i1.o2',
            side: 'sell',
            itemId: 'i1',
            status: 'dealPending',
            dealId: 'd1',
            price: 1_000,
            reason: null,
            at: '2026-03-01T10:00:00.000Z',
            seq: seqOf(0),
          },
          {
            id: 'e2:i1.o9',
            userId: 'u2',
            orderId: 'i1.o9',
            side: 'sell',
            itemId: 'i1',
            status: 'canceled',
            dealId: null,
            price: null,
            reason: null,
            at: '2026-03-01T10:01:00.000Z',
            seq: seqOf(1),
          },
        ]),
      ));
});

function read(userId: string, notificationId: string, at: string): GivenEvent {
  return { stream: `inbox-${userId}`, type: 'NotificationRead', data: { userId, notificationId, at } };
}
