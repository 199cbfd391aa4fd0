// The queue as each screen sees it, reloaded whole on every committed change in the hall
// (events, not polling). The board serves the kiosk and the display; the counter view serves
// the clerk's console.
import { call, onHallEvent, toApiError, type ApiError } from '$lib/backend';
import type { CounterView } from '$lib/bindings/CounterView';
import type { QueueBoard } from '$lib/bindings/QueueBoard';

export function liveQueueBoard(onLoad?: (b: QueueBoard) => void) {
  const state = $state<{ board: QueueBoard | null; error: ApiError | null }>({ board: null, error: null });
  async function load() {
    try {
      const b = await call('queue.board', {});
      state.board = b;
      state.error = null;
      onLoad?.(b);
    } catch (e) {
      state.error = toApiError(e);
    }
  }
  $effect(() => {
    load();
    let off: (() => void) | undefined;
    onHallEvent(() => load()).then((f) => (off = f));
    // The kiosk's issuing hours and the display's clock move with time, not only with events.
    const id = setInterval(load, 60_000);
    return () => {
      off?.();
      clearInterval(id);
    };
  });
  return state;
}

export function liveCounter() {
  const state = $state<{ view: CounterView | null; error: ApiError | null }>({ view: null, error: null });
  async function load() {
    try {
      state.view = await call('queue.counter', {});
      state.error = null;
    } catch (e) {
      state.error = toApiError(e);
    }
  }
  $effect(() => {
    load();
    let off: (() => void) | undefined;
    onHallEvent(() => load()).then((f) => (off = f));
    return () => off?.();
  });
  return { state, reload: load };
}

/** Whole minutes between an ISO instant and now. */
export function minutesSince(iso: string, now: { getTime(): number }): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
}
