// The one backend interface the UI talks to, with two transports that behave the same:
// - Tauri IPC on the desktop in embedded mode (the local SQLite file), and
// - HTTP + WebSocket to the hall server (`onetrip serve`): in any browser on the hall's LAN
//   (kiosk, display) and on a desktop connected to a hall server (settings, hall mode).
// Native printing, voice and windows stay on the desktop that owns them (IPC in both modes).
// See ARCHITECTURE.md ("Hall mode").
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { CoreError } from './bindings/CoreError';
import type { ErrorCode } from './bindings/ErrorCode';
import type { HallEvent } from './bindings/HallEvent';
import { OPERATIONS, type OperationName, type Operations } from './bindings/operations';
import { connection } from './connection.svelte';

/** Where the desktop keeps the hall server's address when it is in hall mode. */
export const HALL_SERVER_KEY = 'onetrip.hallServer';
/** A browser kiosk's or display's device token (given once as `?device=…`). */
const DEVICE_KEY = 'onetrip.deviceToken';
/** The pages a device token opens (the `source` of their requests). */
const DEVICE_PAGES = new Set(['kiosk', 'display', 'rater', 'window']);

const inTauri = typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;

type Transport = { kind: 'ipc' } | { kind: 'http'; base: string };

function detectTransport(): Transport {
  if (typeof window === 'undefined') return { kind: 'ipc' };
  if (inTauri) {
    const hall = localStorage.getItem(HALL_SERVER_KEY);
    return hall ? { kind: 'http', base: hall.replace(/\/+$/, '') } : { kind: 'ipc' };
  }
  return { kind: 'http', base: window.location.origin };
}

const transport: Transport = detectTransport();

/** The device token for a browser kiosk or display: from `?device=` (then remembered). */
function deviceToken(): string | null {
  if (typeof window === 'undefined') return null;
  const fromUrl = new URLSearchParams(window.location.search).get('device');
  if (fromUrl) localStorage.setItem(DEVICE_KEY, fromUrl);
  return fromUrl ?? localStorage.getItem(DEVICE_KEY);
}

/** Keep the token a pairing gave this browser: its device pages present it from now on. */
export function rememberDeviceToken(token: string) {
  localStorage.setItem(DEVICE_KEY, token);
}

/** Which transport this window uses (shown in settings and the connection banner). */
export function transportInfo(): { kind: 'ipc' | 'http'; base: string | null; native: boolean } {
  return { kind: transport.kind, base: transport.kind === 'http' ? transport.base : null, native: inTauri };
}

export const EVENT_NAME = 'onetrip://hall-event';

/** A coded failure from core (or a transport failure mapped to `internal`). */
export class ApiError extends Error {
  code: ErrorCode;
  field?: string;
  params: Record<string, string>;
  constructor(e: CoreError) {
    super(e.message);
    this.code = e.code;
    this.field = e.field;
    this.params = e.params ?? {};
  }
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) return new ApiError(e as CoreError);
  return new ApiError({ code: 'internal', message: String(e), params: {} });
}

/** Run a change: resolves to its coded error, or null when it succeeded. */
export async function attempt(change: () => Promise<unknown>): Promise<ApiError | null> {
  try {
    await change();
    return null;
  } catch (e) {
    return toApiError(e);
  }
}

let token: string | null = null;
export function setToken(t: string | null) {
  const changed = t !== token;
  token = t;
  // The live connection carries the credential it was opened with: reopen it.
  if (changed && transport.kind === 'http' && live.subscribers.size > 0) live.restart();
}

/** A credential header for HTTP, or null when the caller is anonymous. */
function authorization(): string | null {
  if (token) return `Bearer ${token}`;
  const device = deviceToken();
  return device ? `Device ${device}` : null;
}

function source(): string {
  return typeof window === 'undefined' ? 'ui' : window.location.pathname.replace(/^\/|\.html$/g, '') || 'home';
}

