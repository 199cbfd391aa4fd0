// A read operation kept live: loaded when the screen opens, when the staff member signed in at
// this window changes, and again after every committed change in the hall (events, not
// polling), optionally also on a timer for what moves with the clock alone (issuing hours).
// One mechanism for every live screen.
import { call, onHallEvent, toApiError, type ApiError } from './backend';
import type { OperationName, Operations } from './bindings/operations';
import { session } from './session.svelte';

export function live<N extends OperationName>(
  name: N,
  req: Operations[N]['request'],
  opts: { everyMs?: number; onLoad?: (v: Operations[N]['response']) => void } = {},
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
  $effect(() => {
    // Read again when the signed-in staff member changes (a new sign-in at this window): a
    // screen never keeps what it read under the previous session, nor an error from before it.
    void session.current?.token;
    load();
    let off: (() => void) | undefined;
    onHallEvent(() => load()).then((f) => (off = f));
    const id = opts.everyMs ? setInterval(load, opts.everyMs) : undefined;
    return () => {
      off?.();
      if (id) clearInterval(id);
    };
  });
  return state;
}
