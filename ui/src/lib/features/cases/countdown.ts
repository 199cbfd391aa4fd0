// How a clock reads on screen: "剩 3 个工作日", "今天 17:00 到期", "已超期 2 个工作日",
// "已暂停 · 剩 4 个工作日", or the timing once decided. Pure, so it is unit-tested.
import type { ClockView } from '$lib/bindings/ClockView';
import type { Deadlines } from '$lib/bindings/Deadlines';
import { hhmm } from '$lib/time';

type T = (key: string, params?: Record<string, string | number>) => string;

export function clockText(t: T, c: ClockView, d: Pick<Deadlines, 'paused' | 'stopped' | 'timing'>): string {
  let text: string;
  if (d.stopped && d.timing) text = t(`case.timing.${d.timing}`);
  else if (d.paused) text = t('case.countdown.paused', { n: c.working_days_left });
  else if (c.overdue && c.working_days_left < 0) text = t('case.countdown.overdue', { n: -c.working_days_left });
  else if (c.overdue) text = t('case.countdown.overdueToday', { time: hhmm(c.due_at) });
  else if (c.working_days_left === 0) text = t('case.countdown.today', { time: hhmm(c.due_at) });
  else text = t('case.countdown.left', { n: c.working_days_left });
  return c.provisional && !d.stopped ? t('case.provisionalMark', { text }) : text;
}