async function callHttp(base: string, name: string, req: unknown): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-onetrip-source': source() };
  const auth = authorization();
  if (auth) headers.authorization = auth;
  let resp: Response;
  try {
    resp = await fetch(`${base}/api/op/${name}`, { method: 'POST', headers, body: JSON.stringify(req ?? {}) });
  } catch {
    // The request never reached the server: say so; nothing was done.
    connection.reachable = false;
    live.kick();
    throw new ApiError({ code: 'server_unreachable', message: '无法连接大厅服务器，操作未完成', params: {} });
  }
  connection.reachable = true;
  // A browser device page (kiosk, display) holds no session: a 401 there means the server does
  // not know this screen. It stays so until the page is opened again with its token (public
  // reads such as the hall's name still succeed meanwhile).
  if (resp.status === 401 && !token && !inTauri && DEVICE_PAGES.has(source().replace(/\/$/, ''))) connection.unpaired = true;
  const body = await resp.json().catch(() => null);
  if (resp.ok) return body;
  if (body && typeof body === 'object' && 'code' in body) throw new ApiError(body as CoreError);
  throw new ApiError({ code: 'internal', message: `HTTP ${resp.status}`, params: {} });
}

export async function call<N extends OperationName>(name: N, req: Operations[N]['request']): Promise<Operations[N]['response']> {
  try {
    if (transport.kind === 'http') return (await callHttp(transport.base, name, req)) as Operations[N]['response'];
    return await invoke<Operations[N]['response']>(OPERATIONS[name].command, { token, req });
  } catch (e) {
    throw toApiError(e);
  }
}

/** What reloading subscribers receive after a reconnect or a `resync`: reload everything. */
function resyncEvent(): HallEvent {
  return { topic: 'hall', op: 'resync', subject_id: null, source: null, at: new Date().toISOString() };
}

/** One WebSocket per page, shared by every subscriber; it reconnects by itself (0.5 s doubling
 * to 5 s), and after a reconnect every subscriber reloads (events missed meanwhile are not
 * replayed: the state is re-read instead). */
const live = {
  subscribers: new Set<(e: HallEvent) => void>(),
  socket: null as WebSocket | null,
  delay: 500,
  timer: null as ReturnType<typeof setTimeout> | null,
  instance: null as string | null,
  everConnected: false,
  url(): string {
    const base = transport.kind === 'http' ? transport.base : '';
    const q = token ? `token=${encodeURIComponent(token)}` : deviceToken() ? `device=${encodeURIComponent(deviceToken() ?? '')}` : '';
    return `${base.replace(/^http/, 'ws')}/api/events?${q}`;
  },
  emit(e: HallEvent) {
    for (const cb of this.subscribers) cb(e);
  },
  open() {
    if (this.socket || this.subscribers.size === 0) return;
    const ws = new WebSocket(this.url());
    this.socket = ws;
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data));
      if (msg.kind === 'hello') {
        const reconnected = this.everConnected;
        this.everConnected = true;
        this.instance = msg.instance;
        this.delay = 500;
        connection.live = true;
        connection.reachable = true;
        if (reconnected) this.emit(resyncEvent());
      } else if (msg.kind === 'event') {
        this.emit(msg.event as HallEvent);
      } else if (msg.kind === 'resync') {
        this.emit(resyncEvent());
      }
    };
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = null;
      connection.live = false;
      this.schedule();
    };
    ws.onerror = () => ws.close();
  },
  schedule() {
    if (this.timer || this.subscribers.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, 5_000);
  },
  /** A request failed to reach the server: try the live connection again soon. */
  kick() {
    if (!this.socket) {
      this.delay = 500;
      this.schedule();
    }
  },
  restart() {
    const ws = this.socket;
    this.socket = null;
    ws?.close();
    this.open();
  },
};

/** Subscribe to committed changes from every window. Returns the unsubscribe function. */
export async function onHallEvent(cb: (e: HallEvent) => void): Promise<() => void> {
  if (transport.kind === 'ipc') return listen<HallEvent>(EVENT_NAME, (ev) => cb(ev.payload));
  live.subscribers.add(cb);
  live.open();
  return () => {
    live.subscribers.delete(cb);
    if (live.subscribers.size === 0) {
      const ws = live.socket;
      live.socket = null;
      ws?.close();
    }
  };
}

/**
 * The rater facing the applicant at this PC's window (评价器). On the desktop (this PC's own
 * hall) the shell binds its rater window to the window the clerk signed in at and opens it on
 * the second monitor when there is one, or when `open`; answers whether it opened. In a browser
 * or in hall mode the rater is a paired device: `open` opens the page, which pairs by code.
 */
export async function bindRater(open: boolean): Promise<boolean> {
  if (inTauri && transport.kind === 'ipc' && token) {
    return invoke<boolean>('bind_rater', { token, open });
  }
  if (open) window.open('/rater', 'onetrip-rater');
  return open;
}

export async function openWindow(label: 'counter' | 'display' | 'kiosk' | 'admin') {
  if (!inTauri) {
    window.open(`/${label}`, `onetrip-${label}`);
    return;
  }
  await invoke('open_window', { label });
}

