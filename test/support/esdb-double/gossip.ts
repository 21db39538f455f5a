/**
 * Gossip.Read, after the server's Gossip.Read.cs: the cluster's members with their state and
 * HTTP endpoint, which the client's discovery (`esdb+discover://`) chooses a node from.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';

import type { DoubleCluster } from './cluster.js';
import { gossipPb, sharedPb } from './pb.js';

type ClusterInfo = InstanceType<typeof gossipPb.ClusterInfo>;

export function gossipReadHandler(cluster: DoubleCluster) {
  const { VNodeState } = gossipPb.MemberInfo;
  return (
    _call: ServerUnaryCall<InstanceType<typeof sharedPb.Empty>, ClusterInfo>,
    callback: sendUnaryData<ClusterInfo>,
  ): void => {
    const members = cluster.members.map((member) =>
      new gossipPb.MemberInfo()
        .setInstanceId(new sharedPb.UUID().setString(member.instanceId))
        .setTimeStamp(String(BigInt(Date.now()) * 10_000n))
        .setState(cluster.isLeader(member) ? VNodeState.LEADER : VNodeState.FOLLOWER)
        .setIsAlive(true)
        .setHttpEndPoint(new gossipPb.EndPoint().setAddress(member.host).setPort(member.port)),
    );
    callback(null, new gossipPb.ClusterInfo().setMembersList(members));
  };
}
