// The queue as each screen sees it. The board serves the kiosk and the display: a queue event
// paints it in place from what the event carries (the call, the counts, the window's current
// ticket), so a hall's displays and kiosks add no reads per call; other relevant events re-read
// it, coalesced. The counter view serves the clerk's console and re-reads (coalesced).
import type { QueueBoard } from '$lib/bindings/QueueBoard';
import { live } from '$lib/live.svelte';
import { paintBoard, queueRelevant } from './paint';

// The kiosk's issuing hours and the display's clock move with time, not only with events.
export const liveQueueBoard = (onLoad?: (b: QueueBoard) => void) =>
  live('queue.board', {}, { everyMs: 60_000, onLoad, relevant: queueRelevant, paint: paintBoard });

export const liveCounter = () => live('queue.counter', {}, { relevant: queueRelevant });

/** Whole minutes between an ISO instant and now. */
export function minutesSince(iso: string, now: { getTime(): number }): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
}
