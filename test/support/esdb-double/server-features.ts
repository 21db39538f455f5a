/**
 * ServerFeatures.GetSupportedMethods, after the server's ServerFeatures.cs: the gRPC methods it
 * serves, lower-cased, with their feature flags. The client uses BatchAppend only when
 * `/event_store.client.streams.streams/batchappend` is listed, so leaving it out (the
 * `batchAppend: false` option) drives the client down its plain Append path.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';

import { serverFeaturesPb, type sharedPb } from './pb.js';

/** A version whose client protocol matches what the double reproduces. */
export const SERVER_VERSION = '24.10.0';

export function getSupportedMethodsHandler(options: { batchAppend: boolean }) {
  const streams = 'event_store.client.streams.streams';
  const methods: Array<{ service: string; method: string; features: string[] }> = [
    { service: streams, method: 'read', features: ['position', 'events'] },
    { service: streams, method: 'append', features: [] },
  ];
  // The real server flags BatchAppend "deadline_duration"; the 6.2.1 client ignores features
  // and sends an absolute deadline, which batch-append.ts reads.
  if (options.batchAppend) methods.push({ service: streams, method: 'batchappend', features: ['deadline_duration'] });
  methods.push({
    service: 'event_store.client.server_features.serverfeatures',
    method: 'getsupportedmethods',
    features: [],
  });

  return (
    _call: ServerUnaryCall<InstanceType<typeof sharedPb.Empty>, InstanceType<typeof serverFeaturesPb.SupportedMethods>>,
    callback: sendUnaryData<InstanceType<typeof serverFeaturesPb.SupportedMethods>>,
  ): void => {
    const response = new serverFeaturesPb.SupportedMethods().setEventStoreServerVersion(SERVER_VERSION);
    for (const { service, method, features } of methods) {
      response.addMethods(
        new serverFeaturesPb.SupportedMethod().setServiceName(service).setMethodName(method).setFeaturesList(features),
      );
    }
    callback(null, response);
  };
}
