import { decodeOperationIds, encodeOperationIds } from '../operation-memory.js';
import { json, type SnapshotCodec } from '../snapshot.js';
import type { AccountState } from './account.js';

export const accountSnapshot: SnapshotCodec<AccountState> = {
  version: 1,
  encode: (state) => ({ ...state, operations: encodeOperationIds(state.operations) }),
  decode(value) {
    const o = json.object(value, 'account');
    return {
      open: json.boolean(o.open, 'open'),
      accountId: json.nullableString(o.accountId, 'accountId'),
      userId: json.nullableString(o.userId, 'userId'),
      balance: json.integer(o.balance, 'balance'),
      operations: decodeOperationIds(o.operations, 'operations'),
    };
  },
};
