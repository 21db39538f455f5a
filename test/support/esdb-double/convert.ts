/** Conversions between the wire messages and the log's records. */
import { sharedPb, streamsPb, type ReadResp, type Uuid } from './pb.js';
import type { ProposedEvent, RecordedEvent } from './store.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The server parses ids into a Guid; we keep its canonical lower-case string form. */
export function uuidToString(uuid: Uuid | undefined): string {
  if (uuid === undefined) throw new Error('event id missing');
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured()!;
    const most = BigInt.asUintN(64, BigInt(structured.getMostSignificantBits()));
    const least = BigInt.asUintN(64, BigInt(structured.getLeastSignificantBits()));
    const hex = most.toString(16).padStart(16, '0') + least.toString(16).padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const text = uuid
    .getString()
    .trim()
    .toLowerCase()
    .replace(/^\{(.*)\}$/, '$1');
  if (!UUID_PATTERN.test(text)) throw new Error(`'${uuid.getString()}' is not a valid UUID`);
  return text;
}

function uuidMessage(id: string, structured: boolean): Uuid {
  const uuid = new sharedPb.UUID();
  if (!structured) return uuid.setString(id);
  const hex = id.replaceAll('-', '');
  const parts = new sharedPb.UUID.Structured()
    .setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString())
    .setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
  return uuid.setStructured(parts);
}

export function streamIdentifier(streamId: string): InstanceType<typeof sharedPb.StreamIdentifier> {
  return new sharedPb.StreamIdentifier().setStreamName(Buffer.from(streamId, 'utf8'));
}

export function streamName(identifier: InstanceType<typeof sharedPb.StreamIdentifier> | undefined): string {
  if (identifier === undefined) throw new Error('stream identifier missing');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

/** The parts of Append's and BatchAppend's ProposedMessage that the log keeps. */
interface ProposedMessageLike {
  getId(): Uuid | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

export const REQUIRED_METADATA = ['type', 'content-type'] as const;

/** Returns the name of a missing required metadata key instead of an event when one is absent. */
export function toProposedEvent(message: ProposedMessageLike): ProposedEvent | { missing: string } {
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  if (type === undefined) return { missing: 'type' };
  const contentType = metadata.get('content-type');
  if (contentType === undefined) return { missing: 'content-type' };
  return {
    id: uuidToString(message.getId()),
    type,
    contentType,
    // Copies: the message's buffers belong to the decoder.
    data: Uint8Array.from(message.getData_asU8()),
    metadata: Uint8Array.from(message.getCustomMetadata_asU8()),
  };
}

/**
 * A recorded event as the server sends it. The record itself always carries its position;
 * the ReadEvent's own commit position is set only for reads and subscriptions of `$all`
 * (stream reads resolve events without an "original position" and send `no_position`).
 */
export function toReadEvent(
  event: RecordedEvent,
  options: { structuredIds: boolean; withOriginalPosition: boolean },
): InstanceType<typeof streamsPb.ReadResp.ReadEvent> {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent()
    .setId(uuidMessage(event.id, options.structuredIds))
    .setStreamIdentifier(streamIdentifier(event.streamId))
    .setStreamRevision(String(event.revision))
    .setCommitPosition(event.position.toString())
    .setPreparePosition(event.position.toString())
    .setData(event.data)
    .setCustomMetadata(event.metadata);
  recorded
    .getMetadataMap()
    .set('type', event.type)
    .set('created', event.created.toString())
    .set('content-type', event.isJson ? 'application/json' : 'application/octet-stream');

  const readEvent = new streamsPb.ReadResp.ReadEvent().setEvent(recorded);
  if (options.withOriginalPosition) readEvent.setCommitPosition(event.position.toString());
  else readEvent.setNoPosition(new sharedPb.Empty());
  return readEvent;
}

export function eventResponse(
  event: RecordedEvent,
  options: { structuredIds: boolean; withOriginalPosition: boolean },
): ReadResp {
  return new streamsPb.ReadResp().setEvent(toReadEvent(event, options));
}
