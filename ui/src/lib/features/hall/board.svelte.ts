// The hall board (hall, windows with who is on duty, categories), kept live by events.
import { call, onHallEvent } from '$lib/backend';
import type { HallBoard } from '$lib/bindings/HallBoard';

export function liveBoard() {
  const state = $state<{ board: HallBoard | null; error: unknown }>({ board: null, error: null });
  async function load() {
    try {
      state.board = await call('hall.board', {});
      state.error = null;
    } catch (e) {
      state.error = e;
    }
  }
  $effect(() => {
    load();
    let off: (() => void) | undefined;
    onHallEvent(() => load()).then((f) => (off = f));
    return () => off?.();
  });
  return state;
}
