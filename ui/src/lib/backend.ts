// The one backend interface the UI talks to. Today its transport is Tauri IPC; hall mode adds
// HTTP/WebSocket behind the same `call` / `onEvent` (see ARCHITECTURE.md).
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { CoreError } from './bindings/CoreError';
import type { ErrorCode } from './bindings/ErrorCode';
import type { HallEvent } from './bindings/HallEvent';
import { OPERATIONS, type OperationName, type Operations } from './bindings/operations';

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
  token = t;
}

export async function call<N extends OperationName>(name: N, req: Operations[N]['request']): Promise<Operations[N]['response']> {
  try {
    return await invoke<Operations[N]['response']>(OPERATIONS[name].command, { token, req });
  } catch (e) {
    throw toApiError(e);
  }
}

/** Subscribe to committed changes from every window. Returns the unsubscribe function. */
export async function onHallEvent(cb: (e: HallEvent) => void): Promise<() => void> {
  return listen<HallEvent>(EVENT_NAME, (ev) => cb(ev.payload));
}

export async function openWindow(label: 'counter' | 'display' | 'kiosk' | 'admin') {
  await invoke('open_window', { label });
}

export type FirstAdminNotice = { login: string; one_time_password: string } | null;
export async function firstAdminNotice(): Promise<FirstAdminNotice> {
  return invoke<FirstAdminNotice>('first_admin_notice');
}

/** Print a ticket slip on this PC's ticket printer (kiosk). `printed` is false when none is set up. */
export async function printTicket(ticketId: string): Promise<{ printed: boolean; target: string | null }> {
  try {
    return await invoke('print_ticket', { ticketId });
  } catch (e) {
    throw toApiError(e);
  }
}

/** Announce a call on this PC's speaker (display). False when voice is off on this PC. */
export async function announceCall(number: string, window: number, times: number): Promise<boolean> {
  return invoke<boolean>('announce_call', { number, window, times });
}

/** Show a desktop notification on this PC (false when it has no notification daemon). */
export async function desktopNotify(title: string, body: string): Promise<boolean> {
  try {
    return await invoke<boolean>('desktop_notify', { title, body });
  } catch {
    return false;
  }
}

/** Print an issued notice (`document`) or an item's service card (`card`) on the hall's notice
 * printer. `printed` is false when no printer is set up (the PDF is archived either way). */
export async function printNotice(kind: 'document' | 'card' | 'handover', id: string): Promise<{ printed: boolean; target: string | null }> {
  try {
    return await invoke('print_notice', { token, kind, id });
  } catch (e) {
    throw toApiError(e);
  }
}

/** Export the catalog as a file on this PC; resolves to where it was written. */
export async function exportCatalog(format: 'json' | 'xlsx'): Promise<string> {
  try {
    return await invoke<string>('export_catalog', { token, format });
  } catch (e) {
    throw toApiError(e);
  }
}
