// How a queue event paints the board in place (see live.svelte.ts): no Svelte here, so the
// rules are unit-tested on plain objects.
import type { HallEvent } from '$lib/bindings/HallEvent';
import type { QueueBoard } from '$lib/bindings/QueueBoard';
import type { QueuePaint } from '$lib/bindings/QueuePaint';

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
