// ID card readers at the kiosk (身份证阅读器). A reader is plugged in behind one interface, so a
// vendor's SDK (a local service, a WebUSB driver) can be added later without touching the
// kiosk; the default is the keyboard mode most readers have: the reader "types" the 18
// characters of the number, fast, then Enter. People type far slower than a reader, so a burst
// of 18 valid characters within a second followed by Enter is a card, anything else is not.

export interface IdReader {
  /** Start listening; `onId` gets each number read. Returns the function that stops it. */
  start(onId: (id: string) => void): () => void;
}

/** The state of the keyboard-mode recogniser: the burst so far and when it started. */
export interface Burst {
  chars: string;
  startedAt: number;
  lastAt: number;
}

/** Longest a reader takes for the whole number, and between two characters. */
export const BURST_MS = 1_000;
export const GAP_MS = 120;

/** Feed one key at `now`: the new burst, and the number when this key completes one. */
export function feed(b: Burst, key: string, now: number): { burst: Burst; id: string | null } {
  const fresh: Burst = { chars: '', startedAt: now, lastAt: now };
  if (key === 'Enter') {
    const ok = /^\d{17}[\dX]$/.test(b.chars) && now - b.startedAt <= BURST_MS;
    return { burst: fresh, id: ok ? b.chars : null };
  }
  const k = key.length === 1 ? key.toUpperCase() : '';
  if (!/^[\dX]$/.test(k)) return { burst: fresh, id: null };
  const start = b.chars === '' || now - b.lastAt > GAP_MS ? { ...fresh } : b;
  return { burst: { chars: (start.chars + k).slice(-18), startedAt: start.startedAt, lastAt: now }, id: null };
}

/** The default reader: keyboard mode (see above), listening on the whole page. */
export const keyboardReader: IdReader = {
  start(onId) {
    let burst: Burst = { chars: '', startedAt: 0, lastAt: 0 };
    const onKey = (e: KeyboardEvent) => {
      const r = feed(burst, e.key, performance.now());
      burst = r.burst;
      if (r.id) {
        e.preventDefault();
        onId(r.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  },
};
