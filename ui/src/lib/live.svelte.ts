// A read operation kept live: loaded when the screen opens, when the staff member signed in at
// this window changes, and again after committed changes in the hall (events, not polling),
// optionally also on a timer for what moves with the clock alone (issuing hours).
// One mechanism for every live screen.
//
// A hall has dozens of screens open and a busy day commits many changes a second, so a screen:
// - ignores events that cannot change what it shows (`relevant`);
// - paints what the event itself carries (`paint`: the display shows a call from its event,
//   without a read);
// - otherwise re-reads, at most once per RELOAD_GAP_MS: a burst of events while a read is in
//   flight or just done becomes one read after it, never one per event.
import { call, onHallEvent, toApiError, type ApiError } from './backend';
import type { HallEvent } from './bindings/HallEvent';
import type { OperationName, Operations } from './bindings/operations';
import { session } from './session.svelte';

/** The shortest time between two reads of one screen caused by events. */
export const RELOAD_GAP_MS = 200;

export function live<N extends OperationName>(
  name: N,
  req: Operations[N]['request'],
  opts: {
    everyMs?: number;
    onLoad?: (v: Operations[N]['response']) => void;
    /** Whether an event can change this read (default: every event). */
    relevant?: (e: HallEvent) => boolean;
    /** Apply the event to the data in place; `true` when that is all it needed (no read). */
    paint?: (data: Operations[N]['response'], e: HallEvent) => boolean;
  } = {},
) {
  const state = $state<{ data: Operations[N]['response'] | null; error: ApiError | null; reload: () => Promise<void> }>({
    data: null,
    error: null,
    reload: load,
  });
  async function load() {
    try {
      const v = await call(name, req);
      state.data = v;
      state.error = null;
      opts.onLoad?.(v);
    } catch (e) {
      state.error = toApiError(e);
    }
  }

  // Coalescing: one read in flight at a time, started at least RELOAD_GAP_MS after the last.
  let inFlight = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastStart = -Infinity;
  function request() {
    if (timer) return; // a read is already scheduled and will see this change
    if (inFlight) {
      again = true;
      return;
    }
    const wait = Math.max(0, lastStart + RELOAD_GAP_MS - performance.now());
    timer = setTimeout(run, wait);
  }
  async function run() {
    timer = null;
    inFlight = true;
    lastStart = performance.now();
    await load();
    inFlight = false;
    if (again) {
      again = false;
      request();
    }
  }
  function onEvent(e: HallEvent) {
    if (e.op === 'resync') return request();
    if (opts.relevant && !opts.relevant(e)) return;
    if (opts.paint && state.data && opts.paint(state.data, e)) {
      opts.onLoad?.(state.data);
      return;
    }
    request();
  }

  $effect(() => {
    // Read again when the signed-in staff member changes (a new sign-in at this window): a
    // screen never keeps what it read under the previous session, nor an error from before it.
    void session.current?.token;
    load();
    let off: (() => void) | undefined;
    onHallEvent(onEvent).then((f) => (off = f));
    const id = opts.everyMs ? setInterval(load, opts.everyMs) : undefined;
    return () => {
      off?.();
      if (id) clearInterval(id);
      if (timer) clearTimeout(timer);
      timer = null;
    };
  });
  return state;
}
