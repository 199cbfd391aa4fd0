import { describe, expect, it } from 'vitest';
import type { ClockView } from '$lib/bindings/ClockView';
import { translate } from '$lib/i18n/index.svelte';
import { clockText } from './countdown';

const t = (k: string, p: Record<string, string | number> = {}) => translate('zh-CN', k, p);
const clock = (over: Partial<ClockView>): ClockView => ({
  limit_days: 5,
  due_date: '2026-11-30',
  due_at: '2026-11-30T09:00:00Z',
  working_days_left: 3,
  working_minutes_left: 3 * 390,
  overdue: false,
  provisional: false,
  ...over,
});
const running = { paused: false, stopped: false, timing: null };

describe('clockText', () => {
  it('counts working days, then the due hour, then the overdue days', () => {
    expect(clockText(t, clock({}), running)).toBe('剩 3 个工作日');
    expect(clockText(t, clock({ working_days_left: 0 }), running)).toBe('今天 17:00 到期');
    expect(clockText(t, clock({ working_days_left: 0, overdue: true }), running)).toBe('已超期（17:00 到期）');
    expect(clockText(t, clock({ working_days_left: -2, overdue: true }), running)).toBe('已超期 2 个工作日');
  });
  it('says paused, provisional and the timing once decided', () => {
    expect(clockText(t, clock({ working_days_left: 4 }), { ...running, paused: true })).toBe('已暂停 · 剩 4 个工作日');
    expect(clockText(t, clock({ provisional: true }), running)).toBe('剩 3 个工作日（暂定）');
    expect(clockText(t, clock({}), { paused: false, stopped: true, timing: 'early' })).toBe('提前办结');
  });
});
