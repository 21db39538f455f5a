/** The ordering projection: each user's plain orders with their status, and the revision of their order stream. */
import { orderingProjection } from '../../projections/ordering.js';
import { customerOrderCollections, customerOrders } from '../../projections/read-models/ordering.js';
import { describeProjection, documents, seqOf } from '../support/projection-spec.js';

describeProjection(orderingProjection, (spec) => {
  it('an order is created pending, then succeeds or fails; the stream revision is the ETag of the list', () =>
    spec
      .given(
        {
          stream: 'customer-orders-u1',
          type: 'OrderCreated',
          data: { userId: 'u1', orderId: 'o1', price: 700, at: '2026-03-01T10:00:00.000Z' },
        },
        {
          stream: 'customer-orders-u1',
          type: 'OrderCreated',
          data: { userId: 'u1', orderId: 'o2', price: 9_900, at: '2026-03-01T10:01:00.000Z' },
        },
        {
          stream: 'customer-orders-u1',
          type: 'OrderSucceeded',
          data: { userId: 'u1', orderId: 'o1', price: 700, at: '2026-03-01T10:02:00.000Z' },
        },
        {
          stream: 'customer-orders-u1',
          type: 'OrderFailed',
          data: {
            userId: 'u1',
            orderId: 'o2',
            price: 9_900,
            reason: 'insufficient_funds',
            at: '2026-03-01T10:03:00.000Z',
          },
        },
        {
          stream: 'customer-orders-u2',
          type: 'OrderCreated',
          data: { userId: 'u2', orderId: 'o3', price: 100, at: '2026-03-01T10:04:00.000Z' },
        },
      )
      .then(
        documents(customerOrders, [
          {
            id: 'o1',
            userId: 'u1',
            price: 700,
            status: 'succeeded',
            createdAt: '2026-03-01T10:00:00.000Z',
            updatedAt: '2026-03-01T10:02:00.000Z',
            seq: seqOf(0),
          },
          {
            id: 'o2',
            userId: 'u1',
            price: 9_900,
            status: 'failed',
            createdAt: '2026-03-01T10:01:00.000Z',
            updatedAt: '2026-03-01T10:03:00.000Z',
            seq: seqOf(1),
          },
          {
            id: 'o3',
            userId: 'u2',
            price: 100,
            status: 'pending',
            createdAt: '2026-03-01T10:04:00.000Z',
            updatedAt: '2026-03-01T10:04:00.000Z',
            seq: seqOf(4),
          },
        ]),
        documents(customerOrderCollections, [
          { id: 'u1', revision: 3 },
          { id: 'u2', revision: 0 },
        ]),
      ));
});
