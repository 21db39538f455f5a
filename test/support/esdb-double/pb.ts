/**
 * The protobuf and gRPC modules the double speaks with.
 *
 * They are loaded from the client's own `generated/` folder through `require`, resolved from
 * the client's package: messages built from any other copy of these modules fail to serialize
 * on the client's side (`13 INTERNAL`), and in ESM the `*_pb.js` CommonJS modules only load
 * through a default import, which loses their types. `require` gives both the same module
 * instances the client uses and, with the type-only imports below, their declared types.
 */
import { createRequire } from 'node:module';

import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb.js';
import type * as CodePb from '@eventstore/db-client/generated/code_pb.js';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as ServerFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as GossipPb from '@eventstore/db-client/generated/gossip_pb.js';
import type * as GossipGrpc from '@eventstore/db-client/generated/gossip_grpc_pb.js';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb.js';
import type * as EmptyPb from 'google-protobuf/google/protobuf/empty_pb.js';

const requireHere = createRequire(import.meta.url);
// Resolving from the client's entry point finds exactly the files its own `require`s load.
const requireFromClient = createRequire(requireHere.resolve('@eventstore/db-client'));

export const streamsPb = requireFromClient('../generated/streams_pb.js') as typeof StreamsPb;
export const streamsGrpc = requireFromClient('../generated/streams_grpc_pb.js') as typeof StreamsGrpc;
export const sharedPb = requireFromClient('../generated/shared_pb.js') as typeof SharedPb;
export const statusPb = requireFromClient('../generated/status_pb.js') as typeof StatusPb;
export const codePb = requireFromClient('../generated/code_pb.js') as typeof CodePb;
export const serverFeaturesPb = requireFromClient('../generated/serverfeatures_pb.js') as typeof ServerFeaturesPb;
export const serverFeaturesGrpc = requireFromClient(
  '../generated/serverfeatures_grpc_pb.js',
) as typeof ServerFeaturesGrpc;
export const gossipPb = requireFromClient('../generated/gossip_pb.js') as typeof GossipPb;
export const gossipGrpc = requireFromClient('../generated/gossip_grpc_pb.js') as typeof GossipGrpc;
// google.rpc.Status packs its details in the well-known Any that status_pb.js itself requires.
export const anyPb = requireFromClient('google-protobuf/google/protobuf/any_pb.js') as typeof AnyPb;
// BatchAppend uses google.protobuf.Empty (not event_store.client.Empty) in its oneofs.
export const googleEmptyPb = requireFromClient('google-protobuf/google/protobuf/empty_pb.js') as typeof EmptyPb;

export type ReadReq = StreamsPb.ReadReq;
export type ReadResp = StreamsPb.ReadResp;
export type AppendReq = StreamsPb.AppendReq;
export type AppendResp = StreamsPb.AppendResp;
export type BatchAppendReq = StreamsPb.BatchAppendReq;
export type BatchAppendResp = StreamsPb.BatchAppendResp;
export type FilterOptions = StreamsPb.ReadReq.Options.FilterOptions;
export type Uuid = SharedPb.UUID;
export type RpcStatus = StatusPb.Status;
export type IStreamsServer = StreamsGrpc.IStreamsServer;
export type IServerFeaturesServer = ServerFeaturesGrpc.IServerFeaturesServer;
