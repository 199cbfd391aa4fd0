// The signed-in staff member of this window. Each window signs in on its own (the counter at
// a window, the admin window as a supervisor); the token lives only in this webview's memory
// and sessionStorage, never on disk.
import type { SessionInfo } from './bindings/SessionInfo';
import { setToken } from './backend';

const KEY = 'onetrip.session';

export const session = $state<{ current: SessionInfo | null }>({ current: null });

export function signedIn(s: SessionInfo) {
  session.current = s;
  setToken(s.token);
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function signedOut() {
  session.current = null;
  setToken(null);
  sessionStorage.removeItem(KEY);
}

export function restoreSession() {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return;
  try {
    const s = JSON.parse(raw) as SessionInfo;
    session.current = s;
    setToken(s.token);
  } catch {
    sessionStorage.removeItem(KEY);
  }
}
