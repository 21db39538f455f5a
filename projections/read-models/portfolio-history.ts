/** The portfolio history projection's collections: each holding's versions, and its latest one. */
import { collection } from '../../infra/eventsourcing/read-store/collection.js';

/** A holding as it was after an event that changed it, by `<userId>:<itemId>@<seq>`. */
export type HoldingVersionDoc = {
  id: string;
  userId: string;
  itemId: string;
  name: string;
  count: number;
  onSaleCount: number;
  /** The event's position (sortable). */
  seq: string;
  /** The event's time. */
  at: string;
};

/** The latest version of each holding, by `<userId>:<itemId>` (what the next version starts from). */
export type HoldingHeadDoc = {
  id: string;
  userId: string;
  itemId: string;
  name: string;
  count: number;
  onSaleCount: number;
};

export const holdingVersions = collection<HoldingVersionDoc>('holding_versions', [
  { equal: ['userId', 'itemId'], sort: ['seq'] },
  { equal: ['userId', 'itemId'], sort: ['at'] },
]);

export const holdingHeads = collection<HoldingHeadDoc>('holding_heads', [{ equal: ['userId'], sort: ['name'] }]);
