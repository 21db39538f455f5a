/**
 * Checks every Streams call makes before its handler runs: requests the double does not model
 * are refused (never silently served), and a follower refuses requests that require the leader.
 */
import type { Metadata, ServerErrorResponse } from '@grpc/grpc-js';

import type { DoubleContext } from './context.js';
import { notLeader, unimplemented } from './errors.js';

/** The refusal for this call, or undefined when the double may serve it. */
export function refusal(context: DoubleContext, metadata: Metadata): ServerErrorResponse | undefined {
  // An insecure server ignores credentials; the double cannot tell what a secure one would allow.
  if (metadata.get('authorization').length > 0) return unimplemented('credentials (authentication and ACLs)');
  const { node } = context;
  if (node === undefined || node.cluster.isLeader(node.member)) return undefined;
  if (metadata.get('requires-leader')[0] !== 'true') return undefined;
  const leader = node.cluster.leader();
  return leader === undefined ? unimplemented('a cluster without a leader') : notLeader(leader.host, leader.port);
}