/** Full screen for the display: the desktop window, or the browser's full-screen mode. */
export async function toggleFullscreen() {
  if (inTauri) {
    const { getCurrentWindow } = await import('@tauri-apps/api/window');
    const w = getCurrentWindow();
    await w.setFullscreen(!(await w.isFullscreen()));
  } else if (document.fullscreenElement) {
    await document.exitFullscreen();
  } else {
    await document.documentElement.requestFullscreen();
  }
}

export type FirstAdminNotice = { login: string; one_time_password: string } | null;
export async function firstAdminNotice(): Promise<FirstAdminNotice> {
  // Only the PC that holds the database shows the first admin's one-time password.
  if (transport.kind === 'http' || !inTauri) return null;
  return invoke<FirstAdminNotice>('first_admin_notice');
}

/** Print a ticket slip on this PC's ticket printer (kiosk). `printed` is false when none is set up
 * (a browser kiosk has no printer of ours: the slip is shown on screen). */
export async function printTicket(ticketId: string): Promise<{ printed: boolean; target: string | null }> {
  if (!inTauri) return { printed: false, target: null };
  try {
    if (transport.kind === 'http') {
      // Hall mode: the slip comes from the server; the printer is this PC's.
      const slip = await call('ticket.slip', { ticket_id: ticketId });
      return await invoke('print_slip', { slip });
    }
    return await invoke('print_ticket', { ticketId });
  } catch (e) {
    throw toApiError(e);
  }
}

/** Announce a call on this PC's speaker (display). False when voice is off on this PC. A browser
 * display speaks through the browser's speech synthesis when it has a Chinese voice. */
export async function announceCall(number: string, window: number, times: number): Promise<boolean> {
  if (!inTauri) {
    const synth = globalThis.speechSynthesis;
    if (!synth || !synth.getVoices().some((v) => v.lang.startsWith('zh'))) return false;
    const spoken = number.split('').join(' ');
    for (let i = 0; i < times; i++) {
      const u = new SpeechSynthesisUtterance(`请 ${spoken} 号 到 ${window} 号窗口办理`);
      u.lang = 'zh-CN';
      synth.speak(u);
    }
    return true;
  }
  return invoke<boolean>('announce_call', { number, window, times });
}

/** Show a desktop notification on this PC (false when it has no notification daemon). */
export async function desktopNotify(title: string, body: string): Promise<boolean> {
  if (!inTauri) return false;
  try {
    return await invoke<boolean>('desktop_notify', { title, body });
  } catch {
    return false;
  }
}

/** Print an issued notice (`document`) or an item's service card (`card`) on the hall's notice
 * printer. `printed` is false when no printer is set up (the PDF is archived either way). */
export async function printNotice(kind: 'document' | 'card' | 'handover', id: string): Promise<{ printed: boolean; target: string | null }> {
  if (!inTauri) return { printed: false, target: null };
  try {
    if (transport.kind === 'http') {
      // Hall mode: the PDF comes from the server; CUPS is this PC's.
      const file =
        kind === 'document'
          ? await call('document.file', { id })
          : kind === 'handover'
            ? (await call('handover.file', { id })).file
            : (await call('catalog.service_card', { item_id: id })).file;
      return await invoke('print_pdf', { file });
    }
    return await invoke('print_notice', { token, kind, id });
  } catch (e) {
    throw toApiError(e);
  }
}

/** Export the catalog as a file on this PC; resolves to where it was written. */
/** Save a file produced by an operation on this PC (its Downloads folder on the desktop, a
 * download in a browser); resolves to where it went. */
export async function saveFile(filename: string, content: string, base64: boolean): Promise<string> {
  if (inTauri) return await invoke<string>('save_download', { filename, content, base64 });
  const bytes = base64 ? Uint8Array.from(atob(content), (c) => c.charCodeAt(0)) : new TextEncoder().encode(content);
  const url = URL.createObjectURL(new Blob([bytes]));
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  a.click();
  URL.revokeObjectURL(url);
  return filename;
}

export async function exportCatalog(format: 'json' | 'xlsx'): Promise<string> {
  try {
    if (transport.kind === 'http') {
      // Hall mode: the export comes from the server and is saved on this PC.
      const file = await call('catalog.export', { format });
      return await saveFile(file.filename, file.content, format === 'xlsx');
    }
    return await invoke<string>('export_catalog', { token, format });
  } catch (e) {
    throw toApiError(e);
  }
}
