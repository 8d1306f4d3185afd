// One event of either daemon (an entry down, a group restart, a final action …) as alerts, the
// web page's live feed and metrics take it (src/core/events.ts).
import type { EventKind, ProcsafeEvent } from '../../core/events';

export type EventFields = Record<string, string | number | null>;

export function buildEvent(kind: EventKind, server: string, subject: string, message: string, fields: EventFields, at = Date.now()): ProcsafeEvent {
  return { kind, at, server, subject, message, fields };
}
