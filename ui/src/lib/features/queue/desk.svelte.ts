// The window desk: the ticket being served at this window and everything a clerk does with it,
// shared by every tab of the counter. The F-keys act on the current ticket whichever tab is
// open (the clerk spends most of a visit on 办件, checking materials), and the current ticket
// is read again on every sign-in.
import { attempt, call, type ApiError } from '$lib/backend';
import type { CounterView } from '$lib/bindings/CounterView';
import { live } from '$lib/live.svelte';

export type DeskPanel = 'none' | 'transfer' | 'pause' | 'specific';

/** The F-keys of the counter, in the order the console lists them. */
export const SHORTCUTS: readonly { key: string; label: string }[] = [
  { key: 'F1', label: 'counter.callNext' },
  { key: 'F2', label: 'counter.recall' },
  { key: 'F3', label: 'counter.start' },
  { key: 'F4', label: 'counter.finish' },
  { key: 'F6', label: 'counter.noShow' },
  { key: 'F7', label: 'counter.hold' },
  { key: 'F8', label: 'counter.transfer' },
  { key: 'F9', label: 'counter.pauseResume' },
];

export class WindowDesk {
  readonly counter = live('queue.counter', {});
  error = $state<ApiError | null>(null);
  panel = $state<DeskPanel>('none');

  get view(): CounterView | null {
    return this.counter.data;
  }
  get current() {
    return this.counter.data?.current ?? null;
  }

  private async run(change: () => Promise<unknown>) {
    this.error = await attempt(change);
    await this.counter.reload();
  }
  callNext = () => {
    // A performance mark: the end-to-end suite measures from here to the display showing it.
    performance.mark('onetrip:call-next');
    return this.run(() => call('queue.call_next', {}));
  };
  private onTicket(name: 'queue.recall' | 'queue.start' | 'queue.finish' | 'queue.no_show') {
    const c = this.current;
    if (c) return this.run(() => call(name, { ticket_id: c.id }));
  }
  recall = () => this.onTicket('queue.recall');
  start = () => this.onTicket('queue.start');
  finish = () => this.onTicket('queue.finish');
  noShow = () => this.onTicket('queue.no_show');
  hold = () => {
    const c = this.current;
    if (c) return this.run(() => call('queue.hold', { ticket_id: c.id, reason: '' }));
  };
  callBack = (ticketId: string) => this.run(() => call('queue.call_back', { ticket_id: ticketId }));
  transfer = (toCategory: string | null, toWindow: string | null) => {
    const c = this.current;
    if (!c) return;
    return this.run(async () => {
      await call('queue.transfer', { ticket_id: c.id, to_category_id: toCategory, to_window_id: toWindow, reason: '' });
      this.panel = 'none';
    });
  };
  pause = (reason: string) =>
    this.run(async () => {
      await call('queue.pause', { reason });
      this.panel = 'none';
    });
  resume = () => this.run(() => call('queue.resume', {}));
  callSpecific = (ticketId: string, reason: string) =>
    this.run(async () => {
      await call('queue.call_specific', { ticket_id: ticketId, reason });
      this.panel = 'none';
    });
  togglePanel(p: DeskPanel) {
    this.panel = this.panel === p ? 'none' : p;
  }

  /**
   * A key pressed anywhere on the counter. True when it was one of the desk's: the caller
   * stops it there, and shows the queue tab when the key opened a panel (F8, F9).
   */
  key(e: KeyboardEvent): { handled: boolean; panel: boolean } {
    const v = this.view;
    if (!v) return { handled: false, panel: false };
    switch (e.key) {
      case 'F1':
        if (!this.current && !v.paused) this.callNext();
        break;
      case 'F2':
        this.recall();
        break;
      case 'F3':
        this.start();
        break;
      case 'F4':
        this.finish();
        break;
      case 'F6':
        this.noShow();
        break;
      case 'F7':
        this.hold();
        break;
      case 'F8':
        if (this.current) this.togglePanel('transfer');
        return { handled: true, panel: true };
      case 'F9':
        if (v.paused) this.resume();
        else {
          this.togglePanel('pause');
          return { handled: true, panel: true };
        }
        break;
      default:
        return { handled: false, panel: false };
    }
    return { handled: true, panel: false };
  }
}
