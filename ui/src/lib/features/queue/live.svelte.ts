// The queue as each screen sees it. The board serves the kiosk and the display: a queue event
// paints it in place from what the event carries (the call, the counts, the window's current
// ticket), so a hall's displays and kiosks add no reads per call; other relevant events re-read
// it, coalesced. The counter view serves the clerk's console and re-reads (coalesced).
import type { HallEvent } from '$lib/bindings/HallEvent';
import type { QueueBoard } from '$lib/bindings/QueueBoard';
import type { QueuePaint } from '$lib/bindings/QueuePaint';
import { live } from '$lib/live.svelte';

/** How many calls the display keeps (core's RECENT_CALLS). */
const RECENT_CALLS = 10;

/** Events that can change what the queue screens show: not reports, the catalog, or cases
 * (except a handover, which routes a window's queue). */
export function queueRelevant(e: HallEvent): boolean {
  if (e.topic === 'report' || e.topic === 'catalog') return false;
  if (e.topic === 'case') return e.op.startsWith('handover.');
  return true;
}

/** Apply a queue event's paint to the board in place; `false` when the board must be re-read. */
export function paintBoard(b: QueueBoard, e: HallEvent): boolean {
  if (e.topic !== 'queue' || !e.paint) return false;
  const p = e.paint as QueuePaint;
  const cats = p.counts.map((c) => [c, b.categories.find((x) => x.category.id === c.category_id)] as const);
  const win = p.window ? b.windows.find((w) => w.window.id === p.window?.window_id) : undefined;
  // Something this board has not read yet (a new category or window): read it.
  if (cats.some(([, x]) => !x) || (p.window && !win)) return false;
  for (const [c, x] of cats) {
    if (!x) continue;
    x.waiting = c.waiting;
    x.priority_waiting = c.priority_waiting;
    x.issued_today = c.issued_today;
    x.remaining = c.remaining;
    x.estimated_minutes = c.estimated_minutes;
    if (c.remaining === 0) {
      x.closed = 'sold_out';
      x.issuing_now = false;
    }
  }
  if (win && p.window) win.current = p.window.current;
  const call = p.call;
  if (call && !b.recent_calls.some((c) => c.seq === call.seq)) {
    b.recent_calls = [call, ...b.recent_calls].sort((a, z) => z.seq - a.seq).slice(0, RECENT_CALLS);
  }
  return true;
}

// The kiosk's issuing hours and the display's clock move with time, not only with events.
export const liveQueueBoard = (onLoad?: (b: QueueBoard) => void) =>
  live('queue.board', {}, { everyMs: 60_000, onLoad, relevant: queueRelevant, paint: paintBoard });

export const liveCounter = () => live('queue.counter', {}, { relevant: queueRelevant });

/** Whole minutes between an ISO instant and now. */
export function minutesSince(iso: string, now: { getTime(): number }): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
}
