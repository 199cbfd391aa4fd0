// Signing out when the clerk leaves the window (离岗自动退出): after the hall's `idle_minutes`
// without pointer or keyboard input the counter signs its clerk out, so nobody acts under the
// name of a clerk who walked away. The core records the reason (`auth.sign_out` reason `idle`).

/** The input that counts as "the clerk is here". */
export const PRESENCE_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

/**
 * Call `onIdle` once after `minutes` without input on `target`; each input restarts the count.
 * `minutes` 0 watches nothing. Returns the function that stops watching.
 */
export function watchIdle(minutes: number, onIdle: () => void, target: EventTarget): () => void {
  if (!(minutes > 0)) return () => {};
  const ms = minutes * 60_000;
  let fired = false;
  let timer = setTimeout(fire, ms);
  function fire() {
    fired = true;
    onIdle();
  }
  function reset() {
    if (fired) return;
    clearTimeout(timer);
    timer = setTimeout(fire, ms);
  }
  for (const e of PRESENCE_EVENTS) target.addEventListener(e, reset, { passive: true });
  return () => {
    clearTimeout(timer);
    for (const e of PRESENCE_EVENTS) target.removeEventListener(e, reset);
  };
}
