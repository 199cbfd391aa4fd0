// The queue as each screen sees it, reloaded whole on every committed change in the hall.
// The board serves the kiosk and the display; the counter view serves the clerk's console.
import type { QueueBoard } from '$lib/bindings/QueueBoard';
import { live } from '$lib/live.svelte';

// The kiosk's issuing hours and the display's clock move with time, not only with events.
export const liveQueueBoard = (onLoad?: (b: QueueBoard) => void) => live('queue.board', {}, { everyMs: 60_000, onLoad });

export const liveCounter = () => live('queue.counter', {});

/** Whole minutes between an ISO instant and now. */
export function minutesSince(iso: string, now: { getTime(): number }): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
}
