/**
 * What a fresh node has written to `$all` before any client: here, the default users the
 * user-management service creates (`$UserCreated` in `$user-admin` and `$user-ops`, `$User` in
 * the `$users` index stream). The exact set a 24.10 node writes was not established from the
 * source (see docs/ESDB-DOUBLE.md); what matters to readers is that `$all` starts with events
 * whose streams and types begin with `$`, which every reader of `$all` must skip.
 */
import { randomUUID } from 'node:crypto';

import type { EventLog } from './store.js';

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value), 'utf8');

function userCreated(login: string, fullName: string, groups: string[]) {
  return { LoginName: login, FullName: fullName, Disabled: false, Groups: groups };
}

export function writeStartupEvents(log: EventLog): void {
  const write = (streamId: string, type: string, data: unknown): void => {
    const event = {
      id: randomUUID(),
      type,
      contentType: 'application/json',
      data: json(data),
      metadata: new Uint8Array(),
    };
    log.append(streamId, { kind: 'any' }, [event]);
  };
  write('$user-admin', '$UserCreated', userCreated('admin', 'Event Store Administrator', ['$admins']));
  write('$users', '$User', { LoginName: 'admin' });
  write('$user-ops', '$UserCreated', userCreated('ops', 'Event Store Operations', ['$ops']));
  write('$users', '$User', { LoginName: 'ops' });
}
