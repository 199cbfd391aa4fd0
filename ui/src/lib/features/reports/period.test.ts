import { describe, expect, it } from 'vitest';
import { periodOf } from './period';

describe('report quick periods (Beijing dates)', () => {
  // 2026-11-22T18:30Z is Monday 2026-11-23 02:30 in Beijing.
  const now = new Date('2026-11-22T18:30:00Z');
  it.each([
    ['today', '2026-11-23', '2026-11-23'],
    ['week', '2026-11-23', '2026-11-23'],
    ['month', '2026-11-01', '2026-11-23'],
    ['lastMonth', '2026-10-01', '2026-10-31'],
    ['year', '2026-01-01', '2026-11-23'],
  ] as const)('%s', (k, from, to) => {
    expect(periodOf(k, now)).toEqual({ from, to });
  });
  it('a week runs from Monday, and January goes back to last December', () => {
    expect(periodOf('week', new Date('2026-11-29T04:00:00Z'))).toEqual({ from: '2026-11-23', to: '2026-11-29' });
    expect(periodOf('lastMonth', new Date('2027-01-10T04:00:00Z'))).toEqual({ from: '2026-12-01', to: '2026-12-31' });
  });
});
