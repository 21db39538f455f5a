/**
 * Snapshots of streams whose state holds a subject's personal data (a user's: email,
 * names, password hash), sealed with the subject's key like its events
 * (personal-data-event-store.ts). Once the subject is forgotten its snapshots read as none,
 * and the stream is folded from its events, which are redacted by then.
 */
import type { SnapshotStore } from '../event-store/snapshot-store.js';
import { newKey, open, seal } from './cipher.js';
import type { CachedKeys } from './keys.js';

/** The stored state of a sealed snapshot: `{"personalData": "<sealed state>"}`. */
const SEALED = 'personalData';

export function personalDataSnapshots(
  store: SnapshotStore,
  keys: CachedKeys,
  subjectOf: (streamId: string) => string | null,
): SnapshotStore {
  const associated = (streamId: string) => `snapshot\n${streamId}`;
  return {
    async read(streamId) {
      const snapshot = await store.read(streamId);
      const subject = subjectOf(streamId);
      if (!snapshot || !subject) return snapshot;
      const lookup = await keys.find(subject);
      const sealed = sealedState(snapshot.state);
      if (lookup.kind === 'forgotten') return null;
      if (sealed === null) return snapshot; // written before snapshots were sealed
      if (lookup.kind !== 'active') return null;
      const state = open(lookup.key, sealed, associated(streamId));
      return state === null ? null : { ...snapshot, state };
    },
    async write(snapshot) {
      const subject = subjectOf(snapshot.streamId);
      if (!subject) return store.write(snapshot);
      const lookup = await keys.obtain(subject, newKey);
      if (lookup.kind !== 'active') return; // nothing of a forgotten user is kept
      const state = JSON.stringify({ [SEALED]: seal(lookup.key, snapshot.state, associated(snapshot.streamId)) });
      return store.write({ ...snapshot, state });
    },
  };
}

function sealedState(state: string): string | null {
  if (!state.startsWith(`{"${SEALED}":`)) return null;
  try {
    const parsed = JSON.parse(state) as Record<string, unknown>;
    return typeof parsed[SEALED] === 'string' ? parsed[SEALED] : null;
  } catch {
    return null;
  }
}
