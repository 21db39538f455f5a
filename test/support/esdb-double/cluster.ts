/**
 * Cluster membership for doubles standing in for a cluster's nodes (they share one EventLog:
 * replication is instant). Gossip answers with every member; a follower refuses requests that
 * require the leader with NotLeader and the leader's address, and forwards writes that do not
 * (ClusterVNodeController.HandleAsNonLeader, DenyRequestBecauseNotLeader).
 */
import { randomUUID } from 'node:crypto';

export interface ClusterMember {
  instanceId: string;
  host: string;
  port: number;
}

export class DoubleCluster {
  readonly members: ClusterMember[] = [];
  private leaderId: string | undefined;

  join(host: string, port: number): ClusterMember {
    const member = { instanceId: randomUUID(), host, port };
    this.members.push(member);
    this.leaderId ??= member.instanceId;
    return member;
  }

  /** Makes the member listening on `port` the leader (an election's outcome). */
  promote(port: number): void {
    const member = this.members.find((candidate) => candidate.port === port);
    if (member === undefined) throw new Error(`no member on port ${port}`);
    this.leaderId = member.instanceId;
  }

  leader(): ClusterMember | undefined {
    return this.members.find((member) => member.instanceId === this.leaderId);
  }

  isLeader(member: ClusterMember): boolean {
    return member.instanceId === this.leaderId;
  }
}
