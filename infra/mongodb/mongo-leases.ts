import { MongoClient, type Collection } from 'mongodb';
import { isDuplicateKey } from './mongo-errors.js';
import type { LeaseRecord, LeaseStore } from '../eventsourcing/subscriptions/leases.js';

interface LeaseDoc {
  _id: string;
  holder: string | null;
  expiresAt: Date;
  handoverTo: string | null;
  handoverUntil: Date;
}

/**
 * Leases as documents, taken with one conditional upsert (no transaction needed): when the
 * condition fails on an existing lease the upsert collides on `_id`, which means "held by
 * someone else".
 */
export async function openMongoLeases(uri: string, dbName: string, now: () => number = Date.now): Promise<LeaseStore> {
  const client = await new MongoClient(uri).connect();
  const leases: Collection<LeaseDoc> = client.db(dbName).collection<LeaseDoc>('leases');

  return {
    async acquire(name, owner, ttlMs) {
      const t = new Date(now());
      try {
        await leases.updateOne(
          {
            _id: name,
            $and: [
              { $or: [{ holder: owner }, { holder: null }, { expiresAt: { $lt: t } }] },
              { $or: [{ handoverTo: null }, { handoverTo: owner }, { handoverUntil: { $lt: t } }] },
            ],
          },
          {
            $set: {
              holder: owner,
              expiresAt: new Date(t.getTime() + ttlMs),
              handoverTo: null,
              handoverUntil: new Date(0),
            },
          },
          { upsert: true },
        );
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async requestHandover(name, requester, ttlMs) {
      await leases.updateOne(
        { _id: name },
        {
          $set: { handoverTo: requester, handoverUntil: new Date(now() + ttlMs) },
          $setOnInsert: { holder: null, expiresAt: new Date(0) },
        },
        { upsert: true },
      );
    },
    async release(name, owner) {
      await leases.updateOne({ _id: name, holder: owner }, { $set: { holder: null, expiresAt: new Date(0) } });
    },
    async list(): Promise<LeaseRecord[]> {
      const t = now();
      const docs = await leases.find().sort({ _id: 1 }).toArray();
      return docs.map((d) => ({
        name: d._id,
        holder: d.expiresAt.getTime() >= t ? d.holder : null,
        expiresAt: d.expiresAt.getTime() > 0 ? d.expiresAt : null,
        handoverTo: d.handoverUntil.getTime() >= t ? d.handoverTo : null,
      }));
    },
    close: () => client.close(),
  };
}
